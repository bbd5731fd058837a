/**
 * The bare reference receiver of `npm run bench:ingest`: a Node.js UDP socket on loopback that only
 * counts datagrams. It shows what one JavaScript thread can receive before any decoding, so the
 * gap between it and `flowcast serve` is flowcast's own work.
 *
 * Prints `{"port":N,"receiveBuffer":N}` once bound (same 32 MiB receive buffer request as flowcast's default), and
 * `{"datagrams":N,"bytes":N}` on SIGTERM, then exits.
 */
import { createSocket } from 'node:dgram';

let datagrams = 0;
let bytes = 0;
const socket = createSocket({ type: 'udp4', recvBufferSize: 32 * 1024 * 1024 });
socket.on('message', (message) => {
  datagrams++;
  bytes += message.length;
});
socket.bind(0, '127.0.0.1', () => {
  const receiveBuffer = socket.getRecvBufferSize();
  process.stdout.write(`${JSON.stringify({ port: socket.address().port, receiveBuffer })}\n`);
});
process.once('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ datagrams, bytes })}\n`, () => process.exit(0));
});
