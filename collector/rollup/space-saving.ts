/**
 * Space-Saving heavy hitters (Metwally, Agrawal, El Abbadi, "Efficient Computation of Frequent and
 * Top-k Elements in Data Streams", ICDT 2005), with weighted increments, over addresses: strings,
 * unsigned 32-bit integers (IPv4 as the decoder reads it) or four 32-bit words (IPv6 as the decoder
 * reads it), so that no text is made per record.
 *
 * k counters are kept. A monitored key's weight is added to its counter; an unmonitored key takes
 * over the smallest counter m, which becomes m + weight, and records m as its error. Guarantees,
 * with N the total weight added:
 * - while at most k distinct keys have been seen, every count is exact (error 0);
 * - a reported count never underestimates: true ≤ count, and count − error ≤ true, where
 *   error ≤ min counter ≤ N/k;
 * - every key whose true weight exceeds N/k is monitored (an unmonitored key weighs at most the
 *   minimum counter).
 *
 * `top()` ranks by the guaranteed part, `count − error`: the weight actually observed for the key
 * since it took its counter. It never overstates, so a rank's value is never above the truth, and
 * values decrease with rank; it is at most N/k below the truth.
 *
 * Layout: k slots in parallel typed arrays, a binary min-heap of slot numbers with their counts
 * beside them in heap order, and a linear-probing hash table (4k entries, seeded hashes,
 * backward-shift deletion) from key to slot.
 *
 * Eviction is the common case: softflowd's source addresses are almost all new, so nearly every
 * update takes over the smallest counter and sifts it down (an eviction cost 120 ns, a hit 16 ns).
 * Which child is smaller is a coin toss a CPU mispredicts at every level; choosing it without a
 * branch (an +Infinity entry past the heap stands for a missing right child) and sifting the
 * taken-over root bottom-up took evicting updates from 5.8 M to 7.3 M a CPU second (medians of
 * 15 interleaved runs, 100 counters), bench/pipeline.bench.ts `rollup` from 2.34 M to 3.02 M
 * records per CPU second (x1.49, x1.23 to x1.75 over 6 interleaved pairs on the shared 2-core VM
 * at load 4-5) and `worker` from 0.80 M to 0.91 M (x1.36 per pair, x0.77 to x1.58).
 * With a filter (`filterCells`, Filtered Space-Saving: see `filtered`), most of those new keys
 * add their weight to a cell instead and never evict; the guarantees above still hold.
 * A string, a number and words are different keys, even when they name the same address; words are
 * reported (`top`, `keyAt`) as their RFC 5952 text, made then.
 * An update is O(log k) and allocates nothing; memory is bounded by k whatever the number of
 * distinct keys. The own table rather than a Map was measured: with ~1 000 distinct addresses per
 * 100 counters most updates evict, and with a Map (delete + set per eviction, a map update per heap
 * move) bench/rollup.bench.ts (string addresses then) ran at 2.4 M records/s against 3.5 M with this
 * table.
 */

import { formatIPv6Words } from '../decode/addr.js';

/** One monitored key. */
export interface HeavyHitter {
  /** The key as added; words (`addWords`) as IPv6 text. */
  readonly key: string | number;
  /** Estimated weight: never below the true weight. */
  readonly count: number;
  /** Maximum overestimate of `count` (the counter inherited on admission); `count − error` ≤ true. */
  readonly error: number;
  /** Secondary weight (for example packets) observed since the key took its counter. */
  readonly secondary: number;
}

/** Per-process seed: addresses an exporter sends cannot be chosen to collide in the table. */
const SEED = (Math.random() * 0x1_0000_0000) | 0;

function hashString(key: string): number {
  let h = SEED ^ 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h ^ (h >>> 15);
}

/**
 * MurmurHash3's 32-bit finaliser: every output bit depends on every input bit. The table's index
 * is the low bits of a hash, and a bare multiply (with one fold of the high half) left them blind to
 * a key's top bits: 128 addresses differing only there (0.18.52.86, 2.18.52.86, ...) shared one home
 * in the default 512-entry table whatever the seed, a probe run as long as the table.
 */
function fmix32(x: number): number {
  let h = x ^ (x >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function hashNumber(key: number): number {
  return fmix32((key | 0) ^ SEED);
}

/** Four words in turn, each multiplied in after the high bits of the previous rounds are folded down. */
function hashWords(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ SEED, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16) ^ b, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16) ^ c, 0xc2b2ae35);
  return fmix32(h ^ (h >>> 16) ^ d);
}

