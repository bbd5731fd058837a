/**
 * The receivers `npm run bench:ingest` compares, each started fresh for every rate, on loopback:
 *
 * - `flowcast serve`: embedded store, rollups on (60 s, the default), default configuration with
 *   kernel-chosen loopback ports (test/support/flowcast-process.ts). Counts from its /metrics.
 * - `nfcapd` (Debian's nfdump): writes to a temporary directory, asks for the same 32 MiB receive
 *   buffer as flowcast; counts from `nfdump -R DIR -I` once it has stopped, and its own stat line.
 * - a bare Node.js socket that only counts (udp-counter.ts): the ceiling of one JavaScript thread.
 *
 * Kernel drops are read the same way for all three, from the `drops` column of /proc/net/udp for
 * the receiver's own sockets (collector/receive/socket-drops.ts).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { udpSocketDrops } from '../../collector/receive/socket-drops.js';
import { EmbeddedStore } from '../../storage/embedded/embedded-store.js';
import { FlowcastProcess } from '../../test/support/flowcast-process.js';
import { findExecutable } from '../../test/support/tools.js';
import { sineTrafficHistory, writeHistory } from '../../test/support/traffic-history.js';
import { peakRssBytes } from './proc.js';

const run = promisify(execFile);

/** What a receiver took in, read once the sender finished and the receiver went idle. */
export interface ReceiverCounts {
  /** Datagrams it received (flowcast: decoded), when it says. */
  readonly datagrams: number | undefined;
  /** Flow records it decoded, when it decodes. */
  readonly records: number | undefined;
  /** Datagrams the kernel dropped at its sockets. */
  readonly kernelDrops: number | undefined;
  /** Datagrams it dropped itself (flowcast's receive queue). */
  readonly queueDropped: number | undefined;
  /** VmHWM, bytes. */
  readonly peakRss: number | undefined;
  /** Anything worth printing beside the figures (sequence errors, exit trouble). */
  readonly notes: readonly string[];
}

/** A receiver that runs. */
export interface RunningReceiver {
  readonly pid: number;
  /** The UDP port the stream goes to. */
  readonly port: number;
  /** Its UDP ports, for the kernel's counters. */
  readonly ports: readonly number[];
  /** Called just before the stream starts. */
  beforeSend(): Promise<void>;
  /** Reads its counts, then stops it. */
  finish(): Promise<ReceiverCounts>;
  /** Stops it at once (error paths). */
  kill(): Promise<void>;
}

export interface Receiver {
  readonly name: string;
  /** Whether it can run here; a reason when not. */
  unavailable(): string | undefined;
  /**
   * Starts it; with `profileDir` (flowcast only) SIGUSR2 then starts and stops a CPU profile of
   * every thread, written to that folder. With `job` (flowcast only) its store starts with
   * JOB_HISTORY and that analytics job is started just before the stream: the send runs while it
   * fits, and the note says how long it ran.
   */
  start(workDir: string, profileDir?: string, job?: string): Promise<RunningReceiver>;
}

/**
 * The history a `job` run fits: 14 days of 5-minute `traffic` points for 60 interfaces, both
 * directions (120 series, 484,000 points), as the analytics tests use.
 */
const JOB_HISTORY = { days: 14, interfaces: 60 };

/** Writes JOB_HISTORY into the embedded store of `dataDir`, before flowcast opens it. */
async function seedHistory(dataDir: string): Promise<void> {
  const store = new EmbeddedStore({ dataDir, retentionDays: 3650, log: pino({ level: 'silent' }) });
  try {
    await store.start();
    await writeHistory(store, sineTrafficHistory(JOB_HISTORY.days, JOB_HISTORY.interfaces, 'xe-0/0/'));
  } finally {
    await store.stop();
  }
}

/** A note on `job`'s run as /api/v1/jobs tells it, measured from the send's start. */
async function jobNote(fc: FlowcastProcess, job: string, sendStart: number): Promise<string> {
  const url = `http://127.0.0.1:${fc.httpPort}/api/v1/jobs`;
  for (const deadline = Date.now() + 300_000; Date.now() < deadline; await sleep(500)) {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return `job ${job}: GET /api/v1/jobs answered ${res.status}`;
    const { jobs } = (await res.json()) as { jobs: JobRow[] };
    const row = jobs.find((j) => j.name === job);
    if (row === undefined) return `job ${job}: not known to flowcast`;
    if (row.running || row.lastStart === null || row.lastDurationMs === null) continue;
    const startedAt = (Date.parse(row.lastStart) - sendStart) / 1000;
    return (
      `job ${job} ${row.lastResult ?? '?'} over ${row.seriesProcessed ?? '?'} series from ` +
      `${startedAt.toFixed(1)} s to ${(startedAt + row.lastDurationMs / 1000).toFixed(1)} s after the send started` +
      (row.lastError === null ? '' : ` (${row.lastError})`)
    );
  }
  return `job ${job}: still running after 5 minutes`;
}

