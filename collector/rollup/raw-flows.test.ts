/** The optional raw-flow measurement: one record in N, addresses and ports as fields, never tags. */
import { describe, expect, it } from 'vitest';
import type { Point } from '../../storage/store.js';
import { FlowRecord } from '../decode/flow.js';
import { RawFlowSampler } from './raw-flows.js';

function record(i: number): FlowRecord {
  const r = new FlowRecord('192.0.2.1', 9, 0);
  r.srcAddr = `10.0.0.${i}`;
  r.dstAddr = '2001:db8::1';
  r.srcPort = 1000 + i;
  r.dstPort = 443;
  r.protocol = 6;
  r.bytes = 100 * i;
  r.packets = i;
  r.samplingRate = 10;
  r.end = 1_700_000_000_000 + i;
  return r;
}

describe('raw flow sampler', () => {
  it('keeps one record in N with the flow keys as fields', () => {
    const points: Point[] = [];
    const sampler = new RawFlowSampler(3, (p) => points.push(...p));
    sampler.ingest(
      Array.from({ length: 10 }, (_, i) => record(i)),
      0,
    );
    expect(points.map((p) => p.fields['srcPort'])).toEqual([1000, 1003, 1006, 1009]);
    expect(sampler.seen).toBe(10);
    expect(sampler.written).toBe(4);
    const p = points[1]!;
    expect(p.measurement).toBe('flows');
    expect(p.tags).toEqual({ exporter: '192.0.2.1', protocol: 'tcp' });
    expect(p.fields).toMatchObject({
      srcAddr: '10.0.0.3',
      dstAddr: '2001:db8::1',
      dstPort: 443,
      bytes: 300,
      packets: 3,
      samplingRate: 10,
    });
    expect(p.time).toBe(1_700_000_000_003);
  });

  it('moves a flow ending in the same millisecond as the last of its series one millisecond on', () => {
    const points: Point[] = [];
    const sampler = new RawFlowSampler(1, (p) => points.push(...p));
    const flows = [1, 2, 3].map((i) => {
      const r = record(i);
      r.end = 1_700_000_000_000;
      return r;
    });
    sampler.ingest(flows, 0);
    expect(points.map((p) => p.time)).toEqual([1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002]);
  });
});
