/**
 * The IPFIX stream `npm run bench:ingest` replays: softflowd's export of a generated capture (about
 * 30 records per datagram), recorded once, split into one templates datagram and data datagrams,
 * and written in the entry format that bench/sender.c reads. Without softflowd an equivalent stream
 * (softflowd's IPv4 TCP/UDP template, 30 records per datagram) is built with the test encoder, and
 * `source` says so.
 *
 * Templates first: every template set and options template set of the recording, with the options
 * data (softflowd's systemInitTimeMilliseconds record) they describe, go into one templates
 * datagram; the data datagrams keep only their flow data sets. The sender then decides when
 * templates are (re)sent, so each replayed loop of the recording is decodable from its start.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ipfixMessage } from '../../test/support/encoder.js';
import {
  exportWithSoftflowd,
  generateTrafficPcap,
  softflowdAvailable,
} from '../../test/support/softflowd.js';

/** One datagram of the stream file. */
export interface StreamEntry {
  readonly kind: 'templates' | 'data';
  readonly payload: Uint8Array;
  /** Data records, options records included: what an IPFIX sequence number counts. */
  readonly records: number;
  /** Flow records: what a collector should decode as flows. */
  readonly flowRecords: number;
}

/** A recorded stream, written to `path`. */
export interface Stream {
  readonly path: string;
  readonly source: string;
  readonly entries: readonly StreamEntry[];
}

const TEMPLATE_SET = 2;
const OPTIONS_TEMPLATE_SET = 3;
const HEADER = 16;

interface SetBytes {
  readonly id: number;
  readonly bytes: Uint8Array;
}

function setsOf(message: Uint8Array): SetBytes[] {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const length = Math.min(view.getUint16(2), message.length);
  const sets: SetBytes[] = [];
  for (let offset = HEADER; offset + 4 <= length; ) {
    const setLength = view.getUint16(offset + 2);
    if (setLength < 4 || offset + setLength > length) throw new Error(`bad set length at ${offset}`);
    sets.push({ id: view.getUint16(offset), bytes: message.subarray(offset, offset + setLength) });
    offset += setLength;
  }
  return sets;
}

/** Record length of each template in a (options) template set; variable-length fields are refused. */
function learnTemplates(set: SetBytes, into: Map<number, number>): void {
  const view = new DataView(set.bytes.buffer, set.bytes.byteOffset, set.bytes.byteLength);
  for (let offset = 4; offset + 4 <= set.bytes.length; ) {
    const id = view.getUint16(offset);
    const fields = view.getUint16(offset + 2);
    offset += set.id === OPTIONS_TEMPLATE_SET ? 6 : 4;
    let recordLength = 0;
    for (let f = 0; f < fields; f++) {
      const ie = view.getUint16(offset);
      const length = view.getUint16(offset + 2);
      if (length === 0xffff) throw new Error(`template ${id}: variable-length fields are not supported here`);
      recordLength += length;
      offset += ie & 0x8000 ? 8 : 4;
    }
    if (fields > 0) into.set(id, recordLength);
  }
}

function message(header: Uint8Array, sets: readonly SetBytes[]): Uint8Array {
  const length = HEADER + sets.reduce((n, s) => n + s.bytes.length, 0);
  const out = new Uint8Array(length);
  out.set(header.subarray(0, HEADER));
  new DataView(out.buffer).setUint16(2, length);
  let offset = HEADER;
  for (const s of sets) {
    out.set(s.bytes, offset);
    offset += s.bytes.length;
  }
  return out;
}

/** Splits recorded IPFIX messages into one templates datagram followed by the data datagrams. */
export function templatesFirst(messages: readonly Uint8Array[]): StreamEntry[] {
  const flowTemplates = new Map<number, number>();
  const optionsTemplates = new Map<number, number>();
  const templateSets: SetBytes[] = [];
  let optionsData: SetBytes | undefined;
  const data: StreamEntry[] = [];
  for (const m of messages) {
    const kept: SetBytes[] = [];
    let flowRecords = 0;
    for (const s of setsOf(m)) {
      if (s.id === TEMPLATE_SET || s.id === OPTIONS_TEMPLATE_SET) {
        const known = s.id === TEMPLATE_SET ? flowTemplates : optionsTemplates;
        const before = known.size;
        learnTemplates(s, known);
        if (known.size > before) templateSets.push(s);
      } else if (optionsTemplates.has(s.id)) {
        optionsData ??= s;
      } else {
        const recordLength = flowTemplates.get(s.id);
        if (recordLength === undefined) throw new Error(`data set ${s.id} before its template`);
        kept.push(s);
        flowRecords += Math.floor((s.bytes.length - 4) / recordLength);
      }
    }
    if (kept.length > 0) {
      data.push({ kind: 'data', payload: message(m, kept), records: flowRecords, flowRecords });
    }
  }
  const first = messages[0];
  if (first === undefined || templateSets.length === 0) throw new Error('the recording has no templates');
  const optionsRecords =
    optionsData === undefined
      ? 0
      : Math.floor((optionsData.bytes.length - 4) / optionsTemplates.get(optionsData.id)!);
  const templates: StreamEntry = {
    kind: 'templates',
    payload: message(first, optionsData === undefined ? templateSets : [...templateSets, optionsData]),
    records: optionsRecords,
    flowRecords: 0,
  };
  return [templates, ...data];
}

