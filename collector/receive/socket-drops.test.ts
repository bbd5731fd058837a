/**
 * The kernel's drop counter of our own UDP sockets, seen rising for real: a loopback socket with a
 * small receive buffer is flooded by another process while this one's event loop is blocked (so
 * nobody reads it); every datagram sent is then either received or counted as dropped.
 */
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { socketDrops, udpSocketDrops } from './socket-drops.js';

const open: Socket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

async function bind(
  type: 'udp4' | 'udp6',
  address: string,
): Promise<{ socket: Socket; received: () => number }> {
  const socket = createSocket({ type, recvBufferSize: 4096 });
  let received = 0;
  socket.on('message', () => {
    received++;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => resolve());
  });
  open.push(socket);
  return { socket, received: () => received };
}

/** Sends `count` datagrams of `size` bytes to `address`:`port` from a child process; blocks until it is done. */
function floodFromChild(address: string, port: number, count: number, size: number): void {
  const script = `
    const dgram = require('node:dgram');
    const s = dgram.createSocket(${JSON.stringify(address.includes(':') ? 'udp6' : 'udp4')});
    const payload = Buffer.alloc(${size}, 7);
    let left = ${count};
    for (let i = 0; i < ${count}; i++) s.send(payload, ${port}, ${JSON.stringify(address)}, () => { if (--left === 0) s.close(); });
  `;
  execFileSync(process.execPath, ['-e', script], { timeout: 30_000 });
}

async function settle(received: () => number): Promise<number> {
  let last = -1;
  while (received() !== last) {
    last = received();
    await sleep(100);
  }
  return last;
}

describe('socketDrops', () => {
  it('counts what the kernel dropped at an unread IPv4 socket: sent = received + dropped', async () => {
    const { socket, received } = await bind('udp4', '127.0.0.1');
    const port = socket.address().port;
    expect(socketDrops({ ports: [port] })).toBe(0);
    const sent = 3000;
    floodFromChild('127.0.0.1', port, sent, 200);
    const got = await settle(received);
    const drops = socketDrops({ ports: [port] });
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(sent);
    expect(drops).toBe(sent - got);
    // Found by inode without the port too, beside any other UDP socket of this process.
    const mine = udpSocketDrops()?.find((s) => s.localPort === port);
    expect(mine?.family).toBe(4);
    expect(mine?.drops).toBe(sent - got);
    expect(socketDrops()).toBeGreaterThanOrEqual(sent - got);
  });

  it('reads udp6 as well', async (ctx) => {
    let bound: Awaited<ReturnType<typeof bind>>;
    try {
      bound = await bind('udp6', '::1');
    } catch (err) {
      ctx.skip(`no IPv6 loopback on this machine (${String(err)})`);
      return;
    }
    const port = bound.socket.address().port;
    const sent = 2000;
    floodFromChild('::1', port, sent, 200);
    const got = await settle(bound.received);
    expect(got).toBeLessThan(sent);
    expect(udpSocketDrops({ ports: [port] })).toEqual([
      expect.objectContaining({ family: 6, localPort: port, drops: sent - got }),
    ]);
  });

  it('sees only the process’s own sockets and the ports asked for', async () => {
    const { socket } = await bind('udp4', '127.0.0.1');
    const port = socket.address().port;
    // pid 1's sockets are not ours: a port of ours is not among them.
    expect(udpSocketDrops({ pid: 1, ports: [port] }) ?? []).toEqual([]);
    expect(udpSocketDrops({ ports: [port === 65535 ? 1 : port + 1] })).toEqual([]);
    expect(udpSocketDrops({ ports: [port] })).toHaveLength(1);
  });

  it('answers undefined, never throws, where /proc is absent', () => {
    expect(socketDrops({ procRoot: '/nonexistent-proc' })).toBeUndefined();
    expect(udpSocketDrops({ procRoot: '/nonexistent-proc' })).toBeUndefined();
    expect(socketDrops({ pid: 2 ** 30 })).toBeUndefined();
  });
});