export class SpaceSaving {
  /** A slot's key is its string, or (when that is undefined) its number. */
  private readonly strings: (string | undefined)[];
  /** NaN for string and word keys, so that no number equals it. */
  private readonly numbers: Float64Array;
  /** 1 for a slot keyed by words (then `strings` is undefined and `numbers` NaN), else 0. */
  private readonly isWords: Uint8Array;
  /** A word-keyed slot's four words at 4 × slot. */
  private readonly words: Int32Array;
  private readonly hashes: Int32Array;
  private readonly errors: Float64Array;
  private readonly secondaries: Float64Array;
  /**
   * Min-heap on count: heap[i] is a slot number, heapCounts[i] its count (kept in heap order, so
   * a sift compares neighbouring entries rather than reading each count through its slot), and
   * position[slot] its index in the heap.
   */
  private readonly heap: Int32Array;
  private readonly heapCounts: Float64Array;
  private readonly position: Int32Array;
  /** Slot number + 1 per table entry, 0 when empty. */
  private readonly table: Int32Array;
  private readonly mask: number;
  private used = 0;
  private totalWeight = 0;
  /**
   * Filtered Space-Saving's cells (undefined without a filter): the weight of unmonitored keys by
   * hash, each at most the smallest counter. A key's cell comes from its hash remixed (`cellOf`),
   * so that it does not follow the table's probe position.
   */
  private readonly cells: Float64Array | undefined;
  /** Counters taken over by a new key since construction. */
  evictions = 0;

  /**
   * @param capacity k, the number of counters (at least 1).
   * @param filterCells Filtered Space-Saving (see `filtered`): this many cells (8 bytes each);
   *   0 (the default) for plain Space-Saving, which admits every new key.
   */
  constructor(
    readonly capacity: number,
    filterCells = 0,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    if (!Number.isInteger(filterCells) || filterCells < 0 || filterCells > 1 << 24)
      throw new RangeError('filterCells must be an integer from 0 to 2^24');
    this.cells = filterCells > 0 ? new Float64Array(filterCells) : undefined;
    this.strings = new Array<string | undefined>(capacity).fill(undefined);
    this.numbers = new Float64Array(capacity).fill(Number.NaN);
    this.isWords = new Uint8Array(capacity);
    this.words = new Int32Array(4 * capacity);
    this.hashes = new Int32Array(capacity);
    // One entry past the last: +Infinity beyond the heap, so a missing right child is never the smaller.
    this.heapCounts = new Float64Array(capacity + 1).fill(Number.POSITIVE_INFINITY);
    this.errors = new Float64Array(capacity);
    this.secondaries = new Float64Array(capacity);
    this.heap = new Int32Array(capacity);
    this.position = new Int32Array(capacity);
    let size = 8;
    while (size < capacity * 4) size *= 2;
    this.table = new Int32Array(size);
    this.mask = size - 1;
  }

  /** N: the total weight added. */
  get total(): number {
    return this.totalWeight;
  }

  /** Number of monitored keys (≤ capacity). */
  get size(): number {
    return this.used;
  }

  /** The smallest counter once all k are in use (0 before): the bound on every error, ≤ N/k. */
  get minCount(): number {
    return this.used < this.capacity ? 0 : this.heapCounts[0]!;
  }

  /**
   * Adds `weight` (> 0; zero and negative weights are ignored) to `key`, and `secondary` to its
   * secondary weight.
   */
  add(key: string, weight: number, secondary = 0): void {
    if (!(weight > 0)) return;
    const h = hashString(key);
    let i = h & this.mask;
    for (let e = this.table[i]!; e !== 0; e = this.table[i]!) {
      if (this.hashes[e - 1] === h && this.strings[e - 1] === key) {
        this.bump(e - 1, weight, secondary);
        return;
      }
      i = (i + 1) & this.mask;
    }
    if (this.filtered(h, weight)) return;
    const slot = this.admit(h, i, weight, secondary);
    this.strings[slot] = key;
    this.numbers[slot] = Number.NaN;
    this.isWords[slot] = 0;
  }

  /** `add` for an unsigned 32-bit integer key (an IPv4 address). */
  addNumber(key: number, weight: number, secondary = 0): void {
    if (!(weight > 0)) return;
    const h = hashNumber(key);
    let i = h & this.mask;
    for (let e = this.table[i]!; e !== 0; e = this.table[i]!) {
      if (this.numbers[e - 1] === key) {
        this.bump(e - 1, weight, secondary);
        return;
      }
      i = (i + 1) & this.mask;
    }
    if (this.filtered(h, weight)) return;
    const slot = this.admit(h, i, weight, secondary);
    this.strings[slot] = undefined;
    this.numbers[slot] = key;
    this.isWords[slot] = 0;
  }

