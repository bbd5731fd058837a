/**
 * A steady UDP sender in its own process (so that a busy event loop in the process under test
 * cannot slow the sending down and hide its own stalls): one datagram, repeated at `rate` per
 * second to 127.0.0.1:`port` until stopped (or `maxSeconds`). Resolves with the number sent.
 */
import { spawn } from 'node:child_process';

const SENDER = `
import { createSocket } from 'node:dgram';
const [port, rate, seconds, b64] = process.argv.slice(1);
const datagram = Buffer.from(b64, 'base64');
const socket = createSocket('udp4');
const end = Date.now() + Number(seconds) * 1000;
const started = Date.now();
let sent = 0;
let stopped = false;
process.on('SIGTERM', () => { stopped = true; });
function tick() {
  const due = Math.floor(((Date.now() - started) / 1000) * Number(rate));
  while (sent < due) { socket.send(datagram, Number(port), '127.0.0.1'); sent++; }
  if (Date.now() < end && !stopped) setTimeout(tick, 5);
  else setTimeout(() => { process.stdout.write(String(sent)); socket.close(); }, 50);
}
tick();
`;

export interface UdpSender {
  /** The number of datagrams sent, once the sender has stopped. */
  readonly done: Promise<number>;
  stop(): void;
}

export function steadySender(
  port: number,
  datagram: Uint8Array,
  rate: number,
  maxSeconds: number,
): UdpSender {
  const b64 = Buffer.from(datagram).toString('base64');
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', SENDER, String(port), String(rate), String(maxSeconds), b64],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => resolve(Number(out.trim())));
  });
  return { done, stop: () => child.kill('SIGTERM') };
}