interface JobRow {
  readonly name: string;
  readonly running: boolean;
  readonly lastStart: string | null;
  readonly lastDurationMs: number | null;
  readonly lastResult: string | null;
  readonly lastError: string | null;
  readonly seriesProcessed: number | null;
}

/** Datagrams dropped by the kernel at `pid`'s sockets on `ports`. */
export function kernelDrops(pid: number, ports: readonly number[]): number | undefined {
  return udpSocketDrops({ pid, ports })?.reduce((n, s) => n + s.drops, 0);
}

/** Bytes waiting in the receive queues of `pid`'s sockets on `ports`. */
export function waitingBytes(pid: number, ports: readonly number[]): number | undefined {
  return udpSocketDrops({ pid, ports })?.reduce((n, s) => n + s.receiveQueue, 0);
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

export const flowcast: Receiver = {
  name: 'flowcast',
  unavailable: () => undefined,
  async start(workDir, profileDir, job) {
    const dataDir = join(workDir, 'data');
    if (job !== undefined) await seedHistory(dataDir);
    // The child inherits this process's environment at spawn: the variable is set only around it.
    const saved = process.env['FLOWCAST_CPU_PROFILE_DIR'];
    if (profileDir !== undefined) process.env['FLOWCAST_CPU_PROFILE_DIR'] = profileDir;
    let fc: FlowcastProcess;
    try {
      fc = await FlowcastProcess.start({
        dataDir,
        rollupInterval: 60,
        ...(job !== undefined && {
          config: { storage: { retentionDays: 3650 }, analytics: { historyDays: JOB_HISTORY.days } },
        }),
      });
    } finally {
      restore('FLOWCAST_CPU_PROFILE_DIR', saved);
    }
    const ports = [fc.netflowPort, fc.ipfixPort];
    let sendStart = 0;
    return {
      pid: fc.pid,
      port: fc.ipfixPort,
      ports,
      // A scrape resets prom-client's event-loop delay histogram: the maximum read at the end is
      // then the send window's, not start-up's.
      beforeSend: async () => {
        await fc.metrics();
        if (job === undefined) return;
        const res = await fetch(`http://127.0.0.1:${fc.httpPort}/api/v1/jobs/${job}/run`, {
          method: 'POST',
          signal: AbortSignal.timeout(5000),
        });
        if (res.status !== 202)
          throw new Error(`starting job ${job}: HTTP ${res.status} ${await res.text()}`);
        sendStart = Date.now();
      },
      async finish() {
        const drops = kernelDrops(fc.pid, ports);
        const peakRss = peakRssBytes(fc.pid);
        const m = await fc.metrics();
        const notes: string[] = [];
        if (job !== undefined) notes.push(await jobNote(fc, job, sendStart));
        const lag = m.value('flowcast_process_nodejs_eventloop_lag_max_seconds');
        notes.push(`event loop delay max ${(lag * 1000).toFixed(0)} ms`);
        const gaps = m.value('flowcast_sequence_gaps_total');
        if (gaps > 0) notes.push(`sequence gaps ${gaps}`);
        const errors = m.value('flowcast_decode_errors_total');
        if (errors > 0) notes.push(`decode errors ${errors}`);
        // flowcast's gauge halves Linux's figure (the kernel doubles a request for its bookkeeping):
        // doubled back here so that the three receivers' notes compare.
        const buffer = (2 * m.value('flowcast_socket_receive_buffer_bytes')) / ports.length;
        notes.push(`receive buffer ${(buffer / 2 ** 20).toFixed(0)} MiB`);
        const socketDrops = m.value('flowcast_socket_drops_total');
        if (socketDrops !== drops) notes.push(`flowcast_socket_drops_total ${socketDrops}`);
        const exit = await fc.stop();
        if (exit.code !== 0) notes.push(`exit ${JSON.stringify(exit)}`);
        return {
          datagrams: m.value('flowcast_packets_received_total'),
          records: m.value('flowcast_records_decoded_total'),
          kernelDrops: drops,
          queueDropped: m.value('flowcast_queue_dropped_total'),
          peakRss,
          notes,
        };
      },
      kill: () => fc.kill(),
    };
  },
};

/** A free loopback UDP port (bound and released; the receiver binds it right after). */
async function freePort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolveBind) => socket.bind(0, '127.0.0.1', resolveBind));
  const { port } = socket.address();
  await new Promise<void>((resolveClose) => socket.close(resolveClose));
  return port;
}

