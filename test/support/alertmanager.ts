/**
 * A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, 0.25) for tests: its own
 * temporary directory and config, a free loopback port, clustering off. A missing binary skips the
 * suites that need it, visibly, except under CI=true where it fails them (tools.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { findExecutable, requireTool, toolRuns } from './tools.js';

const BINARY = 'prometheus-alertmanager';

/** Whether Alertmanager is installed and runs; fails under CI=true when not, else skips visibly. */
export function alertmanagerAvailable(): boolean {
  return requireTool(BINARY, toolRuns(BINARY, ['--version']));
}

/** An alert as Alertmanager's `GET /api/v2/alerts` returns it. */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: string };
}

export class Alertmanager {
  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts Alertmanager with a config that routes everything to a receiver that sends nowhere. */
  static async launch(): Promise<Alertmanager> {
    const executable = findExecutable(BINARY);
    if (executable === undefined) throw new Error(`${BINARY} is not installed`);
    const dir = await mkdtemp(join(tmpdir(), 'flowcast-alertmanager-'));
    const config = join(dir, 'alertmanager.yml');
    await writeFile(config, 'route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n');
    const port = await freePort();
    const child = spawn(
      executable,
      [
        `--config.file=${config}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const log = createWriteStream(join(dir, 'alertmanager.log'));
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const am = new Alertmanager(child, dir, port);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        const text = await readFile(join(dir, 'alertmanager.log'), 'utf8').catch(() => '');
        throw new Error(`alertmanager exited during start-up:\n${text.slice(-2000)}`);
      }
      const ready = await fetch(`${am.url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return am;
      await new Promise((r) => setTimeout(r, 100));
    }
    await am.destroy();
    throw new Error('alertmanager was not ready within 30 s');
  }

  /** Alerts Alertmanager holds (active ones; resolved alerts are left out, as its API does). */
  async alerts(): Promise<AlertmanagerAlert[]> {
    const res = await fetch(`${this.url}/api/v2/alerts`);
    if (!res.ok) throw new Error(`GET /api/v2/alerts: ${res.status}`);
    return (await res.json()) as AlertmanagerAlert[];
  }

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
