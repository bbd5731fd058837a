/**
 * What `npm run bench:ingest` reads from /proc and the system about a receiver and the machine: CPU
 * seconds (utime + stime of every thread), peak RSS, and the description printed with the figures so
 * that a run on a quiet machine can be told from one on a busy one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
