/**
 * Decode-only throughput: records per second through decodeDatagram for a NetFlow v9 datagram of
 * 25 records with 20 fields, and its IPFIX equivalent, on one core (the benchmark is single
 * threaded). Templates are learned first; each iteration decodes the data datagram into a reused
 * output array, as the collector's decode loop does.
 */
import { decodeDatagram } from '../collector/decode/decode.js';
import type { DecodedRecord } from '../collector/decode/flow.js';
import { ElementRegistry } from '../collector/decode/ie/registry.js';
import { FlowState } from '../collector/decode/state.js';
import { type FieldSpec, ipfixMessage, v9Datagram } from '../test/support/encoder.js';
import { type BenchResult, measure } from './measure.js';

/** 20 fields, as a router's IPv4 template typically has them. */
const FIELDS: FieldSpec[] = [
  { id: 8, length: 4 }, // src addr
  { id: 12, length: 4 }, // dst addr
  { id: 15, length: 4 }, // next hop
  { id: 7, length: 2 }, // src port
  { id: 11, length: 2 }, // dst port
  { id: 4, length: 1 }, // protocol
  { id: 5, length: 1 }, // tos
  { id: 6, length: 1 }, // tcp flags
  { id: 1, length: 8 }, // bytes
  { id: 2, length: 8 }, // packets
  { id: 10, length: 4 }, // in if
  { id: 14, length: 4 }, // out if
  { id: 16, length: 4 }, // src as
  { id: 17, length: 4 }, // dst as
  { id: 9, length: 1 }, // src mask
  { id: 13, length: 1 }, // dst mask
  { id: 61, length: 1 }, // direction
  { id: 58, length: 2 }, // vlan
  { id: 22, length: 4 }, // first switched / flowStartSysUpTime
  { id: 21, length: 4 }, // last switched / flowEndSysUpTime
];
const RECORDS = 25;

function record(i: number): (number | string | bigint)[] {
  return [
    `10.0.${i}.1`,
    `192.168.${i}.${200 - i}`,
    '10.255.0.1',
    10_000 + i,
    443,
    6,
    0,
    0x18,
    BigInt(1500 * (i + 1)),
    BigInt(i + 1),
    3,
    4,
    64_500,
    64_501,
    24,
    16,
    0,
    100,
    1_000 + i,
    50_000 + i,
  ];
}
const rows = Array.from({ length: RECORDS }, (_, i) => record(i));
const ipfixFields: FieldSpec[] = FIELDS.map((f) =>
  f.id === 21 ? { id: 153, length: 8 } : f.id === 22 ? { id: 152, length: 8 } : f,
);
const ipfixRows = rows.map((r) => [...r.slice(0, 18), 1_700_000_000_000n, 1_700_000_001_000n]);

function bench(name: string, template: Uint8Array, data: Uint8Array): BenchResult {
  const state = new FlowState(new ElementRegistry());
  const source = { address: '192.0.2.1', port: 9995 };
  const out: DecodedRecord[] = [];
  decodeDatagram(state, template, source, 1_700_000_000_000, out);
  return measure(name, RECORDS, () => {
    out.length = 0;
    decodeDatagram(state, data, source, 1_700_000_000_000, out);
  });
}

export function benchDecode(): BenchResult[] {
  const v9Template = v9Datagram({
    unixSecs: 1_700_000_000,
    flowsets: [{ kind: 'template', templates: [{ id: 256, fields: FIELDS }] }],
  });
  const v9Data = v9Datagram({
    sysUptime: 60_000,
    unixSecs: 1_700_000_000,
    flowsets: [{ kind: 'data', id: 256, fields: FIELDS, records: rows }],
  });
  const ipfixTemplate = ipfixMessage({
    exportTime: 1_700_000_000,
    sets: [{ kind: 'template', templates: [{ id: 256, fields: ipfixFields }] }],
  });
  const ipfixData = ipfixMessage({
    exportTime: 1_700_000_000,
    sets: [{ kind: 'data', id: 256, fields: ipfixFields, records: ipfixRows }],
  });
  return [
    bench(`decode NetFlow v9 (${RECORDS} records x ${FIELDS.length} fields)`, v9Template, v9Data),
    bench(`decode IPFIX (${RECORDS} records x ${ipfixFields.length} fields)`, ipfixTemplate, ipfixData),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of benchDecode())
    console.log(`${r.name}: ${Math.round(r.median).toLocaleString('en')} ${r.unit} (median of ${r.runs})`);
}
