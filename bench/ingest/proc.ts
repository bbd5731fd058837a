/**
 * What `npm run bench:ingest` reads from /proc and the system about a receiver and the machine: CPU
 * seconds (utime + stime of every thread, and per thread), peak RSS, and the description printed
 * with the figures so that a run on a quiet machine can be told from one on a busy one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { findExecutable } from '../../test/support/tools.js';

let ticks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, 100 when it cannot be read). */
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** CPU seconds a process has used so far, all threads (utime + stime), or undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds each thread of a process has used so far (utime + stime of /proc/<pid>/task/<tid>),
 * by thread: `main` for the process's first thread, its own name for a thread that was given one
 * (flowcast's decode workers: common/thread.ts `settleThread`), `other#<tid>` for the rest (the
 * engine's helper threads, which collect garbage and compile, carry the process's name). Empty once
 * the process is gone.
 */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  let processName: string | undefined;
  const threads: { tid: string; name: string; seconds: number }[] = [];
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / clockTicks();
      if (tid === String(pid)) processName = name;
      threads.push({ tid, name, seconds });
    } catch {
      // the thread ended meanwhile
    }
  }
  for (const t of threads) {
    const key = t.tid === String(pid) ? 'main' : t.name === processName ? `other#${t.tid}` : t.name;
    out.set(key, (out.get(key) ?? 0) + t.seconds);
  }
  return out;
}

/**
 * Per-thread CPU between two `threadCpuSeconds` readings, in µs per `units`: `main`, each named
 * thread, and `other` (every unnamed thread together), busiest named thread first.
 */
export function threadCpuPer(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  units: number,
): [name: string, micros: number][] {
  const sums = new Map<string, number>([['main', 0]]);
  for (const [key, seconds] of after) {
    const name = key.startsWith('other#') ? 'other' : key;
    sums.set(name, (sums.get(name) ?? 0) + seconds - (before.get(key) ?? 0));
  }
  const per = (name: string): [string, number] => [name, ((sums.get(name) ?? 0) / units) * 1e6];
  const named = [...sums.keys()].filter((k) => k !== 'main' && k !== 'other');
  named.sort((a, b) => (sums.get(b) ?? 0) - (sums.get(a) ?? 0));
  return [per('main'), ...named.map(per), ...(sums.has('other') ? [per('other')] : [])];
}

/** Peak resident set size in bytes (VmHWM), or undefined once the process is gone. */
export function peakRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** The 1-, 5- and 15-minute load averages, as printed. */
export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

function firstLine(file: string, args: readonly string[]): string {
  try {
    const out = execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.split('\n')[0]?.trim() ?? '';
  } catch (err) {
    // Some tools print their version on stderr and exit non-zero.
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.split('\n')[0]?.trim() || 'not installed';
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function softflowdVersion(): string {
  const path = findExecutable('softflowd');
  if (path === undefined) return 'not installed';
  // `softflowd -h` prints its version and exits 1.
  const out = spawnSync(path, ['-h'], { encoding: 'utf8' });
  return /version ([\d.]*\d)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'installed';
}

/** Lines describing the machine and the tools, printed before the figures. */
export function describeMachine(): string[] {
  const cpu = cpus();
  return [
    `cpu          ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores`,
    `kernel       Linux ${release()}; net.core.rmem_max ${readText('/proc/sys/net/core/rmem_max')}`,
    `node         ${process.version}`,
    `nfcapd       ${firstLine('nfcapd', ['-V'])}`,
    `softflowd    ${softflowdVersion()}`,
    `compiler     ${firstLine('cc', ['--version'])}`,
  ];
}
