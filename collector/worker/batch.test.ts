import { describe, expect, it } from 'vitest';
import { type ReceivedDatagram, ReceiveQueue } from '../receive/queue.js';
import { BatchRun, BatchWriter, readBatch } from './batch.js';

describe('batch of datagrams', () => {
  it('reads back every datagram with its address, port and time, addresses repeated or changing', () => {
    const sent = [
      { payload: Uint8Array.of(1, 2, 3), address: '192.0.2.1', port: 2055, receivedAt: 1_700_000_000_001 },
      { payload: Uint8Array.of(4), address: '192.0.2.1', port: 2055, receivedAt: 1_700_000_000_002 },
      { payload: Uint8Array.of(), address: '192.0.2.10', port: 4739, receivedAt: 1_700_000_000_003 },
      { payload: Uint8Array.of(5, 6), address: '192.0.2.2', port: 4739, receivedAt: 1_700_000_000_004 },
      { payload: Uint8Array.of(7), address: '2001:db8::1', port: 9995, receivedAt: 1_700_000_000_005 },
      { payload: Uint8Array.of(8), address: '192.0.2.1', port: 2055, receivedAt: 1_700_000_000_006 },
    ];
    const writer = new BatchWriter((size) => new ArrayBuffer(size));
    for (const d of sent) writer.add(d.payload, d.address, d.port, d.receivedAt);
    const batch = writer.finish()!;
    const read: typeof sent = [];
    for (let pass = 0; pass < 2; pass++) {
      read.length = 0;
      readBatch(batch.buffer, batch.used, (payload, address, port, receivedAt) => {
        read.push({ payload: Uint8Array.from(payload), address, port, receivedAt });
      });
      expect(read).toEqual(sent);
    }
  });

  it('a run gives the same datagrams, counted when made; a malformed end ends it as readBatch ends', () => {
    const writer = new BatchWriter((size) => new ArrayBuffer(size));
    const sent = [
      { payload: Uint8Array.of(1, 2, 3), address: '192.0.2.1', port: 2055, receivedAt: 1 },
      { payload: Uint8Array.of(), address: '2001:db8::1', port: 4739, receivedAt: 2 },
      { payload: Uint8Array.of(9, 9), address: '192.0.2.1', port: 2055, receivedAt: 3 },
    ];
    for (const d of sent) writer.add(d.payload, d.address, d.port, d.receivedAt);
    const batch = writer.finish()!;
    const run = new BatchRun(batch.buffer, batch.used);
    expect([run.count, run.bytes, run.remaining]).toEqual([3, 5, 3]);
    const taken: ReceivedDatagram[] = [];
    while (run.remaining > 0) {
      const d = run.next();
      taken.push({ ...d, payload: Uint8Array.from(d.payload) });
    }
    expect(taken).toEqual(sent);
    // Cut inside the last entry: two whole datagrams, as readBatch reads.
    const cut = batch.used - 1;
    const short = new BatchRun(batch.buffer, cut);
    let read = 0;
    readBatch(batch.buffer, cut, () => read++);
    expect([short.count, short.bytes, read]).toEqual([2, 3, 2]);
  });

  it('a queued run is taken in order among single datagrams; one that does not fit is refused whole', () => {
    const writer = new BatchWriter((size) => new ArrayBuffer(size));
    for (let i = 0; i < 3; i++) writer.add(Uint8Array.of(i, i), '192.0.2.1', 2055, i);
    const batch = writer.finish()!;
    const queue = new ReceiveQueue(5, 100);
    const single = (n: number): ReceivedDatagram => ({
      payload: new Uint8Array(n),
      address: '192.0.2.9',
      port: 1,
      receivedAt: 100 + n,
    });
    expect(queue.push(single(1))).toBe(true);
    expect(queue.pushRun(new BatchRun(batch.buffer, batch.used), 3, 6)).toBe(true);
    expect(queue.push(single(4))).toBe(true);
    expect([queue.length, queue.bytes, queue.enqueued]).toEqual([5, 11, 5]);
    // Full in datagrams: refused whole, nothing counted (the caller pushes them one at a time).
    expect(queue.pushRun(new BatchRun(batch.buffer, batch.used), 3, 6)).toBe(false);
    expect([queue.length, queue.dropped]).toEqual([5, 0]);
    const order: number[] = [];
    for (let d = queue.shift(); d !== undefined; d = queue.shift()) order.push(d.receivedAt);
    expect(order).toEqual([101, 0, 1, 2, 104]);
    expect([queue.length, queue.bytes]).toEqual([0, 0]);
    // The ring wraps: runs and singles again, more entries over time than slots.
    for (let round = 0; round < 4; round++) {
      expect(queue.pushRun(new BatchRun(batch.buffer, batch.used), 3, 6)).toBe(true);
      expect(queue.push(single(2))).toBe(true);
      expect(queue.pushRun(new BatchRun(batch.buffer, batch.used), 3, 6)).toBe(false);
      const got: number[] = [];
      for (let d = queue.shift(); d !== undefined; d = queue.shift()) got.push(d.receivedAt);
      expect(got).toEqual([0, 1, 2, 102]);
    }
  });
});
