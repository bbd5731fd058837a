/**
 * Big-endian readers for reduced-size integers (RFC 7011 section 6.2) and the other abstract data
 * types of RFC 7011 section 6.1, shared by the v9 and IPFIX template compilers.
 *
 * Every reader takes the datagram bytes and an offset already checked against the record bounds:
 * bounds are the caller's job, done once per record rather than once per field.
 */
import { formatIPv4, formatIPv6, formatMac } from './addr.js';
import type { Counter, FieldValue } from './flow.js';
import type { AbstractType } from './ie/types.js';

/** Seconds between the NTP era 0 epoch (1900) and the Unix epoch (RFC 7011 section 6.1.9). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;
const TWO_32 = 4_294_967_296;
/** Above this high word a 64-bit value no longer fits a safe integer. */
const SAFE_HIGH_WORD = 0x20_0000;

/** Reads an unsigned integer of 1 to 4 bytes as a number. */
export function readUintSmall(b: Uint8Array, o: number, len: number): number {
  switch (len) {
    case 1:
      return b[o]!;
    case 2:
      return (b[o]! << 8) | b[o + 1]!;
    case 3:
      return (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
    default:
      return ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
  }
}

/** Reads a big-endian unsigned 32-bit integer. */
export function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

/**
 * Reads a big-endian 32-bit word as a signed integer: a small integer to V8 whatever its top bit,
 * where an unsigned one above 2^31 would be a heap number (for IPv6 address words).
 */
export function readI32(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

/** Reads a big-endian unsigned 16-bit integer. */
export function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/**
 * Reads an unsigned integer of 1 to 8 bytes: a number while it is a safe integer, a bigint above.
 */
export function readCounter(b: Uint8Array, o: number, len: number): Counter {
  if (len <= 4) return readUintSmall(b, o, len);
  if (len === 8) {
    const hi8 = readU32(b, o);
    return hi8 < SAFE_HIGH_WORD
      ? hi8 * TWO_32 + readU32(b, o + 4)
      : (BigInt(hi8) << 32n) | BigInt(readU32(b, o + 4));
  }
  const hiLen = len - 4;
  const hi = readUintSmall(b, o, hiLen);
  const lo = readU32(b, o + hiLen);
  if (hi < SAFE_HIGH_WORD) return hi * TWO_32 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Reads a two's-complement signed integer of 1 to 8 bytes. */
export function readSigned(b: Uint8Array, o: number, len: number): number | bigint {
  if (len <= 4) {
    const v = readUintSmall(b, o, len);
    const shift = 32 - len * 8;
    return shift === 0 ? v | 0 : (v << shift) >> shift;
  }
  let v = 0n;
  for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(b[o + i]!);
  const signed = BigInt.asIntN(len * 8, v);
  return signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(signed)
    : signed;
}

/** Reads any unsigned integer as a number, losing precision above 2^53 (for ids and rates). */
export function readUintNumber(b: Uint8Array, o: number, len: number): number {
  if (len <= 4) return readUintSmall(b, o, len);
  const hiLen = len - 4;
  return readUintSmall(b, o, Math.min(hiLen, 4)) * TWO_32 + readU32(b, o + hiLen);
}

/** Converts an NTP timestamp (seconds since 1900, 2^-32 fractions) to Unix milliseconds. */
export function ntpToUnixMs(seconds: number, fraction: number, micro: boolean): number {
  // dateTimeMicroseconds ignores the 11 low bits of the fraction (RFC 7011 section 6.1.9).
  const frac = micro ? fraction - (fraction % 2048) : fraction;
  return (seconds - NTP_UNIX_OFFSET_S) * 1000 + (frac / TWO_32) * 1000;
}

/** Reads a dateTime* element as Unix milliseconds, or undefined when the length does not fit. */
export function readDateTimeMs(
  b: Uint8Array,
  o: number,
  len: number,
  type: AbstractType,
): number | undefined {
  switch (type) {
    case 'dateTimeSeconds':
      return len >= 1 && len <= 8 ? readUintNumber(b, o, len) * 1000 : undefined;
    case 'dateTimeMilliseconds':
      return len >= 1 && len <= 8 ? readUintNumber(b, o, len) : undefined;
    case 'dateTimeMicroseconds':
    case 'dateTimeNanoseconds':
      return len === 8
        ? ntpToUnixMs(readU32(b, o), readU32(b, o + 4), type === 'dateTimeMicroseconds')
        : undefined;
    default:
      return undefined;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Lower-case hex of a byte range: the JSON form of octetArray and of anything we cannot type. */
export function toHex(b: Uint8Array, o: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += HEX[b[o + i]!]!;
  return s;
}
const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The largest |Unix ms| a JavaScript Date holds (ECMA-262 21.4.1.1): times beyond it are invalid. */
export const MAX_TIME_MS = 8.64e15;

/** Whether `ms` is a time a Date can hold. */
export function isValidTime(ms: number): boolean {
  return ms >= -MAX_TIME_MS && ms <= MAX_TIME_MS;
}

/** Formats a Unix millisecond time as ISO-8601, keeping sub-millisecond digits when present. */
export function isoTime(ms: number): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return String(ms);
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString();
  const fracNs = Math.round((ms - whole) * 1e6);
  if (fracNs === 0) return iso;
  return `${iso.slice(0, -1)}${String(fracNs).padStart(6, '0').replace(/0+$/, '')}Z`;
}

/**
 * Decodes one element of a known abstract type into its JSON-ready value. Lengths that do not fit
 * the type fall back to hex so that nothing is silently misread.
 */
export function readValue(b: Uint8Array, o: number, len: number, type: AbstractType): FieldValue {
  switch (type) {
    case 'unsigned8':
    case 'unsigned16':
    case 'unsigned32':
    case 'unsigned64':
      return len >= 1 && len <= 8 ? readCounter(b, o, len) : toHex(b, o, len);
    case 'signed8':
    case 'signed16':
    case 'signed32':
    case 'signed64':
      return len >= 1 && len <= 8 ? readSigned(b, o, len) : toHex(b, o, len);
    case 'float32':
    case 'float64': {
      if (len !== 4 && len !== 8) return toHex(b, o, len);
      const dv = new DataView(b.buffer, b.byteOffset + o, len);
      const v = len === 4 ? dv.getFloat32(0) : dv.getFloat64(0);
      // NaN and the infinities are no number a consumer can use (and no JSON number): raw bytes.
      return Number.isFinite(v) ? v : toHex(b, o, len);
    }
    case 'boolean':
      // RFC 7011 section 6.1.5: 1 is true, 2 is false; anything else is not a boolean.
      return len === 1 && b[o] === 1 ? true : len === 1 && b[o] === 2 ? false : null;
    case 'macAddress':
      return len === 6 ? formatMac(b, o) : toHex(b, o, len);
    case 'string': {
      let end = o + len;
      // NetFlow v9 exporters pad fixed-length strings with NULs.
      while (end > o && b[end - 1] === 0) end--;
      return utf8.decode(b.subarray(o, end));
    }
    case 'ipv4Address':
      return len === 4 ? formatIPv4(b, o) : toHex(b, o, len);
    case 'ipv6Address':
      return len === 16 ? formatIPv6(b, o) : toHex(b, o, len);
    case 'dateTimeSeconds':
    case 'dateTimeMilliseconds':
    case 'dateTimeMicroseconds':
    case 'dateTimeNanoseconds': {
      const ms = readDateTimeMs(b, o, len, type);
      // A time no Date can hold is reported as its raw bytes, never as a bare number.
      return ms === undefined || !isValidTime(ms) ? toHex(b, o, len) : isoTime(ms);
    }
    default:
      return toHex(b, o, len);
  }
}
