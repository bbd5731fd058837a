/**
 * CIDR prefixes, one parser for all of flowcast: the configuration's checks, the collector's
 * allow-list of exporter networks, and the host groups matched at detection time (once per
 * candidate address and tick, never per record). IPv4 prefixes compare as 32-bit integers, IPv6
 * ones as bigints.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type Prefix =
  | { readonly family: 4; readonly base: number; readonly bits: number; readonly text: string }
  | { readonly family: 6; readonly base: bigint; readonly bits: number; readonly text: string };

/** An IPv4 address in dotted form as an unsigned 32-bit integer (the caller checked isIPv4). */
export function ipv4ToNumber(text: string): number {
  const [a, b, c, d] = text.split('.').map(Number);
  return ((a! << 24) | (b! << 16) | (c! << 8) | d!) >>> 0;
}

/** An IPv6 address (any valid text form, including an IPv4 tail) as a 128-bit bigint. */
export function ipv6ToBigInt(text: string): bigint {
  let head = text;
  const tail: number[] = [];
  const lastColon = head.lastIndexOf(':');
  if (head.includes('.', lastColon)) {
    const v4 = ipv4ToNumber(head.slice(lastColon + 1));
    tail.push(v4 >>> 16, v4 & 0xffff);
    head = head.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const [left = '', right] = head.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const fill = 8 - tail.length - l.length - r.length;
  const all =
    right === undefined ? [...l, ...tail] : [...l, ...new Array<number>(fill).fill(0), ...r, ...tail];
  let value = 0n;
  for (const g of all) value = (value << 16n) | BigInt(g);
  return value;
}

/** Parses "a.b.c.d/n", "x::/n" or a bare address (a host route); undefined when invalid. */
export function parsePrefix(text: string): Prefix | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const bitsText = slash < 0 ? undefined : text.slice(slash + 1);
  if (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) return undefined;
  if (isIPv4(address)) {
    const bits = bitsText === undefined ? 32 : Number(bitsText);
    if (bits > 32) return undefined;
    const mask = bits === 0 ? 0 : (0xffff_ffff << (32 - bits)) >>> 0;
    return { family: 4, base: (ipv4ToNumber(address) & mask) >>> 0, bits, text };
  }
  if (isIPv6(address) && !address.includes('%')) {
    const bits = bitsText === undefined ? 128 : Number(bitsText);
    if (bits > 128) return undefined;
    const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(128 - bits);
    return { family: 6, base: ipv6ToBigInt(address) & mask, bits, text };
  }
  return undefined;
}

/** Whether `prefix` holds the IPv4 address `v4` (integer) or IPv6 address `v6`. */
export function prefixHolds(prefix: Prefix, v4: number | undefined, v6: bigint | undefined): boolean {
  if (prefix.family === 4) {
    if (v4 === undefined) return false;
    const mask = prefix.bits === 0 ? 0 : (0xffff_ffff << (32 - prefix.bits)) >>> 0;
    return (v4 & mask) >>> 0 === prefix.base;
  }
  if (v6 === undefined) return false;
  const mask = prefix.bits === 0 ? 0n : ((1n << BigInt(prefix.bits)) - 1n) << BigInt(128 - prefix.bits);
  return (v6 & mask) === prefix.base;
}