  /**
   * `add` for an IPv6 address as four 32-bit words, most significant first (FlowRecord `src6a`...):
   * hashed and compared as numbers, its text made only when reported. Keying IPv6 talkers by their
   * text cost hashString 4.4 % and the string `add` 8.8 % of decode + rollup time, on top of making
   * the text (bench/pipeline.bench.ts profile, softflowd's IPFIX with a quarter of the flows IPv6);
   * the figures are in collector/rollup/rollup.ts `addSrcTalker`.
   */
  addWords(a: number, b: number, c: number, d: number, weight: number, secondary = 0): void {
    if (!(weight > 0)) return;
    const h = hashWords(a, b, c, d);
    const words = this.words;
    let i = h & this.mask;
    for (let e = this.table[i]!; e !== 0; e = this.table[i]!) {
      const slot = e - 1;
      const w = 4 * slot;
      if (
        this.hashes[slot] === h &&
        this.isWords[slot] === 1 &&
        words[w] === a &&
        words[w + 1] === b &&
        words[w + 2] === c &&
        words[w + 3] === d
      ) {
        this.bump(slot, weight, secondary);
        return;
      }
      i = (i + 1) & this.mask;
    }
    if (this.filtered(h, weight)) return;
    const slot = this.admit(h, i, weight, secondary);
    this.strings[slot] = undefined;
    this.numbers[slot] = Number.NaN;
    this.isWords[slot] = 1;
    const w = 4 * slot;
    words[w] = a;
    words[w + 1] = b;
    words[w + 2] = c;
    words[w + 3] = d;
  }

  /**
   * `add` that returns the key's slot (0 ≤ slot < capacity), for callers that keep their own
   * per-slot state beside the counter (detection keeps counter vectors and sketches per slot).
   * `admitted` tells whether the key has just taken the slot (a new key, or one that evicted
   * another): the caller then resets that slot's state. Weights ≤ 0 count as 0. Every key gets a
   * slot, filter or not.
   */
  addSlot(key: string | number, weight: number): number {
    const w = weight > 0 ? weight : 0;
    const isNumber = typeof key === 'number';
    const h = isNumber ? hashNumber(key) : hashString(key);
    let i = h & this.mask;
    for (let e = this.table[i]!; e !== 0; e = this.table[i]!) {
      const slot = e - 1;
      if (isNumber ? this.numbers[slot] === key : this.hashes[slot] === h && this.strings[slot] === key) {
        this.admitted = false;
        this.bump(slot, w, 0);
        return slot;
      }
      i = (i + 1) & this.mask;
    }
    const slot = this.admit(h, i, w, 0);
    if (isNumber) {
      this.strings[slot] = undefined;
      this.numbers[slot] = key;
    } else {
      this.strings[slot] = key;
      this.numbers[slot] = Number.NaN;
    }
    this.isWords[slot] = 0;
    this.admitted = true;
    return slot;
  }

  /** `addSlot` for an IPv6 address as four 32-bit words (see `addWords`): no text per record. */
  addSlotWords(a: number, b: number, c: number, d: number, weight: number): number {
    const w = weight > 0 ? weight : 0;
    const h = hashWords(a, b, c, d);
    const words = this.words;
    let i = h & this.mask;
    for (let e = this.table[i]!; e !== 0; e = this.table[i]!) {
      const slot = e - 1;
      const at = 4 * slot;
      if (
        this.hashes[slot] === h &&
        this.isWords[slot] === 1 &&
        words[at] === a &&
        words[at + 1] === b &&
        words[at + 2] === c &&
        words[at + 3] === d
      ) {
        this.admitted = false;
        this.bump(slot, w, 0);
        return slot;
      }
      i = (i + 1) & this.mask;
    }
    const slot = this.admit(h, i, w, 0);
    this.strings[slot] = undefined;
    this.numbers[slot] = Number.NaN;
    this.isWords[slot] = 1;
    const at = 4 * slot;
    words[at] = a;
    words[at + 1] = b;
    words[at + 2] = c;
    words[at + 3] = d;
    this.admitted = true;
    return slot;
  }

  /** Whether the last `addSlot` gave its key a slot it did not hold before. */
  admitted = false;

  /** The key, count and error of slot `slot` (< size). */
  keyAt(slot: number): string | number {
    return this.keyOf(slot);
  }
  countAt(slot: number): number {
    return this.heapCounts[this.position[slot]!]!;
  }
  errorAt(slot: number): number {
    return this.errors[slot]!;
  }

