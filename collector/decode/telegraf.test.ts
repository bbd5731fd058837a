/**
 * Our records against Telegraf's decoding of the same recorded datagrams (test/fixtures/telegraf,
 * MIT). Telegraf is an independent decoder: every value it reports that has a normalised key here
 * must match. Records are compared as multisets (order within a datagram is not a contract).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTelegrafCase, type TelegrafPoint } from '../../test/support/telegraf.js';
import { decodeDatagram } from './decode.js';
import type { DecodedRecord, FlowRecord, OptionsRecord } from './flow.js';
import { ElementRegistry } from './ie/registry.js';
import { FlowState } from './state.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'telegraf');
const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1 };

function decodeCase(name: string) {
  const c = loadTelegrafCase(join(FIXTURES, name));
  const state = new FlowState(new ElementRegistry());
  const perDatagram: DecodedRecord[][] = c.datagrams.map((d) => {
    const out: DecodedRecord[] = [];
    decodeDatagram(state, d, { address: '127.0.0.1', port: 9995 }, Date.now(), out);
    return out;
  });
  const exporter = state.exporters.get('127.0.0.1')!;
  return { ...c, perDatagram, records: perDatagram.flat(), exporter };
}

const n = (v: unknown) => (typeof v === 'bigint' ? Number(v) : v);

/** The subset of a Telegraf flow point that has a normalised key, in our key names. */
function expectedFlow(p: TelegrafPoint, uptimeToMs?: (uptime: number) => number): Record<string, unknown> {
  const f = p.fields;
  const out: Record<string, unknown> = {
    srcAddr: f['src'],
    dstAddr: f['dst'],
    srcPort: n(f['src_port']),
    dstPort: n(f['dst_port']),
    protocol: PROTOCOLS[String(f['protocol'])],
    bytes: n(f['in_bytes'] ?? f['in_total_bytes']),
    packets: n(f['in_packets'] ?? f['in_total_packets']),
  };
  if (f['flow_start_ms'] !== undefined) out['start'] = n(f['flow_start_ms']);
  if (f['flow_end_ms'] !== undefined) out['end'] = n(f['flow_end_ms']);
  if (f['first_switched'] !== undefined && uptimeToMs) out['start'] = uptimeToMs(Number(f['first_switched']));
  if (f['last_switched'] !== undefined && uptimeToMs) out['end'] = uptimeToMs(Number(f['last_switched']));
  if (f['in_snmp'] !== undefined) out['inIf'] = n(f['in_snmp']);
  if (f['out_snmp'] !== undefined) out['outIf'] = n(f['out_snmp']);
  if (f['bgp_src_as'] !== undefined) out['srcAs'] = n(f['bgp_src_as']);
  if (f['bgp_dst_as'] !== undefined) out['dstAs'] = n(f['bgp_dst_as']);
  if (f['next_hop'] !== undefined) out['nextHop'] = f['next_hop'];
  if (typeof f['src_tos'] === 'string') out['tos'] = Number.parseInt(f['src_tos'], 16);
  return out;
}

function actualFlow(r: FlowRecord, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = n(r[k as keyof FlowRecord]);
  return out;
}

