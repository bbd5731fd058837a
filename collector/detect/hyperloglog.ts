/**
 * HyperLogLog distinct counters (Flajolet, Fusy, Gandouet, Meunier, "HyperLogLog: the analysis of a
 * near-optimal cardinality estimation algorithm", AofA 2007), many of them in one byte array: one
 * counter per slot of a heavy-hitter table, so that "how many distinct sources sent to this host" or
 * "how many distinct host:port pairs did this source touch" costs 2^p bytes per slot whatever the
 * traffic, never a set per address.
 *
 * Precision p gives m = 2^p one-byte registers and a standard error of about 1.04/√m (6.5 % at
 * p = 8). Small cardinalities (below 2.5 m) use linear counting, exact enough to classify a scan.
 * Hashes are 32-bit; at the cardinalities one slot sees in one window (far below 2^32 / 30) the
 * large-range correction is not needed.
 */

/** Per-process seed, so an adversary cannot pick addresses that collide in every registry. */
const SEED = (Math.random() * 0x1_0000_0000) | 0;

/** MurmurHash3's 32-bit finaliser over a seeded integer: a well-mixed hash of `x`. */
export function hash32(x: number): number {
  let h = (x ^ SEED) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** A well-mixed hash of two integers (an address and a port). */
export function hash2(a: number, b: number): number {
  return hash32(hash32(a) ^ Math.imul(b + 0x9e3779b9, 0x27d4eb2f));
}

/** A well-mixed hash of four 32-bit words (an IPv6 address as the decoder reads it). */
export function hashWords(a: number, b: number, c: number, d: number): number {
  let h = hash32(a);
  h = hash32(h ^ Math.imul(b, 0x9e3779b1));
  h = hash32(h ^ Math.imul(c, 0x85ebca6b));
  return hash32(h ^ Math.imul(d, 0xc2b2ae35));
}

/**
 * A well-mixed hash of a string (an IPv6 address in text). FNV-1a from the per-process seed, not
 * from its published basis: with that, pairs that collide are listed in the open ("costarring" and
 * "liquid"), and the seeded finaliser after it cannot part what collided before it.
 */
export function hashText(text: string): number {
  let h = (0x811c9dc5 ^ SEED) | 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return hash32(h);
}

export class HllBank {
  private readonly registers: Uint8Array;
  private readonly m: number;
  private readonly shift: number;
  private readonly alphaMM: number;

  /**
   * @param slots number of independent counters
   * @param precision p, 4..16: 2^p registers (bytes) per counter
   */
  constructor(
    readonly slots: number,
    readonly precision = 8,
  ) {
    if (!Number.isInteger(precision) || precision < 4 || precision > 16)
      throw new RangeError('precision must be an integer from 4 to 16');
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError('slots must be a positive integer');
    this.m = 1 << precision;
    this.shift = 32 - precision;
    this.registers = new Uint8Array(slots * this.m);
    const alpha =
      this.m >= 128 ? 0.7213 / (1 + 1.079 / this.m) : this.m === 64 ? 0.709 : this.m === 32 ? 0.697 : 0.673;
    this.alphaMM = alpha * this.m * this.m;
  }

  /** Bytes held by the registers. */
  get bytes(): number {
    return this.registers.length;
  }

  /** Adds a 32-bit hash (from hash32, hash2 or hashText) to counter `slot`. */
  add(slot: number, hash: number): void {
    const index = slot * this.m + (hash >>> this.shift);
    // Rank of the first 1 bit in the remaining 32 - p bits (1-based); all zero gives 33 - p.
    const rest = hash << (32 - this.shift);
    const rank = rest === 0 ? this.shift + 1 : Math.clz32(rest) + 1;
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  /** Estimated number of distinct hashes added to counter `slot`. */
  estimate(slot: number): number {
    const start = slot * this.m;
    let sum = 0;
    let zeros = 0;
    for (let i = start; i < start + this.m; i++) {
      const r = this.registers[i]!;
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const raw = this.alphaMM / sum;
    if (raw <= 2.5 * this.m && zeros > 0) return this.m * Math.log(this.m / zeros);
    return raw;
  }

  /** Empties counter `slot`. */
  clear(slot: number): void {
    this.registers.fill(0, slot * this.m, (slot + 1) * this.m);
  }

  /** Empties every counter. */
  clearAll(): void {
    this.registers.fill(0);
  }
}