  /** Forgets every key (a new window); the memory stays allocated. */
  clear(): void {
    this.table.fill(0);
    this.strings.fill(undefined);
    this.numbers.fill(Number.NaN);
    this.isWords.fill(0);
    this.heapCounts.fill(Number.POSITIVE_INFINITY);
    this.cells?.fill(0);
    this.used = 0;
    this.totalWeight = 0;
  }

  /**
   * The monitored entry for `key`, or undefined (then its true weight is at most `minCount`). Word
   * keys are not found by their text: use `top`.
   */
  get(key: string | number): HeavyHitter | undefined {
    const h = typeof key === 'number' ? hashNumber(key) : hashString(key);
    for (let i = h & this.mask, e = this.table[i]!; e !== 0; i = (i + 1) & this.mask, e = this.table[i]!) {
      if (this.isWords[e - 1] === 0 && this.keyOf(e - 1) === key) return this.entry(e - 1);
    }
    return undefined;
  }

  /** Up to `n` entries, by decreasing guaranteed weight (`count − error`), then by decreasing count. */
  top(n: number): HeavyHitter[] {
    const all: HeavyHitter[] = [];
    for (let slot = 0; slot < this.used; slot++) all.push(this.entry(slot));
    all.sort((a, b) => b.count - b.error - (a.count - a.error) || b.count - a.count);
    return all.slice(0, Math.max(0, n));
  }

  private keyOf(slot: number): string | number {
    if (this.isWords[slot] === 1) {
      const w = 4 * slot;
      const words = this.words;
      return formatIPv6Words(words[w]!, words[w + 1]!, words[w + 2]!, words[w + 3]!);
    }
    return this.strings[slot] ?? this.numbers[slot]!;
  }

  private entry(slot: number): HeavyHitter {
    return {
      key: this.keyOf(slot),
      count: this.heapCounts[this.position[slot]!]!,
      error: this.errors[slot]!,
      secondary: this.secondaries[slot]!,
    };
  }

  private bump(slot: number, weight: number, secondary: number): void {
    this.totalWeight += weight;
    const at = this.position[slot]!;
    this.heapCounts[at]! += weight;
    this.secondaries[slot]! += secondary;
    this.siftDown(at);
  }

  /**
   * Gives an unmonitored key (hash `h`, its probe run ending at empty table entry `i`) a counter:
   * a free slot, or the smallest counter's. Returns the slot; the caller stores the key.
   */
  private admit(h: number, i: number, weight: number, secondary: number): number {
    this.totalWeight += weight;
    const table = this.table;
    let slot: number;
    if (this.used < this.capacity) {
      slot = this.used++;
      this.heap[slot] = slot;
      this.position[slot] = slot;
      this.heapCounts[slot] = weight;
      this.errors[slot] = 0;
      // A new slot, last in the heap, may belong higher up.
      this.siftUp(slot);
    } else {
      // Take over the smallest counter (the heap root); its key leaves the table.
      slot = this.heap[0]!;
      const min = this.heapCounts[0]!;
      // What the new key may have weighed before: the smallest counter, or with a filter its cell,
      // read before the evicted key's count goes to that key's cell (they may be the same cell).
      let inherited = min;
      const cells = this.cells;
      if (cells !== undefined) {
        // Through the filter cell + weight reaches min, so this is the cell; a key admitted past
        // it (`addSlot`) still counts at least min, as unfiltered, or the evicted key's weight
        // (at most min) would exceed the new smallest counter.
        inherited = Math.max(cells[this.cellOf(h)]!, min - weight);
        const evicted = this.cellOf(this.hashes[slot]!);
        if (cells[evicted]! < min) cells[evicted] = min;
      }
      this.evictions++;
      this.unlink(slot);
      i = h & this.mask;
      while (table[i] !== 0) i = (i + 1) & this.mask;
      this.errors[slot] = inherited;
      this.replaceRoot(inherited + weight);
    }
    table[i] = slot + 1;
    this.hashes[slot] = h;
    this.secondaries[slot] = secondary;
    return slot;
  }

