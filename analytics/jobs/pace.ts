/**
 * A job's rests. A forecast run reads and writes hundreds of thousands of points and fits models
 * for seconds; flat out it takes, besides its own niced thread, the store thread, DuckDB's threads
 * and the engine's garbage-collection threads, which share the cores with the decode workers at
 * full priority. On the 2-core VM, a forecast run over 122 series made a collector receiving
 * 30,000 datagrams a second lose a quarter of them (`npm run bench:ingest -- --job forecast`, at
 * load 3-4, with 6 of the 14 days of history).
 * Resting after each piece of work for as long as the work took, scaled by the duty cycle, spreads
 * the same work over a longer time, so those threads leave the cores to the collector: with the
 * default 0.25 (analytics/jobs/config.ts) the same collector lost nothing at 50,000 datagrams a
 * second through a run (10 s sends), with 0.5 it lost 0.8 % at 40,000 and 4.1 % at 50,000.
 */

/** Work shorter than this since the last rest goes on without one (no sleeps of a few µs). */
export const MIN_WORK_MS = 20;

export class Pacer {
  private since: number;

  /**
   * @param duty Fraction of the wall time the job works, in (0, 1]; 1 never rests.
   * @param clock Milliseconds (monotonic).
   */
  constructor(
    readonly duty: number,
    private readonly clock: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    if (!(duty > 0 && duty <= 1)) throw new RangeError('duty must be in (0, 1]');
    this.since = clock();
  }

  /**
   * Called after each piece of work (a series read, a batch of fits, a batch of points written):
   * rests (1 − duty) / duty times the time worked since the last rest, once that is MIN_WORK_MS.
   */
  async pause(): Promise<void> {
    if (this.duty >= 1) return;
    const worked = this.clock() - this.since;
    if (worked < MIN_WORK_MS) return;
    await this.sleep((worked * (1 - this.duty)) / this.duty);
    this.since = this.clock();
  }
}
