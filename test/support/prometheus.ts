/**
 * A real Prometheus (Debian's `prometheus` package) for tests: its own temporary directory, a free
 * loopback port, scraping one target on loopback every second. The dashboard tests point it at a
 * running `flowcast serve` and run every PromQL expression of the dashboards and alert rules against
 * it. A missing prometheus skips those tests visibly, except under CI=true (tools.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.js';
import { findExecutable, requireTool, toolRuns } from './tools.js';

/** Whether prometheus is installed and runs; fails under CI=true when not (tools.ts). */
export function prometheusAvailable(): boolean {
  return requireTool('prometheus', toolRuns('prometheus', ['--version']));
}

/** The JSON answer of `/api/v1/query`. */
export interface PromQueryResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] };
}

/** One prometheus process scraping `target` (host:port, loopback) every second. */
export class Prometheus {
  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts prometheus and waits until it is ready (`/-/ready`), at most 30 s. */
  static async launch(target: string): Promise<Prometheus> {
    const executable = findExecutable('prometheus');
    if (executable === undefined) throw new Error('prometheus is not installed');
    if (!/^127\.\d+\.\d+\.\d+:\d+$/.test(target)) throw new Error(`not a loopback target: ${target}`);
    const dir = await mkdtemp(join(tmpdir(), 'flowcast-prometheus-'));
    const port = await freePort();
    const config = join(dir, 'prometheus.yml');
    await writeFile(
      config,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'scrape_configs:',
        '  - job_name: flowcast',
        `    static_configs: [{ targets: ["${target}"] }]`,
        '',
      ].join('\n'),
    );
    const child = spawn(
      executable,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const log = createWriteStream(join(dir, 'prometheus.log'));
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const server = new Prometheus(child, dir, port);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      const ready = await fetch(`${server.url}/-/ready`).then(
        (res) => res.ok,
        () => false,
      );
      if (ready) return server;
      await sleep(100);
    }
    const text = await readFile(join(dir, 'prometheus.log'), 'utf8').catch(() => '');
    await server.destroy();
    throw new Error(`prometheus did not get ready within 30 s:\n${text.slice(-2000)}`);
  }

  /** Runs an instant PromQL query now. */
  async query(expr: string): Promise<PromQueryResponse> {
    const res = await fetch(`${this.url}/api/v1/query?${new URLSearchParams({ query: expr })}`, {
      signal: AbortSignal.timeout(10_000),
    });
    return (await res.json()) as PromQueryResponse;
  }

  /** Stops prometheus (SIGTERM, SIGKILL after 10 s) and deletes its directory. */
  async destroy(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