/** A child process and its output, stopped with SIGTERM. */
class Child {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly proc: ChildProcess) {
    proc.stdout?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    this.exited = new Promise((resolveExit) =>
      proc.once('exit', (code, signal) => resolveExit({ code, signal })),
    );
    // Never leave a receiver behind when the bench exits.
    const killOnExit = () => proc.kill('SIGKILL');
    process.once('exit', killOnExit);
    void this.exited.then(() => process.off('exit', killOnExit));
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 20_000);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** Waits until `ready()` holds (every 50 ms), failing after 10 s or when the child exits. */
  async until(what: string, ready: () => boolean): Promise<void> {
    for (let waited = 0; waited < 10_000; waited += 50) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) break;
      if (ready()) return;
      await sleep(50);
    }
    this.proc.kill('SIGKILL');
    throw new Error(`${what} did not happen:\n${this.output}`);
  }
}

export const nfcapd: Receiver = {
  name: 'nfcapd',
  unavailable: () =>
    findExecutable('nfcapd') === undefined || findExecutable('nfdump') === undefined
      ? 'nfcapd/nfdump are not installed (apt-get install nfdump)'
      : undefined,
  async start(workDir) {
    const port = await freePort();
    const flowDir = join(workDir, 'flows');
    await mkdir(flowDir, { recursive: true });
    const child = new Child(
      spawn(
        findExecutable('nfcapd')!,
        // One file for the whole run (-t 3600); the pid file kept out of /var/run.
        ['-b', '127.0.0.1', '-p', String(port), '-w', flowDir, '-B', String(32 * 1024 * 1024)].concat([
          '-t',
          '3600',
          '-I',
          'bench',
          '-P',
          join(workDir, 'nfcapd.pid'),
        ]),
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    await child.until('nfcapd listening', () =>
      (udpSocketDrops({ pid: child.pid, ports: [port] }) ?? []).some((s) => s.localPort === port),
    );
    return {
      pid: child.pid,
      port,
      ports: [port],
      beforeSend: async () => {},
      async finish() {
        const drops = kernelDrops(child.pid, [port]);
        const peakRss = peakRssBytes(child.pid);
        const exit = await child.stop();
        const notes: string[] = [];
        if (exit.code !== 0) notes.push(`exit ${JSON.stringify(exit)}`);
        const stat = /Flows: (\d+).*Sequence Errors: (\d+)/.exec(child.output);
        const buffer = /SO_RCVBUF to (\d+)/.exec(child.output);
        if (buffer !== null) notes.push(`receive buffer ${(Number(buffer[1]) / 2 ** 20).toFixed(0)} MiB`);
        if (stat !== null && stat[2] !== '0') notes.push(`sequence errors ${stat[2]}`);
        // What it stored, read back by its own reader.
        const { stdout } = await run(findExecutable('nfdump')!, ['-R', flowDir, '-I']);
        const flows = /^Flows: (\d+)$/m.exec(stdout);
        if (stat !== null && flows !== null && stat[1] !== flows[1]) {
          notes.push(`stat line says ${stat[1]} flows`);
        }
        return {
          datagrams: undefined,
          records: flows === null ? undefined : Number(flows[1]),
          kernelDrops: drops,
          queueDropped: undefined,
          peakRss,
          notes,
        };
      },
      kill: async () => {
        child.proc.kill('SIGKILL');
        await child.exited;
      },
    };
  },
};

const COUNTER = resolve(import.meta.dirname, 'udp-counter.ts');

export const nodeSocket: Receiver = {
  name: 'node socket',
  unavailable: () => undefined,
  async start() {
    const child = new Child(
      spawn(process.execPath, ['--import', 'tsx', COUNTER], {
        cwd: resolve(import.meta.dirname, '..', '..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    await child.until('node socket listening', () => /"port":\d+/.test(child.output));
    const port = Number(/"port":(\d+)/.exec(child.output)![1]);
    return {
      pid: child.pid,
      port,
      ports: [port],
      beforeSend: async () => {},
      async finish() {
        const drops = kernelDrops(child.pid, [port]);
        const peakRss = peakRssBytes(child.pid);
        const exit = await child.stop();
        const counted = /"datagrams":(\d+)/.exec(child.output);
        const buffer = /"receiveBuffer":(\d+)/.exec(child.output);
        return {
          datagrams: counted === null ? undefined : Number(counted[1]),
          records: undefined,
          kernelDrops: drops,
          queueDropped: undefined,
          peakRss,
          notes: [
            ...(buffer === null ? [] : [`receive buffer ${(Number(buffer[1]) / 2 ** 20).toFixed(0)} MiB`]),
            ...(exit.code === 0 ? [] : [`exit ${JSON.stringify(exit)}`]),
          ],
        };
      },
      kill: async () => {
        child.proc.kill('SIGKILL');
        await child.exited;
      },
    };
  },
};
