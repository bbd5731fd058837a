/**
 * Tests for the address formatters: RFC 5952 canonical IPv6 text (the examples of the RFC itself
 * plus a randomised comparison against the WHATWG URL serializer built into Node, which implements
 * the same compression rules independently), dotted-quad IPv4 and MAC text.
 */
import { describe, expect, it } from 'vitest';
import { prng } from '../../test/support/random.js';
import { formatIPv4, formatIPv6, formatMac } from './addr.js';

/** The 16 bytes of an address given as eight 16-bit groups. */
function v6(...groups: number[]): Uint8Array {
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

describe('formatIPv6 (RFC 5952)', () => {
  it('drops leading zeros and prints lowercase hex (section 4.1, 4.3)', () => {
    expect(formatIPv6(v6(0x2001, 0x0db8, 0x00aa, 0x0bbb, 0xcccc, 0xdddd, 0xeeee, 0x0001), 0)).toBe(
      '2001:db8:aa:bbb:cccc:dddd:eeee:1',
    );
    expect(formatIPv6(v6(0xabcd, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0x2345, 0x6789), 0)).toBe(
      'abcd:ef01:2345:6789:abcd:ef01:2345:6789',
    );
  });

  it('compresses the longest zero run as far as possible (section 4.2.1)', () => {
    expect(formatIPv6(v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 0)).toBe('2001:db8::1');
    expect(formatIPv6(v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 0), 0)).toBe('2001:db8:0:0:1::');
  });

  it('does not use :: for a single zero group (section 4.2.2)', () => {
    expect(formatIPv6(v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1), 0)).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIPv6(v6(0x2001, 0xdb8, 1, 1, 1, 1, 1, 0), 0)).toBe('2001:db8:1:1:1:1:1:0');
  });

  it('compresses the longest run, and the first of equal runs (section 4.2.3)', () => {
    expect(formatIPv6(v6(0x2001, 0, 0, 1, 0, 0, 0, 1), 0)).toBe('2001:0:0:1::1');
    expect(formatIPv6(v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), 0)).toBe('2001:db8::1:0:0:1');
  });

  it('handles the all-zero, loopback and edge runs', () => {
    expect(formatIPv6(v6(0, 0, 0, 0, 0, 0, 0, 0), 0)).toBe('::');
    expect(formatIPv6(v6(0, 0, 0, 0, 0, 0, 0, 1), 0)).toBe('::1');
    expect(formatIPv6(v6(0xfe80, 0, 0, 0, 0, 0, 0, 0), 0)).toBe('fe80::');
    expect(formatIPv6(v6(0, 0, 1, 0, 0, 0, 0, 0), 0)).toBe('0:0:1::');
    expect(formatIPv6(v6(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff), 0)).toBe(
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    );
  });

  it('prints IPv4-mapped addresses in mixed notation, and only those (section 5)', () => {
    expect(formatIPv6(v6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201), 0)).toBe('::ffff:192.0.2.1');
    expect(formatIPv6(v6(0, 0, 0, 0, 0, 0xffff, 0, 0), 0)).toBe('::ffff:0.0.0.0');
    // IPv4-compatible (deprecated) and NAT64 prefixes stay hexadecimal.
    expect(formatIPv6(v6(0, 0, 0, 0, 0, 0, 0xc000, 0x0201), 0)).toBe('::c000:201');
    expect(formatIPv6(v6(0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0201), 0)).toBe('64:ff9b::c000:201');
    expect(formatIPv6(v6(0, 0, 0, 0, 1, 0xffff, 0xc000, 0x0201), 0)).toBe('::1:ffff:c000:201');
  });

  it('reads at the given offset', () => {
    const buffer = new Uint8Array(20).fill(0xee);
    buffer.set(v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x42), 3);
    expect(formatIPv6(buffer, 3)).toBe('2001:db8::42');
  });

  it('agrees with the WHATWG URL serializer on random addresses with zero runs', () => {
    const random = prng(5952);
    for (let n = 0; n < 5000; n++) {
      const groups = Array.from({ length: 8 }, () => {
        const r = random();
        if (r < 0.5) return 0;
        if (r < 0.6) return 1;
        return Math.floor(random() * 0x10000);
      });
      if (groups.slice(0, 6).join() === '0,0,0,0,0,65535') continue; // mapped: mixed form on purpose
      const bytes = v6(...groups);
      const expected = new URL(`http://[${groups.map((g) => g.toString(16)).join(':')}]/`).hostname;
      expect(`[${formatIPv6(bytes, 0)}]`).toBe(expected);
    }
  });
});

describe('formatIPv4', () => {
  it('prints every octet value in decimal without leading zeros', () => {
    for (let octet = 0; octet < 256; octet++) {
      expect(formatIPv4(Uint8Array.of(octet, 255 - octet, 0, 10), 0)).toBe(`${octet}.${255 - octet}.0.10`);
    }
  });

  it('reads at the given offset', () => {
    expect(formatIPv4(Uint8Array.of(9, 9, 192, 168, 119, 100, 9), 2)).toBe('192.168.119.100');
  });
});

describe('formatMac', () => {
  it('prints six lowercase two-digit hex octets', () => {
    expect(formatMac(Uint8Array.of(0xff, 0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e), 1)).toBe('00:1b:21:3c:4d:5e');
    expect(formatMac(Uint8Array.of(0xab, 0xcd, 0xef, 0x0a, 0x0b, 0x0c), 0)).toBe('ab:cd:ef:0a:0b:0c');
  });
});
