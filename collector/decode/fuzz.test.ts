/**
 * Fuzz test: many thousands of mutated and truncated datagrams, from the recorded fixtures and
 * from encoder-built ones, through one long-lived FlowState (so mutated templates meet later
 * data). Nothing may escape the decoder, no decoder bug may be caught by its safety net
 * (`internal` errors), output stays bounded by input, and the state stays within its limits.
 * A hang would fail the test by timeout. Seeded, so a failure reproduces.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  encodeV5,
  type FieldSpec,
  ipfixMessage,
  VARIABLE_LENGTH,
  v9Datagram,
} from '../../test/support/encoder.js';
import { prng } from '../../test/support/random.js';
import { decodeDatagram } from './decode.js';
import type { DecodedRecord } from './flow.js';
import { ElementRegistry } from './ie/registry.js';
import { FlowState } from './state.js';

function corpus(): Uint8Array[] {
  const dir = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'telegraf');
  const files: Uint8Array[] = [];
  for (const sub of readdirSync(dir, { withFileTypes: true })) {
    if (!sub.isDirectory()) continue;
    for (const f of readdirSync(join(dir, sub.name)))
      if (f.endsWith('.bin')) files.push(readFileSync(join(dir, sub.name, f)));
  }
  const fields: FieldSpec[] = [
    { id: 8, length: 4 },
    { id: 1, length: 8 },
    { id: 82, length: VARIABLE_LENGTH },
    { id: 291, length: VARIABLE_LENGTH },
    { id: 5, length: 4, enterprise: 9 },
  ];
  files.push(
    ipfixMessage({
      exportTime: 1,
      sets: [
        { kind: 'template', templates: [{ id: 256, fields }] },
        {
          kind: 'options',
          templates: [
            { id: 257, scopeFields: [{ id: 10, length: 4 }], fields: [{ id: 82, length: VARIABLE_LENGTH }] },
          ],
        },
        { kind: 'data', id: 256, fields, records: [['1.2.3.4', 5n, 'eth0', 'abc', 7]] },
        {
          kind: 'data',
          id: 257,
          fields: [
            { id: 10, length: 4 },
            { id: 82, length: VARIABLE_LENGTH },
          ],
          records: [[3, 'xe-0/0/0']],
        },
        { kind: 'withdrawal', templateIds: [256] },
      ],
    }),
    v9Datagram({
      flowsets: [
        {
          kind: 'template',
          templates: [
            {
              id: 300,
              fields: [
                { id: 1, length: 4 },
                { id: 48, length: 1 },
              ],
            },
          ],
        },
        {
          kind: 'options',
          templates: [{ id: 301, scopeFields: [{ id: 1, length: 4 }], fields: [{ id: 34, length: 4 }] }],
        },
        {
          kind: 'data',
          id: 300,
          fields: [
            { id: 1, length: 4 },
            { id: 48, length: 1 },
          ],
          records: [[1, 1]],
        },
      ],
    }),
    encodeV5({ records: [{ bytes: 1 }, { bytes: 2 }] }),
  );
  return files;
}

function mutate(seed: Uint8Array, r: () => number): Uint8Array {
  const b = Uint8Array.from(seed);
  const kind = Math.floor(r() * 6);
  const at = () => Math.floor(r() * b.length);
  switch (kind) {
    case 0: // truncate
      return b.subarray(0, at());
    case 1: // flip some bytes
      for (let i = 0, n = 1 + Math.floor(r() * 8); i < n; i++) b[at()] = Math.floor(r() * 256);
      return b;
    case 2: // mangle a 16-bit length-ish field to an extreme
      {
        const i = at() & ~1;
        const v = [0, 1, 3, 4, 0xff, 0xffff, 0x7fff][Math.floor(r() * 7)]!;
        b[i] = v >> 8;
        if (i + 1 < b.length) b[i + 1] = v & 0xff;
      }
      return b;
    case 3: // zero a run
      b.fill(0, at(), at());
      return b;
    case 4: // append garbage
      return Uint8Array.from([
        ...b,
        ...Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256)),
      ]);
    default: {
      // random bytes with a plausible version
      const out = Uint8Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256));
      if (out.length >= 2) out[1] = [1, 5, 7, 9, 10][Math.floor(r() * 5)]!;
      if (out.length >= 2) out[0] = 0;
      return out;
    }
  }
}

describe('fuzz', () => {
  it('decodes 50,000 mutated datagrams without throwing, with bounded output and state', () => {
    const seeds = corpus();
    const r = prng(20_261_123);
    const state = new FlowState(new ElementRegistry(), {
      maxTemplatesPerExporter: 64,
      maxExporters: 8,
      pendingMaxSets: 16,
    });
    const out: DecodedRecord[] = [];
    let records = 0;
    for (let i = 0; i < 50_000; i++) {
      const b = mutate(seeds[i % seeds.length]!, r);
      out.length = 0;
      const address = `192.0.2.${i % 10}`;
      expect(() =>
        decodeDatagram(state, b, { address, port: i % 3 }, 1_700_000_000_000 + i, out),
      ).not.toThrow();
      // Every record costs at least one byte of some datagram: this one, or a buffered one
      // (at most pendingMaxSets sets of at most 64 KiB).
      expect(out.length).toBeLessThanOrEqual(b.length + 16 * 65_536);
      records += out.length;
      // A read past the end of a Uint8Array yields undefined, not an exception: a missing bounds
      // check shows up as NaN in a record, so every number must be finite.
      // Hex of a missing byte reads "undefined".
      for (const rec of out) {
        const values = [...Object.values(rec), ...Object.values(rec.fields ?? {})];
        if (rec.kind === 'options') values.push(...Object.values(rec.scope));
        for (const v of values) {
          if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
          if (typeof v === 'string') expect(v).not.toContain('undefined');
        }
      }
    }
    expect(state.exporters.size).toBeLessThanOrEqual(8);
    expect(state.exportersRejected + state.exportersEvicted).toBeGreaterThan(0);
    for (const e of state.exporters.values()) {
      expect(e.counters.errorsByReason.get('internal') ?? 0).toBe(0);
      expect(e.templateCount).toBeLessThanOrEqual(64);
      expect(e.pending.length).toBeLessThanOrEqual(16);
      expect(e.counters.decodeErrors).toBeGreaterThan(0);
    }
    expect(records).toBeGreaterThan(0);
    // About 15 s of CPU: room for a loaded two-core machine.
  }, 180_000);
});
