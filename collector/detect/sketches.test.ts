import { describe, expect, it } from 'vitest';
import { ipv4ToNumber, ipv6ToBigInt, parsePrefix, prefixHolds } from '../../common/cidr.js';
import { prng } from '../../test/support/random.js';
import { SpaceSaving } from '../rollup/space-saving.js';
import { HllBank, hash2, hash32, hashText, hashWords } from './hyperloglog.js';

describe('HllBank', () => {
  it('estimates distinct counts within a few standard errors', () => {
    const bank = new HllBank(4, 8);
    const random = prng(7);
    const sizes = [10, 300, 5000, 200_000];
    sizes.forEach((n, slot) => {
      for (let i = 0; i < n; i++) {
        const x = Math.floor(random() * 0x7fff_ffff);
        bank.add(slot, hash32(x));
        bank.add(slot, hash32(x)); // duplicates change nothing
      }
    });
    // Standard error: 1.04/sqrt(m) for HyperLogLog proper; linear counting (n below 2.5 m)
    // sqrt(m (e^t - t - 1)) / n with t = n/m (Whang et al., 1990).
    // The hash is seeded per process, so each run draws anew: at 4 standard errors 3 runs in 400
    // failed (10 items with three register collisions; the tail of HyperLogLog at m = 256), at
    // these bounds none in 3,000.
    const m = 256;
    sizes.forEach((n, slot) => {
      const e = bank.estimate(slot);
      const t = n / m;
      const linear = n < 2.5 * m;
      const se = linear ? Math.sqrt(m * (Math.exp(t) - t - 1)) / n : 1.04 / Math.sqrt(m);
      const bound = linear ? Math.max(4 * se, 3 / n) : 5 * se;
      expect(Math.abs(e - n) / n, `n = ${n}: estimate ${e}`).toBeLessThan(bound);
    });
    bank.clear(2);
    expect(bank.estimate(2)).toBe(0);
    expect(bank.estimate(3)).toBeGreaterThan(100_000);
    expect(bank.bytes).toBe(4 * 256);
  });

  it('hashes pairs and text so that different inputs rarely collide', () => {
    const seen = new Set<number>();
    for (let h = 0; h < 100; h++) for (let p = 0; p < 100; p++) seen.add(hash2(h, p));
    for (let i = 0; i < 1000; i++) seen.add(hashText(`2001:db8::${i.toString(16)}`));
    // IPv6 words differing in any one word, the first one negative as the decoder reads it.
    for (let i = 0; i < 250; i++) {
      seen.add(hashWords(0x2001_0db8, 0, 0, i));
      seen.add(hashWords(0x2001_0db8, i, 0, 0));
      seen.add(hashWords(0xfe80_0000 | 0, 0, i, 1));
      seen.add(hashWords(0x2001_0db8 + i, 0, 0, 1));
    }
    expect(seen.size).toBeGreaterThan(11_985);
  });

  it('does not keep the collisions of unseeded FNV-1a in its text hash', () => {
    // Known FNV-1a 32-bit collisions from the published offset basis.
    for (const [a, b] of [
      ['costarring', 'liquid'],
      ['declinate', 'macallums'],
      ['altarage', 'zinke'],
    ] as const) {
      expect(hashText(a), `${a} / ${b}`).not.toBe(hashText(b));
    }
  });
});

describe('SpaceSaving slots', () => {
  it('returns stable slots, says when a key took a slot, and forgets everything on clear', () => {
    const ss = new SpaceSaving(2);
    const a = ss.addSlot(1, 10);
    expect(ss.admitted).toBe(true);
    expect(ss.addSlot(1, 5)).toBe(a);
    expect(ss.admitted).toBe(false);
    const b = ss.addSlot('2001:db8::1', 3);
    expect(b).not.toBe(a);
    // A third key evicts the smallest (the IPv6 one, 3) and inherits its count as error.
    expect(ss.addSlot(7, 1)).toBe(b);
    expect(ss.admitted).toBe(true);
    expect([ss.keyAt(b), ss.countAt(b), ss.errorAt(b)]).toEqual([7, 4, 3]);
    expect(ss.countAt(a)).toBe(15);
    ss.clear();
    expect(ss.size).toBe(0);
    expect(ss.get(1)).toBeUndefined();
    ss.addSlot(1, 1);
    expect(ss.admitted).toBe(true);
  });
});

describe('SpaceSaving word slots', () => {
  it('keys an IPv6 address by its words, reports it as its text, and evicts like any key', () => {
    const ss = new SpaceSaving(2);
    const a = ss.addSlotWords(0x2001_0db8, 0, 0, 1, 10);
    expect(ss.admitted).toBe(true);
    expect(ss.addSlotWords(0x2001_0db8, 0, 0, 1, 5)).toBe(a);
    expect(ss.admitted).toBe(false);
    // Another address differing in one word only is another key.
    const b = ss.addSlotWords(0x2001_0db8, 0, 1, 1, 2);
    expect(b).not.toBe(a);
    expect([ss.keyAt(a), ss.countAt(a)]).toEqual(['2001:db8::1', 15]);
    expect(ss.keyAt(b)).toBe('2001:db8::1:0:1');
    // A third key takes the smallest counter (b's 2) and inherits it as error.
    expect(ss.addSlot(7, 1)).toBe(b);
    expect([ss.keyAt(b), ss.countAt(b), ss.errorAt(b)]).toEqual([7, 3, 2]);
  });
});

describe('CIDR prefixes', () => {
  it('parses IPv4 and IPv6 prefixes and refuses invalid ones', () => {
    expect(parsePrefix('10.1.2.3/8')).toMatchObject({ family: 4, base: 0x0a00_0000, bits: 8 });
    expect(parsePrefix('192.0.2.1')).toMatchObject({ family: 4, bits: 32 });
    expect(parsePrefix('2001:db8::/32')).toMatchObject({ family: 6, base: 0x2001_0db8n << 96n, bits: 32 });
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0/8',
      '300.1.1.1/8',
      '2001:db8::/129',
      'fe80::1%eth0/64',
      '10.0.0.0/-1',
      '10.0.0.0/',
      'x',
      '',
    ])
      expect(parsePrefix(bad), bad).toBeUndefined();
  });

  it('matches addresses, including IPv4-mapped IPv6 text', () => {
    const p = parsePrefix('10.1.0.0/16')!;
    expect(prefixHolds(p, ipv4ToNumber('10.1.255.255'), undefined)).toBe(true);
    expect(prefixHolds(p, ipv4ToNumber('10.2.0.0'), undefined)).toBe(false);
    expect(prefixHolds(parsePrefix('0.0.0.0/0')!, 0xffff_ffff, undefined)).toBe(true);
    const v6 = parsePrefix('2001:db8:1::/48')!;
    expect(prefixHolds(v6, undefined, ipv6ToBigInt('2001:db8:1:ffff::1'))).toBe(true);
    expect(prefixHolds(v6, undefined, ipv6ToBigInt('2001:db8:2::1'))).toBe(false);
    expect(ipv6ToBigInt('::ffff:192.0.2.1')).toBe((0xffffn << 32n) | 0xc000_0201n);
    expect(ipv6ToBigInt('::1.2.3.4')).toBe(0x0102_0304n);
    expect(ipv6ToBigInt('1:2:3:4:5:6:7:8')).toBe(0x0001_0002_0003_0004_0005_0006_0007_0008n);
  });
});
