/**
 * Test support: collecting what a real exporter (softflowd, pmacct) sends. Opens a UDP socket on a
 * free loopback port and a temporary work directory, runs the exporter against them, then waits
 * until no datagram has arrived for a quiet period and returns them all, in arrival order.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** How an exporter run is bounded. */
export interface ExportRunOptions {
  /** How long no datagram may arrive after the exporter exits before collection ends (ms, default 250). */
  quietMs?: number;
  /** The exporter is killed and the call rejects after this long (ms, default 30000). */
  timeoutMs?: number;
}

/** One export datagram an exporter sent. */
export interface ExportedDatagram {
  payload: Uint8Array;
  /** The exporter's source address and port as the receiving socket saw them. */
  srcAddr: string;
  srcPort: number;
}

/**
 * Runs `exporter(port, workDir)` (which resolves when the exporter has exited) and returns every
 * datagram received on `port`. Loopback datagrams are queued before the exporter exits; collection
 * ends after `quietMs` without a new one.
 */
export async function collectExports(
  name: string,
  quietMs: number,
  exporter: (port: number, workDir: string) => Promise<void>,
): Promise<ExportedDatagram[]> {
  const datagrams: ExportedDatagram[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (message, remote) => {
    datagrams.push({
      payload: new Uint8Array(message.buffer, message.byteOffset, message.length),
      srcAddr: remote.address,
      srcPort: remote.port,
    });
  });
  const workDir = await mkdtemp(join(tmpdir(), `flowcast-${name}-`));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    await exporter(socket.address().port, workDir);
    let seen = -1;
    while (seen !== datagrams.length) {
      seen = datagrams.length;
      await sleep(quietMs);
    }
    return datagrams;
  } finally {
    socket.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * Runs a program to completion; rejects with its output on a non-zero exit (unless `finished`
 * says the output shows the work done) or after `timeoutMs`. The program runs in a process group
 * of its own, killed whole on timeout: pmacctd's plugins are forked processes that would outlive a
 * killed core.
 */
export function runToExit(
  executable: string,
  args: readonly string[],
  timeoutMs: number,
  finished: (output: string) => boolean = () => false,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      reject(new Error(`${executable} ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 || (code !== null && finished(output))) resolve();
      else reject(new Error(`${executable} ${args.join(' ')} exited with ${code ?? signal}:\n${output}`));
    });
  });
}