  /**
   * Filtered Space-Saving (Homem and Carvalho, "Finding top-k elements in data streams",
   * Information Sciences 180, 2010): once every counter is in use, an unmonitored key's weight is
   * added to its hash's cell, and the key takes over the smallest counter only when cell + weight
   * reaches that counter. Returns true when the weight went to the cell (the key stays out).
   *
   * The header's guarantees hold as for plain Space-Saving. A cell only grows while it stays below
   * the smallest counter, and an evicted key leaves its count (the smallest counter then) in its
   * cell, so every cell is at most the smallest counter and at least what any unmonitored key in
   * it weighed: an unmonitored key weighs at most `minCount`. A key admitted from cell c counts
   * c + weight (never below its truth) with error c (≤ `minCount`). An admission adds at most its
   * weight to the sum of the counters, a filtered update nothing, so k × the smallest counter ≤
   * the sum ≤ N.
   *
   * Why: on softflowd's stream nearly every address is new and, unfiltered, evicts (120 ns against
   * 16 ns for a hit); most new addresses now stop at their cell. See rollup.ts for the figures.
   */
  private filtered(h: number, weight: number): boolean {
    const cells = this.cells;
    if (cells === undefined || this.used < this.capacity) return false;
    const c = this.cellOf(h);
    const sum = cells[c]! + weight;
    if (sum >= this.heapCounts[0]!) return false;
    cells[c] = sum;
    this.totalWeight += weight;
    return true;
  }

  /** The cell of hash `h`: its remix scaled to the number of cells (no power of two needed). */
  private cellOf(h: number): number {
    return Math.floor(((Math.imul(h, 0x2c1b3c6d) >>> 0) * this.cells!.length) / 0x1_0000_0000);
  }

  /** Removes a slot's key from the table, shifting later entries of its probe run back. */
  private unlink(slot: number): void {
    const table = this.table;
    const mask = this.mask;
    const hashes = this.hashes;
    let hole = hashes[slot]! & mask;
    while (table[hole] !== slot + 1) hole = (hole + 1) & mask;
    for (let j = (hole + 1) & mask, e = table[j]!; e !== 0; j = (j + 1) & mask, e = table[j]!) {
      const home = hashes[e - 1]! & mask;
      // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!stays) {
        table[hole] = e;
        hole = j;
      }
    }
    table[hole] = 0;
  }

  private siftUp(at: number): void {
    const { heap, heapCounts, position } = this;
    const slot = heap[at]!;
    const count = heapCounts[at]!;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parentCount = heapCounts[parentAt]!;
      if (parentCount <= count) break;
      const parent = heap[parentAt]!;
      heap[at] = parent;
      heapCounts[at] = parentCount;
      position[parent] = at;
      at = parentAt;
    }
    heap[at] = slot;
    heapCounts[at] = count;
    position[slot] = at;
  }

  /** Moves the entry at `at`, whose count grew, down to where it belongs. */
  private siftDown(at: number): void {
    const { heap, heapCounts, position } = this;
    const n = this.used;
    const slot = heap[at]!;
    const count = heapCounts[at]!;
    for (;;) {
      let childAt = 2 * at + 1;
      if (childAt >= n) break;
      childAt += Number(heapCounts[childAt + 1]! < heapCounts[childAt]!);
      const childCount = heapCounts[childAt]!;
      if (count <= childCount) break;
      const child = heap[childAt]!;
      heap[at] = child;
      heapCounts[at] = childCount;
      position[child] = at;
      at = childAt;
    }
    heap[at] = slot;
    heapCounts[at] = count;
    position[slot] = at;
  }

  /**
   * Gives the root (the counter just taken over) its new count `count` and restores the heap:
   * the hole goes down along the smaller children to a leaf, then the entry climbs back to where
   * it belongs (Floyd's bottom-up sift). The taken-over counter is the smallest plus a weight, so
   * it mostly belongs near the leaves: this compares once per level on the way down, against
   * twice in `siftDown`, and those comparisons with the new count are the ones a CPU mispredicts.
   */
  private replaceRoot(count: number): void {
    const { heap, heapCounts, position } = this;
    const n = this.used;
    const slot = heap[0]!;
    let at = 0;
    for (;;) {
      let childAt = 2 * at + 1;
      if (childAt >= n) break;
      // Without a branch: which child is smaller is a coin toss the CPU would mispredict.
      childAt += Number(heapCounts[childAt + 1]! < heapCounts[childAt]!);
      const child = heap[childAt]!;
      heap[at] = child;
      heapCounts[at] = heapCounts[childAt]!;
      position[child] = at;
      at = childAt;
    }
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parentCount = heapCounts[parentAt]!;
      if (parentCount <= count) break;
      const parent = heap[parentAt]!;
      heap[at] = parent;
      heapCounts[at] = parentCount;
      position[parent] = at;
      at = parentAt;
    }
    heap[at] = slot;
    heapCounts[at] = count;
    position[slot] = at;
  }
}