/** softflowd's IPv4 TCP/UDP template (template 1024 of its IPFIX export), with absolute times. */
const FIELDS = [
  { id: 8, length: 4 },
  { id: 12, length: 4 },
  { id: 152, length: 8 }, // flowStartMilliseconds: no options record needed to place the flow
  { id: 153, length: 8 },
  { id: 1, length: 4 },
  { id: 2, length: 4 },
  { id: 10, length: 4 },
  { id: 14, length: 4 },
  { id: 7, length: 2 },
  { id: 11, length: 2 },
  { id: 4, length: 1 },
  { id: 6, length: 1 },
  { id: 60, length: 1 },
  { id: 5, length: 1 },
];

/** The stream without softflowd: 100 datagrams of 30 records with the fields softflowd sends. */
function encodedStream(): Uint8Array[] {
  const start = Date.UTC(2024, 4, 1, 12);
  const messages = [
    ipfixMessage({ sets: [{ kind: 'template', templates: [{ id: 1024, fields: FIELDS }] }] }),
  ];
  for (let d = 0; d < 100; d++) {
    const records = Array.from({ length: 30 }, (_, r) => {
      const i = d * 30 + r;
      const first = start + i * 20;
      return [
        `10.${(i >> 8) & 0xff}.${i & 0xff}.${1 + (i % 200)}`,
        `192.0.2.${1 + ((i * 37) % 250)}`,
        BigInt(first),
        BigInt(first + 1500),
        100 + ((i * 997) % 60_000),
        1 + (i % 30),
        1 + (i % 8),
        2 + (i % 8),
        20_000 + (i % 40_000),
        [22, 53, 80, 123, 443][i % 5]!,
        i % 3 === 0 ? 17 : 6,
        i % 3 === 0 ? 0 : 0x1b,
        4,
        0,
      ];
    });
    messages.push(ipfixMessage({ sets: [{ kind: 'data', id: 1024, fields: FIELDS, records }] }));
  }
  return messages;
}

/**
 * Records the stream into `workDir` (softflowd over a capture of `flows` flows when it is
 * installed, else the encoder) and writes it as `stream.bin` for the sender.
 */
export async function recordStream(workDir: string, flows: number): Promise<Stream> {
  let messages: Uint8Array[];
  let source: string;
  if (softflowdAvailable()) {
    const pcap = join(workDir, 'traffic.pcap');
    await generateTrafficPcap(pcap, { flows, durationMs: 60_000 });
    const exported = await exportWithSoftflowd(10, pcap, { timeoutMs: 120_000 });
    messages = exported.map((d) => d.payload);
    source = `softflowd IPFIX export of a generated capture (${flows} flows)`;
  } else {
    messages = encodedStream();
    source = 'softflowd is not installed: an equivalent stream built with test/support/encoder.ts';
  }
  const entries = templatesFirst(messages);
  const path = join(workDir, 'stream.bin');
  await writeFile(path, encodeEntries(entries));
  return { path, source, entries };
}

/** The file format of bench/sender.c: kind, pad, length, records, flow records, payload; big-endian. */
function encodeEntries(entries: readonly StreamEntry[]): Uint8Array {
  const out = new Uint8Array(entries.reduce((n, e) => n + 12 + e.payload.length, 0));
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const e of entries) {
    view.setUint8(offset, e.kind === 'templates' ? 0 : 1);
    view.setUint16(offset + 2, e.payload.length);
    view.setUint32(offset + 4, e.records);
    view.setUint32(offset + 8, e.flowRecords);
    out.set(e.payload, offset + 12);
    offset += 12 + e.payload.length;
  }
  return out;
}
