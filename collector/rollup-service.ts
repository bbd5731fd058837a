/**
 * The rollup as a component: a timer emits due windows every few seconds; `stop()` emits every
 * open window (SIGTERM flushes the open interval rather than losing it).
 */
import type { Rollup } from './rollup.js';

export class RollupService {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly rollup: Rollup,
    private readonly flushEveryMs: number,
  ) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => this.rollup.flush(Date.now()), this.flushEveryMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.rollup.close(Date.now());
  }
}
