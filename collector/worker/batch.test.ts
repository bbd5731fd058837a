import { describe, expect, it } from 'vitest';
import { BatchWriter, readBatch } from './batch.js';

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
});
