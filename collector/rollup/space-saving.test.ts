import { describe, expect, it } from 'vitest';
import { prng } from '../../test/support/random.js';
import { formatIPv6 } from '../decode/addr.js';
import { readI32 } from '../decode/read.js';
import { SpaceSaving } from './space-saving.js';

describe('SpaceSaving', () => {
  it('is exact while the distinct keys fit in k', () => {
    const ss = new SpaceSaving(4);
    ss.add('a', 10, 1);
    ss.add('b', 5, 1);
    ss.add('a', 7, 2);
    ss.add('c', 1, 1);
    ss.add('d', 3, 1);
    ss.add('b', 5, 1);
    expect(ss.size).toBe(4);
    expect(ss.total).toBe(31);
    expect(ss.top(10)).toEqual([
      { key: 'a', count: 17, error: 0, secondary: 3 },
      { key: 'b', count: 10, error: 0, secondary: 2 },
      { key: 'd', count: 3, error: 0, secondary: 1 },
      { key: 'c', count: 1, error: 0, secondary: 1 },
    ]);
    expect(ss.top(2).map((h) => h.key)).toEqual(['a', 'b']);
  });

  it('takes over the smallest counter and records it as the error', () => {
    const ss = new SpaceSaving(2);
    ss.add('a', 10);
    ss.add('b', 3);
    ss.add('c', 4, 2);
    expect(ss.get('b')).toBeUndefined();
    expect(ss.get('c')).toEqual({ key: 'c', count: 7, error: 3, secondary: 2 });
    expect(ss.minCount).toBe(7);
    // Ranked by the guaranteed part: a (10) before c (7 − 3 = 4).
    expect(ss.top(2).map((h) => [h.key, h.count - h.error])).toEqual([
      ['a', 10],
      ['c', 4],
    ]);
  });

  it('keeps a number key apart from the same digits as a string', () => {
    const ss = new SpaceSaving(4);
    ss.addNumber(167772161, 5, 1);
    ss.add('167772161', 3, 1);
    ss.addNumber(167772161, 2, 1);
    expect(ss.get(167772161)).toEqual({ key: 167772161, count: 7, error: 0, secondary: 2 });
    expect(ss.get('167772161')).toEqual({ key: '167772161', count: 3, error: 0, secondary: 1 });
  });

  it('counts IPv6 words as their text would be counted, and reports them as that text', () => {
    // The same weighted stream, keyed by words in one summary and by RFC 5952 text in the other:
    // the algorithm never looks at a key beyond equality, so the two must agree entry for entry,
    // evictions included (30 addresses, some differing only in their last or first word, in 8 counters).
    const random = prng(6);
    const addresses = Array.from({ length: 30 }, (_, i) => {
      const bytes = new Uint8Array(16);
      bytes.set([0x20, 0x01, 0x0d, 0xb8]);
      if (i % 3 === 0) bytes[0] = 0xfe; // top bit set: negative first word
      bytes[15] = i % 10;
      bytes[7] = Math.floor(i / 10);
      return bytes;
    });
    const byWords = new SpaceSaving(8);
    const byText = new SpaceSaving(8);
    for (let n = 0; n < 3000; n++) {
      const bytes = addresses[Math.floor(random() ** 2 * addresses.length)]!;
      const weight = 1 + Math.floor(random() * 1500);
      byWords.addWords(
        readI32(bytes, 0),
        readI32(bytes, 4),
        readI32(bytes, 8),
        readI32(bytes, 12),
        weight,
        1,
      );
      byText.add(formatIPv6(bytes, 0), weight, 1);
    }
    expect(byWords.total).toBe(byText.total);
    expect(byWords.minCount).toBe(byText.minCount);
    expect(byWords.top(8)).toEqual(byText.top(8));
    expect(byWords.top(8)[0]!.key).toMatch(/^(2001|fe01):db8:/);
  });

  it('keeps words apart from a number and from the text of the same address, and forgets them on clear', () => {
    const ss = new SpaceSaving(4);
    ss.addWords(0, 0, 0xffff, 0x0a000001, 5, 1); // ::ffff:10.0.0.1
    ss.addNumber(0x0a000001, 3, 1);
    ss.add('::ffff:10.0.0.1', 2, 1);
    ss.addWords(0, 0, 0xffff, 0x0a000001, 1, 1);
    expect(ss.size).toBe(3);
    expect(ss.top(3)).toEqual([
      { key: '::ffff:10.0.0.1', count: 6, error: 0, secondary: 2 },
      { key: 0x0a000001, count: 3, error: 0, secondary: 1 },
      { key: '::ffff:10.0.0.1', count: 2, error: 0, secondary: 1 },
    ]);
    // `get` by text finds the text key only.
    expect(ss.get('::ffff:10.0.0.1')).toEqual({ key: '::ffff:10.0.0.1', count: 2, error: 0, secondary: 1 });
    ss.clear();
    ss.add('a', 1);
    ss.addWords(0, 0, 0xffff, 0x0a000001, 4);
    expect(ss.top(5)).toEqual([
      { key: '::ffff:10.0.0.1', count: 4, error: 0, secondary: 0 },
      { key: 'a', count: 1, error: 0, secondary: 0 },
    ]);
  });

  it('ignores zero and negative weights', () => {
    const ss = new SpaceSaving(1);
    ss.add('a', 5);
    ss.add('b', 0);
    ss.add('c', -1);
    expect(ss.top(5)).toEqual([{ key: 'a', count: 5, error: 0, secondary: 0 }]);
    expect(ss.total).toBe(5);
  });

  it('rejects a capacity below 1 and a filter size out of range', () => {
    expect(() => new SpaceSaving(0)).toThrow(RangeError);
    expect(() => new SpaceSaving(4, -1)).toThrow(RangeError);
    expect(() => new SpaceSaving(4, 1.5)).toThrow(RangeError);
    expect(() => new SpaceSaving(4, 2 ** 25)).toThrow(RangeError);
  });

  // Plain, and filtered with the rollup's 6 cells a counter: the header's guarantees hold for both.
  it.each([0, 6])(
    'keeps the N/k guarantee on a skewed weighted stream (%i filter cells a counter)',
    (cells) => {
      const k = 50;
      const ss = new SpaceSaving(k, cells * k);
      const exact = new Map<string, number>();
      const random = prng(20050105);
      // Zipf-like: key ⌊1/u^1.3⌋ over 20 000 distinct keys, weights 40..1500 like packet sizes.
      for (let i = 0; i < 200_000; i++) {
        const key = `10.0.${Math.min(20_000, Math.floor(1 / random() ** 1.3))}`;
        const weight = 40 + Math.floor(random() * 1460);
        ss.add(key, weight, 1);
        exact.set(key, (exact.get(key) ?? 0) + weight);
      }
      const n = ss.total;
      const bound = n / k;
      expect(exact.size).toBeGreaterThan(1000);
      expect(ss.size).toBe(k);
      expect(ss.minCount).toBeLessThanOrEqual(bound);

      let heavy = 0;
      for (const [key, trueCount] of exact) {
        const h = ss.get(key);
        if (trueCount > bound) {
          heavy++;
          expect(h, `key ${key} (${trueCount} > N/k) must be monitored`).toBeDefined();
        }
        if (h === undefined) {
          expect(trueCount).toBeLessThanOrEqual(ss.minCount);
          continue;
        }
        expect(h.count).toBeGreaterThanOrEqual(trueCount);
        expect(h.count - h.error).toBeLessThanOrEqual(trueCount);
        expect(h.error).toBeLessThanOrEqual(ss.minCount);
      }
      expect(heavy).toBeGreaterThan(3);

      // The top 5 of the summary are the true top 5 on this stream.
      const trueTop = [...exact].sort((a, b) => b[1] - a[1]).slice(0, 5);
      expect(ss.top(5).map((h) => h.key)).toEqual(trueTop.map(([key]) => key));
    },
  );

  it.each([0, 1, 6])(
    'keeps its guarantees through heavy eviction with tied counters, words and numbers, and after clear (%i filter cells a counter)',
    (cells) => {
      // Integer weights from few values: many counters tie, so no particular eviction order is
      // assumed; every guarantee of the header is checked against exact sums instead.
      const k = 13;
      const ss = new SpaceSaving(k, cells * k);
      const random = prng(1305);
      for (const round of [0, 1]) {
        const exact = new Map<string, number>();
        for (let i = 0; i < 30_000; i++) {
          const n = Math.floor(random() ** 2 * (round === 0 ? 400 : 40));
          // Heavier in the second window, so that its counters outgrow the first window's.
          const weight = (1 + Math.floor(random() * 4)) * (round === 0 ? 1 : 1000);
          // 2001:db8:1:1:8000:1:0:<n + 1>, its third word negative as a signed 32-bit integer.
          if (n % 3 === 0) ss.addWords(0x2001_0db8, 0x0001_0001, 0x8000_0001 | 0, n + 1, weight, 1);
          else ss.addNumber(0x0a00_0000 + n, weight, 1);
          const key = n % 3 === 0 ? `w${n}` : `n${n}`;
          exact.set(key, (exact.get(key) ?? 0) + weight);
        }
        const total = [...exact.values()].reduce((a, b) => a + b, 0);
        expect(ss.total).toBe(total);
        const top = ss.top(k);
        expect(top).toHaveLength(Math.min(k, exact.size));
        const counts = top.map((h) => h.count);
        // minCount is the smallest counter, at most N/k once all k are in use.
        expect(ss.minCount).toBe(Math.min(...counts));
        expect(ss.minCount).toBeLessThanOrEqual(total / k);
        const keyOf = (h: { key: string | number }) =>
          typeof h.key === 'number'
            ? `n${h.key - 0x0a00_0000}`
            : `w${Number.parseInt(h.key.replace('2001:db8:1:1:8000:1:0:', ''), 16) - 1}`;
        const monitored = new Set(top.map(keyOf));
        for (const h of top) {
          const truth = exact.get(keyOf(h))!;
          expect(h.count).toBeGreaterThanOrEqual(truth);
          expect(h.count - h.error).toBeLessThanOrEqual(truth);
          expect(h.error).toBeLessThanOrEqual(ss.minCount);
        }
        for (const [key, truth] of exact) {
          if (truth > total / k) expect(monitored.has(key), `${key}: ${truth} > N/k`).toBe(true);
          if (!monitored.has(key)) expect(truth).toBeLessThanOrEqual(ss.minCount);
        }
        // Ranked by the guaranteed part, decreasing.
        for (let r = 1; r < top.length; r++)
          expect(top[r - 1]!.count - top[r - 1]!.error).toBeGreaterThanOrEqual(top[r]!.count - top[r]!.error);
        // A new window: everything forgotten, then exact again while the keys fit.
        ss.clear();
        expect([ss.size, ss.total, ss.minCount]).toEqual([0, 0, 0]);
        ss.addNumber(1, 5);
        ss.addNumber(2, 3);
        ss.addNumber(1, 1);
        expect(ss.top(3).map((h) => [h.key, h.count, h.error])).toEqual([
          [1, 6, 0],
          [2, 3, 0],
        ]);
        ss.clear();
      }
    },
  );

  it('starts a new window whole after clear, whatever the old one held', () => {
    const ss = new SpaceSaving(4);
    for (const key of [1, 2, 3, 4]) ss.addNumber(key, 1);
    ss.clear();
    // Fewer keys than before, with counts above the old ones: the old entries must play no part.
    ss.addNumber(10, 100);
    ss.addNumber(20, 50);
    ss.addNumber(20, 200);
    ss.addNumber(30, 7);
    expect(ss.top(4).map((h) => [h.key, h.count, h.error])).toEqual([
      [20, 250, 0],
      [10, 100, 0],
      [30, 7, 0],
    ]);
    expect(ss.minCount).toBe(0);
    ss.addNumber(40, 1);
    ss.addNumber(50, 3);
    // Full: 50 took the smallest counter (40's 1).
    expect(ss.get(40)).toBeUndefined();
    expect(ss.get(50)).toEqual({ key: 50, count: 4, error: 1, secondary: 0 });
    expect(ss.minCount).toBe(4);
  });

  it('matches a naive Space-Saving step by step through heavy eviction', () => {
    // A tiny capacity over many keys exercises the heap and the hash table's deletion.
    const k = 7;
    const ss = new SpaceSaving(k);
    const naive: { key: string | number; count: number; error: number }[] = [];
    const random = prng(7);
    for (let i = 0; i < 20_000; i++) {
      // Half the keys are numbers (IPv4 as integers, up to 2^32 − 1), half strings.
      const n = Math.floor(random() * 60);
      const key = n % 2 === 0 ? `k${n}` : 0xffff_ff00 + n;
      // Fractional weights: no two counters tie, so both pick the same minimum.
      const weight = 1 + random() * 1000;
      if (typeof key === 'number') ss.addNumber(key, weight);
      else ss.add(key, weight);
      const hit = naive.find((e) => e.key === key);
      if (hit !== undefined) hit.count += weight;
      else if (naive.length < k) naive.push({ key, count: weight, error: 0 });
      else {
        const min = naive.reduce((a, b) => (b.count < a.count ? b : a));
        Object.assign(min, { key, error: min.count, count: min.count + weight });
      }
      if (i % 1000 === 999) {
        for (const e of naive) expect(ss.get(e.key)).toMatchObject({ count: e.count, error: e.error });
      }
    }
    const byKey = (a: { key: string | number }, b: { key: string | number }) =>
      String(a.key) < String(b.key) ? -1 : 1;
    expect(
      ss
        .top(k)
        .map(({ key, count, error }) => ({ key, count, error }))
        .sort(byKey),
    ).toEqual(naive.sort(byKey));
    expect(ss.get('absent')).toBeUndefined();
  });
  it('matches a naive Filtered Space-Saving step by step (one cell, so the cell of every key is known)', () => {
    // Homem and Carvalho's algorithm written out plainly: once the k counters are in use, a new
    // key's weight goes to the cell unless cell + weight reaches the smallest counter; then the key
    // takes that counter with the cell as its error, and the evicted count goes to the cell.
    const k = 5;
    const ss = new SpaceSaving(k, 1);
    const naive: { key: number; count: number; error: number }[] = [];
    let cell = 0;
    let total = 0;
    let filteredUpdates = 0;
    const random = prng(2010);
    for (let i = 0; i < 20_000; i++) {
      // A few heavy keys among many light ones; fractional weights, so no two counters tie.
      const key = random() < 0.5 ? Math.floor(random() * 8) : 100 + Math.floor(random() * 5000);
      const weight = (key < 8 ? 20 : 1) * (1 + random());
      ss.addNumber(key, weight);
      total += weight;
      const hit = naive.find((e) => e.key === key);
      if (hit !== undefined) hit.count += weight;
      else if (naive.length < k) naive.push({ key, count: weight, error: 0 });
      else {
        const min = naive.reduce((a, b) => (b.count < a.count ? b : a));
        if (cell + weight < min.count) {
          cell += weight;
          filteredUpdates++;
        } else {
          const inherited = cell;
          cell = Math.max(cell, min.count);
          Object.assign(min, { key, error: inherited, count: inherited + weight });
        }
      }
      if (i % 1000 === 999) {
        for (const e of naive) expect(ss.get(e.key)).toMatchObject({ count: e.count, error: e.error });
      }
    }
    // The filter did its work: most light keys never took a counter.
    expect(filteredUpdates).toBeGreaterThan(5000);
    expect(ss.total).toBeCloseTo(total, 6);
    expect(
      ss
        .top(k)
        .map(({ key, count, error }) => ({ key, count, error }))
        .sort((a, b) => Number(a.key) - Number(b.key)),
    ).toEqual(naive.sort((a, b) => a.key - b.key));
    // The eight heavy keys carry about 20 times the weight of the rest: the top five are among them.
    for (const h of ss.top(k)) expect(h.key).toBeLessThan(8);
  });

  it('admits freely while counters are free, and forgets its cells on clear', () => {
    const ss = new SpaceSaving(2, 1);
    ss.addNumber(1, 10);
    ss.addNumber(2, 3);
    // Full: 3 weighs 1, below the smallest counter (3): filtered, counted in the total only.
    ss.addNumber(3, 1);
    expect(ss.get(3)).toBeUndefined();
    expect([ss.total, ss.minCount]).toEqual([14, 3]);
    // 4 brings the cell (1) to 1 + 2 = 3, the smallest counter: it takes 2's counter, error 1.
    ss.addNumber(4, 2, 1);
    expect(ss.get(2)).toBeUndefined();
    expect(ss.get(4)).toEqual({ key: 4, count: 3, error: 1, secondary: 1 });
    ss.clear();
    // A new window starts with empty cells: exact while the keys fit, then 7's cell starts at 0.
    ss.addNumber(5, 4);
    ss.addNumber(6, 6);
    ss.addNumber(7, 4);
    expect(ss.get(7)).toEqual({ key: 7, count: 4, error: 0, secondary: 0 });
    expect(ss.top(2).map((h) => h.key)).toEqual([6, 7]);
  });
  it('spreads keys that differ only in their top bits over the table, whatever the seed', () => {
    // 100 addresses x.18.52.86 with x even: a hash blind to the top bits gives them one home, and
    // their probe run fills as many entries as there are keys. The table is read as it is laid out.
    const ss = new SpaceSaving(100);
    for (let x = 0; x < 200; x += 2) ss.addNumber(((x << 24) | 0x123456) >>> 0, 1);
    const table = (ss as unknown as { table: Int32Array }).table;
    let longest = 0;
    let run = 0;
    // Twice round, so that a run across the end is counted whole.
    for (let i = 0; i < 2 * table.length; i++) {
      run = table[i % table.length] === 0 ? 0 : run + 1;
      longest = Math.max(longest, run);
    }
    expect(ss.size).toBe(100);
    // 100 keys in 512 entries at random: runs of a few; one home would make a run of 100.
    expect(longest).toBeLessThan(25);
  });

  it('lets the long tail stop at its cells: a third of the evictions, or fewer', () => {
    const run = (cells: number) => {
      const ss = new SpaceSaving(100, cells);
      const random = prng(42);
      let next = 1_000_000;
      for (let i = 0; i < 50_000; i++) {
        // Half the updates from 20 heavy addresses, half from addresses seen once.
        if (random() < 0.5) ss.addNumber(1 + Math.floor(random() * 20), 1000 + Math.floor(random() * 500));
        else ss.addNumber(next++, 40 + Math.floor(random() * 60));
      }
      return ss;
    };
    const plain = run(0);
    const filtered = run(600);
    // Unfiltered, every address seen once takes a counter (25,000 of them); filtered, most stop.
    expect(plain.evictions).toBeGreaterThan(20_000);
    expect(filtered.evictions).toBeLessThan(plain.evictions / 3);
    // Both keep the 20 heavy addresses.
    for (const ss of [plain, filtered]) {
      expect(
        ss
          .top(20)
          .map((h) => h.key)
          .sort((a, b) => Number(a) - Number(b)),
      ).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    }
  });

  it('gives a key admitted past the filter (addSlot) at least the smallest count', () => {
    const ss = new SpaceSaving(2, 1);
    ss.addSlot(1, 100);
    ss.addSlot(2, 100);
    // 3 weighs 1 and its cell 0: the filter would keep it out, addSlot admits it all the same.
    const slot = ss.addSlot(3, 1);
    expect(ss.admitted).toBe(true);
    expect(ss.keyAt(slot)).toBe(3);
    // The evicted key weighed 100: the smallest counter must still bound every unmonitored key.
    expect(ss.minCount).toBeGreaterThanOrEqual(100);
    // Its count is the smallest (100, what the evicted key held): error 99 plus its own 1.
    expect(ss.countAt(slot)).toBe(100);
    expect(ss.errorAt(slot)).toBe(99);
  });
});
