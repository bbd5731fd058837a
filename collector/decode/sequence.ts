/**
 * Sequence-number tracking for one exporter and observation domain.
 *
 * What a sequence number counts differs by version (v5: flows, v9: export packets, IPFIX: data
 * records), so the caller passes how much each datagram advances it. A gap is counted only once
 * it is certain: a missing range stays a "hole" while later datagrams could still fill it (UDP
 * reorders), and becomes a gap when the sequence has moved more than the reorder window past it or
 * when too many holes are open. A jump beyond the window is a restart only when the datagram
 * after it continues from there (or when the caller sees the exporter's uptime go back); a single
 * datagram delayed past the window is not.
 */

/** The result of one observation, for tests and logs. */
export type SequenceOutcome = 'first' | 'in-order' | 'gap' | 'late' | 'duplicate' | 'restart';

interface Hole {
  start: number;
  end: number; // exclusive
}

/** The largest open holes kept; beyond that the oldest is counted lost at once. */
const MAX_HOLES = 16;

export class SequenceTracker {
  /** Units (flows, packets or records, by version) confirmed missing. */
  lost = 0;
  /** Datagrams that arrived late but within the reorder window. */
  reordered = 0;
  restarts = 0;
  private expected: number | undefined;
  /** Where the sequence would continue if the last far-off datagram was a restart. */
  private candidate: number | undefined;
  private readonly holes: Hole[] = [];

  /** @param window how far, in sequence units, a datagram may arrive out of order. */
  constructor(private readonly window: number) {}

  /** Forgets the position, e.g. when the datagram's advance could not be known. */
  resync(): void {
    this.settleAll();
    this.expected = undefined;
  }

  /** Records a datagram carrying sequence `seq` that advances the counter by `advance`. */
  observe(seq: number, advance: number): SequenceOutcome {
    const expected = this.expected;
    if (expected === undefined) {
      this.expected = (seq + advance) >>> 0;
      return 'first';
    }
    const ahead = (seq - expected) | 0; // signed distance, modulo 2^32
    const candidate = this.candidate;
    this.candidate = undefined;
    if (ahead === 0) {
      this.expected = (seq + advance) >>> 0;
      this.retire();
      return 'in-order';
    }
    if (ahead > 0 && ahead <= 0x4000_0000) {
      this.holes.push({ start: expected, end: seq });
      this.expected = (seq + advance) >>> 0;
      this.retire();
      return 'gap';
    }
    if (ahead < 0 && -ahead <= this.window) {
      return this.fill(seq, advance);
    }
    // Far behind (or absurdly far ahead): a restart, or one datagram delayed past the window.
    // Only the next datagram continuing from this one confirms a restart.
    const next = (seq + advance) >>> 0;
    if (candidate === seq) {
      this.restart(next);
      return 'restart';
    }
    this.candidate = next;
    return 'duplicate';
  }

  /**
   * The exporter restarted (its sequence continued from a new position, or the caller saw its
   * uptime go back): forget the old position and settle the holes.
   */
  restart(next: number | undefined): void {
    this.restarts++;
    this.settleAll();
    this.expected = next;
    this.candidate = undefined;
  }

  /** A late datagram: take its range out of the hole that contains it. */
  private fill(seq: number, advance: number): SequenceOutcome {
    for (let i = 0; i < this.holes.length; i++) {
      const h = this.holes[i]!;
      const into = (seq - h.start) | 0;
      const size = (h.end - h.start) | 0;
      if (into < 0 || into >= size) continue;
      const taken = Math.min(advance, size - into);
      const rest: Hole[] = [];
      if (into > 0) rest.push({ start: h.start, end: seq });
      const after = (seq + taken) >>> 0;
      if (((h.end - after) | 0) > 0) rest.push({ start: after, end: h.end });
      this.holes.splice(i, 1, ...rest);
      this.reordered++;
      return 'late';
    }
    return 'duplicate';
  }

  /** Counts holes the sequence has left behind by more than the window, or beyond MAX_HOLES. */
  private retire(): void {
    const expected = this.expected ?? 0;
    while (this.holes.length > 0) {
      const h = this.holes[0]!;
      if (this.holes.length <= MAX_HOLES && ((expected - h.end) | 0) <= this.window) break;
      this.lost += (h.end - h.start) >>> 0;
      this.holes.shift();
    }
  }

  private settleAll(): void {
    for (const h of this.holes) this.lost += (h.end - h.start) >>> 0;
    this.holes.length = 0;
  }

  /** Units in open holes: missing now, not yet counted lost. */
  get pending(): number {
    let n = 0;
    for (const h of this.holes) n += (h.end - h.start) >>> 0;
    return n;
  }
}
