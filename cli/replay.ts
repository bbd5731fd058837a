/**
 * `flowcast replay FILE --to HOST:PORT`: sends a capture's UDP payloads to a collector at a given
 * rate, with a progress line on stderr.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { readUdpDatagrams } from '../common/pcap.js';

export interface ReplayOptions {
  host: string;
  port: number;
  /** Datagrams per second; 0 sends as fast as the socket takes them. */
  rate: number;
  loop: number;
}

/** Parses `HOST:PORT` or `[IPv6]:PORT`. */
export function parseTarget(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (m === null) return undefined;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { host: m[1]!, port } : undefined;
}

export async function replay(
  file: string,
  opts: ReplayOptions,
  progress: (line: string) => void,
): Promise<number> {
  const { datagrams, errors } = readUdpDatagrams(readFileSync(file));
  for (const e of errors) progress(`${file}: ${e}\n`);
  if (datagrams.length === 0) throw new Error(`${file}: no UDP datagrams found`);
  const socket = createSocket(isIPv6(opts.host) ? 'udp6' : 'udp4');
  const total = datagrams.length * opts.loop;
  const started = performance.now();
  let sent = 0;
  try {
    for (let round = 0; round < opts.loop; round++) {
      for (const d of datagrams) {
        await new Promise<void>((resolve, reject) =>
          socket.send(d.payload, opts.port, opts.host, (err) => (err ? reject(err) : resolve())),
        );
        sent++;
        if (opts.rate > 0) {
          const due = started + (sent / opts.rate) * 1000;
          const wait = due - performance.now();
          if (wait > 1) await sleep(wait);
        }
        if (sent % 1000 === 0 || sent === total) {
          const secs = (performance.now() - started) / 1000;
          progress(`\rsent ${sent}/${total} datagrams (${Math.round(sent / Math.max(secs, 1e-3))}/s)`);
        }
      }
    }
  } finally {
    socket.close();
    progress('\n');
  }
  return sent;
}
