/**
 * Test support: `flowcast serve` as a real child process (`node --import tsx cli/flowcast.ts serve`
 * from the repository root), configured through its FLOWCAST_* environment variables, listening on
 * loopback only and on ports the kernel picks (port 0; the bound ports are read from its JSON log
 * lines), plus what end-to-end tests need around it: its Prometheus metrics, bounded polling, and
 * UDP exporters with their own loopback source addresses.
 *
 * Every child started here is killed with SIGKILL if the test process exits while it still runs,
 * so a failing or timed-out test leaves no collector behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

/** Children still running, killed when the test process exits. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Settings of one `flowcast serve` process; everything else is left at its default. */
export interface FlowcastOptions {
  /** FLOWCAST_DATA_DIR. */
  readonly dataDir: string;
  /** FLOWCAST_ROLLUP_INTERVAL, seconds. */
  readonly rollupInterval: number;
  /** FLOWCAST_INFLUX_URL; unset: the embedded store. */
  readonly influxUrl?: string;
  /** FLOWCAST_INFLUX_DATABASE. */
  readonly influxDatabase?: string;
  /** FLOWCAST_LOG_LEVEL; info unless set. */
  readonly logLevel?: string;
  /** How long start-up may take before the process is killed (ms, default 30000). */
  readonly startTimeoutMs?: number;
  /**
   * Further configuration file sections (merged over `http.bind: 127.0.0.1`), for keys that have no
   * environment variable, e.g. `{ collector: { maxExporters: 100 } }`.
   */
  readonly config?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** One JSON log line (pino). */
export type LogLine = Record<string, unknown> & { msg?: string };

/** One sample of the Prometheus text format. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A scrape of `/metrics`. */
export class Metrics {
  constructor(readonly samples: readonly Sample[]) {}

  /** Parses the Prometheus text exposition format (comments skipped). */
  static parse(text: string): Metrics {
    const samples: Sample[] = [];
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
      if (m === null) continue;
      const labels: Record<string, string> = {};
      for (const l of (m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
      samples.push({ name: m[1]!, labels, value: Number(m[3]) });
    }
    return new Metrics(samples);
  }

  /** The sum of every sample named `name` whose labels include `labels` (0 when there is none). */
  value(name: string, labels: Readonly<Record<string, string>> = {}): number {
    let sum = 0;
    for (const s of this.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
    }
    return sum;
  }
}

/** Thrown by a {@link poll} probe to end the polling at once (the awaited thing can no longer happen). */
export class PollAborted extends Error {
  override name = 'PollAborted';
}

/**
 * Polls `probe` every `everyMs` until it returns a value other than undefined; throws after
 * `timeoutMs` (or at once when the probe throws {@link PollAborted}; other errors are retried).
 */
export async function poll<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs, everyMs = 100 }: { timeoutMs: number; everyMs?: number },
  detail: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const maxAttempts = Math.ceil(timeoutMs / everyMs) + 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < maxAttempts && Date.now() <= deadline; attempt++) {
    try {
      const result = await probe();
      if (result !== undefined) return result;
    } catch (err) {
      if (err instanceof PollAborted) throw new Error(`${err.message}\n${detail()}`, { cause: err });
      lastError = err;
    }
    await sleep(everyMs);
  }
  const cause = lastError === undefined ? '' : ` (last error: ${String(lastError)})`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}\n${detail()}`);
}

/** A running `flowcast serve`. */
/**
 * Extra options for the node that runs flowcast, from FLOWCAST_BENCH_NODE_ARGS (space-separated):
 * for example `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a survival or ingest run (Node
 * refuses --cpu-prof in NODE_OPTIONS). Every thread, the decode workers too, writes its profile at exit.
 */
