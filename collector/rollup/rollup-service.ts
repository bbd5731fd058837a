/**
 * The rollup as a component: a timer emits due windows every few seconds; `stop()` emits every
 * open window (SIGTERM writes the interval in progress rather than losing it) and records in the
 * data directory where the next process must resume, so that a restart inside an interval does
 * not write that interval again over what was written at stop.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { InternalErrors } from '../../common/internal-errors.js';
import type { Rollup } from './rollup.js';

export class RollupService {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly rollup: Rollup,
    private readonly flushEveryMs: number,
    /** `<dataDir>/rollup-state.json`; undefined keeps no state. */
    private readonly stateFile: string | undefined,
    private readonly log: Logger,
    private readonly internalErrors: InternalErrors,
  ) {}

  async start(): Promise<void> {
    if (this.stateFile !== undefined) {
      const text = await readFile(this.stateFile, 'utf8').catch(() => undefined);
      if (text !== undefined) {
        let resumeAt = Number.NaN;
        try {
          resumeAt = Number((JSON.parse(text) as { resumeAt?: unknown }).resumeAt);
        } catch (err) {
          this.log.warn({ err, file: this.stateFile }, 'rollup: state file unreadable; starting afresh');
        }
        if (Number.isSafeInteger(resumeAt)) {
          this.rollup.resumeAfter(resumeAt);
          if (resumeAt > Date.now()) {
            this.log.info(
              { resumeAt: new Date(resumeAt).toISOString() },
              'rollup: resuming after the interval written at the last stop',
            );
          }
        }
      }
    }
    this.timer = setInterval(
      this.internalErrors.guard('rollup.flush', () => this.rollup.flush(Date.now())),
      this.flushEveryMs,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    try {
      this.rollup.close(Date.now());
    } catch (err) {
      this.internalErrors.report('rollup.close', err);
    }
    if (this.stateFile === undefined) return;
    try {
      const tmp = `${this.stateFile}.tmp`;
      await writeFile(tmp, JSON.stringify({ resumeAt: this.rollup.resumeAt }));
      await rename(tmp, this.stateFile);
    } catch (err) {
      this.log.error({ err, file: this.stateFile }, 'rollup: could not record where to resume');
    }
  }
}
