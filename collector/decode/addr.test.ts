/**
 * Tests for the address formatters: RFC 5952 canonical IPv6 text (the examples of the RFC itself
 * plus a randomised comparison against the WHATWG URL serializer built into Node, which implements
 * the same compression rules independently), dotted-quad IPv4 and MAC text.
 */
import { describe, expect, it } from 'vitest';
import { prng } from '../../test/support/random.js';
import { formatIPv4, formatIPv6, formatIPv6Words, formatMac } from './addr.js';
import { FlowRecord } from './flow.js';
import { readI32 } from './read.js';

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

describe('IPv6 kept as words (formatIPv6Words, FlowRecord)', () => {
  /** The address written from its eight groups, read back as the decoder reads its words. */
  const words = (groups: number[]): [number, number, number, number] => {
    const bytes = v6(...groups);
    return [readI32(bytes, 0), readI32(bytes, 4), readI32(bytes, 8), readI32(bytes, 12)];
  };

  it('formats words as formatIPv6 formats the same sixteen bytes, top bits set or not', () => {
    expect(formatIPv6Words(...words([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]))).toBe('2001:db8::1');
    expect(formatIPv6Words(...words([0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff]))).toBe(
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    );
    expect(formatIPv6Words(...words([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]))).toBe('::ffff:192.0.2.1');
    // Unsigned words (readU32) give the same text as signed ones (readI32).
    expect(formatIPv6Words(0xfe800000, 0, 0, 0x80000001)).toBe('fe80::8000:1');
    const random = prng(128);
    for (let n = 0; n < 2000; n++) {
      const groups = Array.from({ length: 8 }, () => (random() < 0.4 ? 0 : Math.floor(random() * 0x10000)));
      expect(formatIPv6Words(...words(groups))).toBe(formatIPv6(v6(...groups), 0));
    }
  });

  it('gives a record IPv6 source and destination their text when read, replacing IPv4 and text', () => {
    const r = new FlowRecord('192.0.2.1', 10, 0);
    r.srcAddr4 = 0x0a000001;
    r.setSrcIPv6(...words([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x42]));
    expect(r.srcAddr4).toBe(-1);
    expect(r.srcAddr).toBe('2001:db8::42');
    r.dstAddr = '198.51.100.7';
    r.setDstIPv6(...words([0xfe80, 0, 0, 0, 0, 0, 0, 1]));
    expect(r.dstAddr).toBe('fe80::1');
    // Text set afterwards replaces the words, as it replaces an IPv4 integer.
    r.srcAddr = '203.0.113.9';
    expect(r.srcIPv6).toBe(false);
    expect(r.srcAddr).toBe('203.0.113.9');
  });

  it('keeps the IPv6 text when an IPv4 integer is read after it (a template with both families)', () => {
    const r = new FlowRecord('192.0.2.1', 10, 0);
    r.setSrcIPv6(...words([0x2001, 0xdb8, 0, 0, 0, 0, 0, 7]));
    r.srcAddr4 = 0x0a000001;
    expect(r.srcAddr).toBe('2001:db8::7');
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