function nodeArgs(): string[] {
  return (process.env['FLOWCAST_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
}

export class FlowcastProcess {
  /** Every JSON line it logged, in order. */
  readonly logs: LogLine[] = [];
  /** Whatever it wrote that was not a JSON log line (stderr, stray stdout). */
  private other = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  netflowPort = 0;
  ipfixPort = 0;
  httpPort = 0;

  private constructor(
    private readonly child: ChildProcess,
    configDir: string,
  ) {
    live.add(child);
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        this.exitInfo = { code, signal };
        resolveExit({ code, signal });
        void rm(configDir, { recursive: true, force: true });
      });
    });
    let buffered = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        this.line(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.other += chunk;
    });
  }

  /**
   * Starts `flowcast serve` with the collector and HTTP API on loopback and kernel-chosen ports;
   * resolves once it logged "flowcast started", with the ports it bound.
   */
  static async start(options: FlowcastOptions): Promise<FlowcastProcess> {
    // The HTTP bind address from a config file: --config is exercised too.
    const configDir = await mkdtemp(join(tmpdir(), 'flowcast-e2e-config-'));
    const configFile = join(configDir, 'flowcast.yaml');
    const sections: Record<string, Record<string, unknown>> = { http: { bind: '127.0.0.1' } };
    for (const [name, section] of Object.entries(options.config ?? {})) {
      sections[name] = { ...sections[name], ...section };
    }
    // JSON is YAML.
    await writeFile(configFile, JSON.stringify(sections));
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      // The test decides flowcast's configuration; profiling (common/profiler.ts) passes through.
      if (!key.startsWith('FLOWCAST_') || key === 'FLOWCAST_CPU_PROFILE_DIR') env[key] = value;
    }
    Object.assign(env, {
      FLOWCAST_NETFLOW_PORT: '0',
      FLOWCAST_IPFIX_PORT: '0',
      FLOWCAST_BIND: '127.0.0.1',
      FLOWCAST_HTTP_PORT: '0',
      FLOWCAST_DATA_DIR: options.dataDir,
      FLOWCAST_ROLLUP_INTERVAL: String(options.rollupInterval),
      FLOWCAST_LOG_LEVEL: options.logLevel ?? 'info',
    });
    if (options.influxUrl !== undefined) env['FLOWCAST_INFLUX_URL'] = options.influxUrl;
    if (options.influxDatabase !== undefined) env['FLOWCAST_INFLUX_DATABASE'] = options.influxDatabase;

    const child = spawn(
      process.execPath,
      [...nodeArgs(), '--import', 'tsx', join('cli', 'flowcast.ts'), 'serve', '--config', configFile],
      { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const fc = new FlowcastProcess(child, configDir);
    try {
      await poll(
        'flowcast started',
        async () => {
          if (fc.exitInfo !== undefined) {
            throw new PollAborted(`flowcast serve exited during start-up (${JSON.stringify(fc.exitInfo)})`);
          }
          return fc.logged('flowcast started') ? true : undefined;
        },
        { timeoutMs: options.startTimeoutMs ?? 30_000, everyMs: 50 },
        () => fc.output(),
      );
      const collector = fc.logs.find((l) => String(l.msg).startsWith('collector listening'));
      const http = fc.logs.find((l) => l.msg === 'HTTP API listening');
      const ports = collector?.['ports'];
      if (!Array.isArray(ports) || ports.length !== 2 || typeof http?.['port'] !== 'number') {
        throw new Error(`cannot find the bound ports in the log:\n${fc.output()}`);
      }
      fc.netflowPort = Number(ports[0]);
      fc.ipfixPort = Number(ports[1]);
      fc.httpPort = http['port'];
    } catch (err) {
      await fc.kill();
      throw err;
    }
    return fc;
  }

  /** Whether it is still running. */
  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** How it exited, or undefined while it runs. */
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exitInfo;
  }

  /** Its process id. */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Its resident set size in bytes (VmRSS of /proc/<pid>/status), or undefined once it is gone. */
  rssBytes(): number | undefined {
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return m === null ? undefined : Number(m[1]) * 1024;
    } catch {
      return undefined;
    }
  }

  /** `GET /api/v1/health`: its status and how long the answer took (ms, measured here). */
  async health(timeoutMs = 5000): Promise<{ status: number; ms: number }> {
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${this.httpPort}/api/v1/health`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - started };
  }

  /** `GET /metrics` as text. */
  async metricsText(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.httpPort}/metrics`, {
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
    return res.text();
  }

  /**
   * Asks for `/api/v1/health` every `everyMs` (one request at a time) and samples RSS with it, until
   * the returned `stop()`; a request that fails or times out (5 s) counts as a failure and as 5 s.
   * The requests come from a child process of their own: a test that sends a flood from this
   * process stalls its own event loop, and timing the answers here would count that stall too.
   */
  watch(everyMs = 50): { stop(): Promise<WatchSummary> } {
    let peakRss = 0;
    let running = true;
    const rssLoop = (async () => {
      while (running && this.running) {
        const rss = this.rssBytes();
        if (rss !== undefined) peakRss = Math.max(peakRss, rss);
        await sleep(everyMs);
      }
    })();
    const prober = spawn(process.execPath, ['--input-type=module', '-e', HEALTH_PROBE], {
      env: {
        ...process.env,
        PROBE_URL: `http://127.0.0.1:${this.httpPort}/api/v1/health`,
        PROBE_EVERY_MS: String(everyMs),
      },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    live.add(prober);
    let out = '';
    prober.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise<void>((resolve) => prober.once('close', () => resolve()));
    return {
      stop: async () => {
        running = false;
        await rssLoop;
        prober.kill('SIGTERM');
        await exited;
        live.delete(prober);
        const latencies: number[] = [];
        let failures = 0;
        for (const line of out.split('\n')) {
          if (line === '') continue;
          const [ms, ok] = line.split(' ');
          latencies.push(Number(ms));
          if (ok !== '1') failures++;
        }
        const sorted = latencies.sort((a, b) => a - b);
        return {
          samples: sorted.length,
          failures,
          worstMs: sorted.at(-1) ?? Number.NaN,
          p99Ms: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? Number.NaN,
          peakRss,
        };
      },
    };
  }

  /** Whether it logged a line with this message. */
  logged(msg: string): boolean {
    return this.logs.some((l) => l.msg === msg);
  }

  /** Its output so far, for failure messages (the last 6000 characters). */
  output(): string {
    const text = `${this.logs.map((l) => JSON.stringify(l)).join('\n')}\n${this.other}`;
    return text.length > 6000 ? `…${text.slice(-6000)}` : text;
  }

  /** Scrapes `/metrics`. */
  async metrics(): Promise<Metrics> {
    const res = await fetch(`http://127.0.0.1:${this.httpPort}/metrics`, {
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
    return Metrics.parse(await res.text());
  }

  /** Scrapes `/metrics` until `ready` accepts a scrape; resolves with that scrape. */
  waitForMetrics(what: string, ready: (m: Metrics) => boolean, timeoutMs: number): Promise<Metrics> {
    let last: Metrics | undefined;
    return poll(
      what,
      async () => {
        if (!this.running) throw new PollAborted(`flowcast serve exited (${JSON.stringify(this.exitInfo)})`);
        last = await this.metrics();
        return ready(last) ? last : undefined;
      },
      { timeoutMs },
      () => `last scrape:\n${summary(last)}\nlog:\n${this.output()}`,
    );
  }

  /** SIGTERM; resolves with the exit once it stopped (SIGKILL and an error after `timeoutMs`). */
  async stop(timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.exitInfo !== undefined) return this.exitInfo;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    if (exit.signal === 'SIGKILL') {
      throw new Error(`flowcast serve did not stop within ${timeoutMs} ms of SIGTERM:\n${this.output()}`);
    }
    return exit;
  }

  /** SIGKILL, and wait until it is gone. */
  async kill(): Promise<void> {
    if (this.exitInfo !== undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  private line(text: string): void {
    if (text.trim() === '') return;
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        this.logs.push(parsed as LogLine);
        return;
      }
    } catch {
      // not JSON
    }
    this.other += `${text}\n`;
  }
}

/** The health prober's program: one request at a time, each printed as `<ms> <1 if 200>`. */
const HEALTH_PROBE = `
const url = process.env.PROBE_URL;
const every = Number(process.env.PROBE_EVERY_MS);
// Not timed: the first fetch of a process loads the HTTP client and opens the connection, which
// took 260 ms here and was once counted as flowcast's worst answer.
try {
  await (await fetch(url, { signal: AbortSignal.timeout(5000) })).arrayBuffer();
} catch {}
for (;;) {
  const t = performance.now();
  let ok = '0';
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    ok = res.status === 200 ? '1' : '0';
  } catch {}
  const ms = ok === '1' ? performance.now() - t : Math.max(5000, performance.now() - t);
  process.stdout.write(ms.toFixed(1) + ' ' + ok + '\\n');
  await new Promise((r) => setTimeout(r, every));
}
`;

/** What {@link FlowcastProcess.watch} saw. */
export interface WatchSummary {
  readonly samples: number;
  readonly failures: number;
  readonly worstMs: number;
  readonly p99Ms: number;
  /** Bytes. */
  readonly peakRss: number;
}

/** The flowcast_* samples of a scrape, minus the process ones, for failure messages. */
function summary(m: Metrics | undefined): string {
  if (m === undefined) return '(none)';
  return m.samples
    .filter((s) => s.name.startsWith('flowcast_') && !s.name.startsWith('flowcast_process_'))
    .map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`)
    .join('\n');
}

/** A UDP exporter on its own loopback address (127.0.0.0/8 is all loopback on Linux). */
export class UdpExporter {
  private constructor(
    private readonly socket: Socket,
    readonly address: string,
  ) {}

  /** Binds a socket to `address` and a kernel-chosen port. */
  static async open(address: string): Promise<UdpExporter> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolveBind, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => {
        socket.off('error', reject);
        resolveBind();
      });
    });
    return new UdpExporter(socket, address);
  }

  /** Sends each payload in order to 127.0.0.1:`port`, each send awaited. */
  async send(payloads: readonly Uint8Array[], port: number): Promise<void> {
    for (const payload of payloads) {
      await new Promise<void>((resolveSend, reject) => {
        this.socket.send(payload, port, '127.0.0.1', (err) => (err ? reject(err) : resolveSend()));
      });
    }
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * Sends `payloads` to 127.0.0.1:`port` from each of `count` loopback source addresses (a fresh
 * socket per address, closed after its sends): `address(i)` names the i-th. Sends are not awaited
 * one by one but in bursts of `burst`, with a turn of the event loop between bursts so that the
 * caller's timers (health probes) keep running.
 */
export async function sendFromMany(
  count: number,
  address: (i: number) => string,
  payloads: (i: number) => readonly Uint8Array[],
  port: number,
  burst = 64,
): Promise<number> {
  let sent = 0;
  for (let i = 0; i < count; i++) {
    const exporter = await UdpExporter.open(address(i));
    try {
      const list = payloads(i);
      await exporter.send(list, port);
      sent += list.length;
    } finally {
      exporter.close();
    }
    if (i % burst === burst - 1) await new Promise((r) => setImmediate(r));
  }
  return sent;
}

/** The i-th address of 127.`first`.0.0/16 upwards, skipping .0 and .255 host bytes (i < 64,000). */
export function loopbackAddress(first: number, i: number): string {
  const host = (i % 250) + 1;
  const mid = Math.floor(i / 250);
  return `127.${first + Math.floor(mid / 256)}.${mid % 256}.${host}`;
}
