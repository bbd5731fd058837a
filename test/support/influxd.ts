/**
 * A real InfluxDB 1.x (Debian's influxd 1.6.7) for tests: its own temporary directory, free
 * loopback ports, no config file. It can be stopped and started again on the same ports and data,
 * for outage tests. A missing influxd skips the suites that need it, visibly, except under CI=true
 * where it fails them (tools.ts; docs/operations.md: tests against real services CI may not skip).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { findExecutable, requireTool } from './tools.js';

/** The influxd binary, when there is one. */
const INFLUXD = findExecutable('influxd');

/**
 * Whether influxd is installed and runs. When not: fails under CI=true, otherwise skips visibly
 * (the shared rule of tools.ts). Call once at module level and pass the result to `describe.skipIf`.
 */
export function influxdAvailable(): boolean {
  const runs = INFLUXD !== undefined && spawnSync(INFLUXD, ['version']).status === 0;
  return requireTool('influxd', runs);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One influxd process with its data directory and ports. */
export class Influxd {
  private process: ChildProcess | undefined;

  private constructor(
    /** The temporary directory holding meta/, data/, wal/ and influxd.log. */
    readonly dir: string,
    readonly httpPort: number,
    private readonly bindPort: number,
  ) {}

  /** Base URL of the HTTP API, for example `http://127.0.0.1:40123`. */
  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** Creates a temporary directory, picks free ports, starts influxd and waits for `/ping`. */
  static async launch(): Promise<Influxd> {
    const dir = await mkdtemp(join(tmpdir(), 'flowcast-influxd-'));
    const server = new Influxd(dir, await freePort(), await freePort());
    await server.start();
    return server;
  }

  /** Starts influxd (again) on the same ports and data; resolves once `/ping` answers. */
  async start(): Promise<void> {
    if (this.process !== undefined) throw new Error('influxd is already running');
    if (INFLUXD === undefined) throw new Error('influxd is not installed');
    const { dir } = this;
    const child = spawn(INFLUXD, ['run', '-config', '/dev/null'], {
      env: {
        ...process.env,
        INFLUXDB_HTTP_BIND_ADDRESS: `127.0.0.1:${this.httpPort}`,
        INFLUXDB_BIND_ADDRESS: `127.0.0.1:${this.bindPort}`,
        INFLUXDB_META_DIR: join(dir, 'meta'),
        INFLUXDB_DATA_DIR: join(dir, 'data'),
        INFLUXDB_DATA_WAL_DIR: join(dir, 'wal'),
        INFLUXDB_MONITOR_STORE_ENABLED: 'false',
        INFLUXDB_REPORTING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logFile = createWriteStream(join(dir, 'influxd.log'), { flags: 'a' });
    child.stdout?.pipe(logFile, { end: false });
    child.stderr?.pipe(logFile, { end: false });
    this.process = child;
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (exited) {
        this.process = undefined;
        const log = await readFile(join(dir, 'influxd.log'), 'utf8').catch(() => '');
        throw new Error(`influxd exited during start-up:\n${log.slice(-2000)}`);
      }
      const ok = await fetch(`${this.url}/ping`).then(
        (res) => res.status === 204,
        () => false,
      );
      if (ok) return;
      await sleep(50);
    }
    await this.stop();
    throw new Error('influxd did not answer /ping within 30 s');
  }

  /** Stops influxd with SIGTERM and waits for it to exit (SIGKILL after 15 s). */
  async stop(): Promise<void> {
    const child = this.process;
    if (child === undefined) return;
    this.process = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops influxd and deletes its directory. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Runs one InfluxQL statement over `/query` (POST) and returns the parsed JSON answer. */
  async query(db: string, q: string): Promise<InfluxQueryResponse> {
    const res = await fetch(`${this.url}/query?${new URLSearchParams({ db, epoch: 'ms', q })}`, {
      method: 'POST',
    });
    return (await res.json()) as InfluxQueryResponse;
  }
}

/** The JSON answer of InfluxDB's `/query`. */
export interface InfluxQueryResponse {
  results?: Array<{
    error?: string;
    series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>;
  }>;
  error?: string;
}
