/**
 * Structured logging (pino) and a rate limiter for warnings that bad input can trigger at line
 * rate: the first few per key are logged, the rest counted and summarised once per interval. A
 * global limit over all keys bounds the log however many sources misbehave (5,000 junk sources
 * once wrote 12.6 MB of log in 134 s with a per-source limit alone), and the table of keys is
 * bounded too.
 */
import { type DestinationStream, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Bytes of log lines the service holds for stdout at most; past it, lines are dropped and counted. */
export const LOG_BUFFER_BYTES = 16 * 1024 * 1024;

/** The service's stdout for its JSON log, written without blocking (`serviceOutput`). */
export interface LogOutput {
  /** The logger's destination. */
  readonly stream: DestinationStream;
  /** Writes whole lines (a decode worker's log, relayed). */
  write(lines: string): void;
  /** Bytes dropped because stdout's reader fell `LOG_BUFFER_BYTES` behind. */
  readonly droppedBytes: number;
}

/**
 * stdout for the service's JSON log, written asynchronously through a bounded buffer. Node writes
 * to a pipe synchronously on Linux, so a reader that stops reading (a stalled log shipper, a
 * full journald socket, a supervisor busy elsewhere) held the receiving thread as long as it
 * stalled: 260 ms in one survival run, and for ever if the reader never came back. Lines now wait
 * in memory up to `maxBytes`; past that they are dropped and counted, and what waits is written out
 * at exit.
 */
export function serviceOutput(maxBytes = LOG_BUFFER_BYTES, fd = 1): LogOutput {
  const stream = pino.destination({ dest: fd, sync: false, maxLength: maxBytes });
  let droppedBytes = 0;
  stream.on('drop', (data: string | Buffer) => {
    droppedBytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  });
  return {
    stream,
    write: (lines) => {
      stream.write(lines);
    },
    get droppedBytes() {
      return droppedBytes;
    },
  };
}

/** `pretty`: readable lines; `json`: one JSON object a line; `auto`: pretty on a terminal, else JSON. */
export type LogFormat = 'auto' | 'pretty' | 'json';

const VERBOSE = new Set(['debug', 'trace']);

/** `auto` decided: readable lines on a terminal, JSON elsewhere. */
export function resolveFormat(
  format: LogFormat,
  destination: NodeJS.WritableStream | DestinationStream = process.stdout,
): Exclude<LogFormat, 'auto'> {
  if (format !== 'auto') return format;
  return (destination as { isTTY?: boolean }).isTTY === true ? 'pretty' : 'json';
}

/**
 * The service's logger. Errors carry their stack only at debug and trace: at info a person reads
 * what failed, not where in the code.
 */
export function createLogger(
  level: string,
  format: LogFormat = 'json',
  destination: NodeJS.WritableStream | DestinationStream = process.stdout,
): Logger {
  const verbose = VERBOSE.has(level);
  const readable = resolveFormat(format, destination) === 'pretty';
  const options = {
    level,
    base: { service: 'flowcast' },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: {
      err: (err: unknown) => {
        const s = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
        if (!verbose) delete s['stack'];
        // On a readable line an error is its text (its stack, at debug, on the lines below).
        if (readable)
          return verbose && typeof s['stack'] === 'string'
            ? s['stack']
            : `${String(s['type'])}: ${String(s['message'])}`;
        return s;
      },
    },
  };
  if (!readable) return pino(options, destination);
  return pino(
    options,
    pretty({
      destination,
      sync: true,
      colorize: (destination as { isTTY?: boolean }).isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service,err',
      singleLine: true,
      // The error's text follows the message on its line (pino-pretty would print it below).
      messageFormat: (entry: Record<string, unknown>, key: string) =>
        entry['err'] === undefined ? String(entry[key]) : `${String(entry[key])}: ${String(entry['err'])}`,
    }),
  );
}

export interface RateLimitOptions {
  /** The window the limits apply to (ms). */
  intervalMs: number;
  /** Messages per key and window. */
  burst: number;
  /** Messages over all keys and window. */
  globalBurst: number;
  /** Keys remembered at once; beyond, the table is cleared (their counts restart). */
  maxKeys: number;
}

const DEFAULTS: RateLimitOptions = { intervalMs: 60_000, burst: 5, globalBurst: 50, maxKeys: 4096 };

/** Logs at most `burst` messages per key and `globalBurst` over all keys per interval; reports how many were suppressed. */
export class RateLimitedLog {
  private readonly seen = new Map<string, { count: number; since: number }>();
  private readonly o: RateLimitOptions;
  private globalSince = Number.NEGATIVE_INFINITY;
  private globalCount = 0;
  private globalSuppressed = 0;

  constructor(
    private readonly log: Logger,
    options: Partial<RateLimitOptions> = {},
  ) {
    this.o = { ...DEFAULTS, ...options };
  }

  warn(key: string, obj: Record<string, unknown>, msg: string, now = Date.now()): void {
    if (this.admit(key, now)) this.log.warn(obj, msg);
  }

  info(key: string, obj: Record<string, unknown>, msg: string, now = Date.now()): void {
    if (this.admit(key, now)) this.log.info(obj, msg);
  }

  error(key: string, obj: Record<string, unknown>, msg: string, now = Date.now()): void {
    if (this.admit(key, now)) this.log.error(obj, msg);
  }

  private admit(key: string, now: number): boolean {
    if (now - this.globalSince >= this.o.intervalMs) {
      if (this.globalSuppressed > 0) {
        this.log.warn(
          { suppressed: this.globalSuppressed, windowSeconds: this.o.intervalMs / 1000 },
          'warnings suppressed by the global log limit',
        );
      }
      this.globalSince = now;
      this.globalCount = 0;
      this.globalSuppressed = 0;
    }
    let s = this.seen.get(key);
    if (s === undefined || now - s.since >= this.o.intervalMs) {
      if (s !== undefined && s.count > this.o.burst) {
        if (this.emitGlobal()) {
          this.log.warn({ key, suppressed: s.count - this.o.burst }, 'repeated warnings suppressed');
        }
      }
      if (s === undefined && this.seen.size >= this.o.maxKeys) this.seen.clear();
      s = { count: 0, since: now };
      this.seen.set(key, s);
    }
    s.count++;
    if (s.count > this.o.burst) return false;
    return this.emitGlobal();
  }

  /** Takes one message from the global allowance; false (counted) when it is spent. */
  private emitGlobal(): boolean {
    if (this.globalCount >= this.o.globalBurst) {
      this.globalSuppressed++;
      return false;
    }
    this.globalCount++;
    return true;
  }
}
