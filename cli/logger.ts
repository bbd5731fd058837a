/**
 * Structured logging (pino) and a rate limiter for warnings that bad input can trigger at line
 * rate: the first few are logged, the rest are counted and summarised once per interval.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'flowcast' }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** Logs at most `burst` messages per key and interval; reports how many were suppressed. */
export class RateLimitedLog {
  private readonly seen = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 60_000,
    private readonly burst = 5,
  ) {}

  warn(key: string, obj: Record<string, unknown>, msg: string, now = Date.now()): void {
    let s = this.seen.get(key);
    if (s === undefined || now - s.since >= this.intervalMs) {
      if (s !== undefined && s.count > this.burst) {
        this.log.warn({ key, suppressed: s.count - this.burst }, 'repeated warnings suppressed');
      }
      s = { count: 0, since: now };
      this.seen.set(key, s);
    }
    s.count++;
    if (s.count <= this.burst) this.log.warn(obj, msg);
  }
}
