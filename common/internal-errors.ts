/**
 * The service's last line of defence: an unexpected error in a timer, a socket handler or a
 * callback is logged (rate-limited), counted by component (`flowcast_internal_errors_total`) and
 * survived. Nothing that arrives from the network may end the process; an error here is a bug to
 * fix, and the counter is how it is noticed.
 */
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { RateLimitedLog } from './logger.js';

export class InternalErrors {
  /** Errors caught, by component. */
  readonly counts = new Map<string, number>();
  private readonly warn: RateLimitedLog;

  constructor(log: Logger) {
    this.warn = new RateLimitedLog(log);
  }

  /** Counts and logs one unexpected error of `component`. Never throws. */
  report(component: string, err: unknown): void {
    this.counts.set(component, (this.counts.get(component) ?? 0) + 1);
    try {
      this.warn.error(`internal:${component}`, { component, err }, 'internal error survived');
    } catch {
      // A logger that throws must not turn one error into a crash.
    }
  }

  /**
   * `fn` wrapped so that a throw, or a rejection of the promise it returns, is reported under
   * `component` instead of escaping into the event loop.
   */
  guard<A extends unknown[]>(component: string, fn: (...args: A) => unknown): (...args: A) => void {
    return (...args: A) => {
      try {
        const result = fn(...args);
        if (result instanceof Promise) result.catch((err: unknown) => this.report(component, err));
      } catch (err) {
        this.report(component, err);
      }
    };
  }
}

/** `flowcast_internal_errors_total{component}`. */
export function registerInternalErrorMetrics(registry: Registry, errors: InternalErrors): void {
  new Counter({
    name: 'flowcast_internal_errors_total',
    help: 'Unexpected errors caught and survived, by component (each one is a bug to report)',
    labelNames: ['component'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [component, n] of errors.counts) this.inc({ component }, n);
    },
  });
}