function sortByJson<T>(xs: T[]): T[] {
  return [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

function compareFlows(name: string, uptimeToMs?: (uptime: number) => number) {
  const c = decodeCase(name);
  const expected = c.expected
    .filter((p) => p.measurement === 'netflow')
    .map((p) => expectedFlow(p, uptimeToMs));
  const flows = c.records.filter((r): r is FlowRecord => r.kind === 'flow');
  expect(flows.length).toBe(expected.length);
  const actual = flows.map((r, i) =>
    actualFlow(r, Object.keys(expected[Math.min(i, expected.length - 1)] ?? {})),
  );
  // Every expected record carries the same keys within one case, so the projection is aligned.
  expect(sortByJson(actual)).toEqual(sortByJson(expected));
  return c;
}

/** v5/v9 uptime → Unix ms from the datagram's own header, read here independently of the decoder. */
function headerClock(datagram: Buffer, withNanos: boolean): (uptime: number) => number {
  const sysUptime = datagram.readUInt32BE(4);
  const exportMs = datagram.readUInt32BE(8) * 1000 + (withNanos ? datagram.readUInt32BE(12) / 1e6 : 0);
  return (uptime) => exportMs - (sysUptime - uptime);
}

describe('records agree with Telegraf on recorded datagrams', () => {
  it('NetFlow v5', () => {
    const c = decodeCase('netflow_v5_example');
    const clock = headerClock(c.datagrams[0]!, true);
    compareFlows('netflow_v5_example', clock);
    expect(c.exporter.counters.decodeErrors).toBe(0);
  });

  it('NetFlow v9', () => {
    const c = decodeCase('netflow_v9_example');
    compareFlows('netflow_v9_example', headerClock(c.datagrams[0]!, false));
    expect(c.exporter.counters.templatesReceived).toBe(1);
  });

  it('IPFIX with reverse and enterprise elements and subTemplateMultiList', () => {
    const c = compareFlows('ipfix_example');
    expect(c.exporter.counters.decodeErrors).toBe(0);
    expect(c.exporter.counters.missingTemplates).toBe(0);
    const withReverse = c.records.find(
      (r) => r.kind === 'flow' && r.fields?.['reverseOctetTotalCount'] !== undefined,
    );
    expect(withReverse).toBeDefined();
  });

  it('IPFIX with ntop enterprise elements (PEN 35632)', () => {
    const c = compareFlows('ipfix_pen_35632');
    const flow = c.records.find((r): r is FlowRecord => r.kind === 'flow')!;
    const expected = c.expected[0]!.fields;
    // Telegraf names unknown enterprise fields type_<PEN>_<id>; we name them from the ntop table.
    expect(n(flow.fields?.['l7Proto'])).toBe(n(expected['l7_proto']));
    expect(flow.fields?.['sslServerName']).toBe(
      expected['ssl_server_name'] ?? flow.fields?.['sslServerName'],
    );
  });

  it('IPFIX from issue 13305 (same exporter, PEN elements unknown to Telegraf)', () => {
    compareFlows('issue_13305');
  });

  it('IPFIX whose last set overruns the message length: intact records kept, error counted', () => {
    const c = compareFlows('issue_14370');
    expect(c.exporter.counters.errorsByReason.get('bad_set_length')).toBe(1);
  });

  it('NetFlow v9 options: interface names learned per exporter', () => {
    const c = decodeCase('netflow_v9_options');
    const options = c.records.filter((r): r is OptionsRecord => r.kind === 'options');
    const expected = c.expected.filter((p) => p.measurement === 'netflow_options');
    expect(options.length).toBe(expected.length);
    const actual = options.map((o) => ({
      ifIndex: n(o.fields['ingressInterface']),
      name: o.fields['interfaceName'],
      description: o.fields['interfaceDescription'],
    }));
    const want = expected.map((p) => ({
      ifIndex: n(p.fields['in_snmp']),
      name: p.fields['interface'],
      description: p.fields['interface_desc'],
    }));
    expect(sortByJson(actual)).toEqual(sortByJson(want));
    for (const w of want) expect(c.exporter.interfaces.get(w.ifIndex as number)?.name).toBe(w.name);
  });

  it('IPFIX options: application names', () => {
    const c = decodeCase('ipfix_options');
    const options = c.records.filter((r): r is OptionsRecord => r.kind === 'options');
    const expected = c.expected.filter((p) => p.measurement === 'netflow_options');
    expect(options.length).toBe(expected.length);
    const actual = options.map((o) => ({
      name: o.fields['applicationName'],
      description: o.fields['applicationDescription'],
    }));
    // Telegraf trims trailing spaces of app_desc; the wire value is what we report.
    const want = expected.map((p) => ({ name: p.fields['app_name'], description: p.fields['app_desc'] }));
    const trim = (xs: typeof actual) =>
      xs.map((x) => ({ ...x, description: String(x.description ?? '').trim() }));
    expect(sortByJson(trim(actual))).toEqual(sortByJson(trim(want)));
  });
});
