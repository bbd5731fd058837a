import { describe, expect, it } from 'vitest';
import type { Point } from '../../storage/store.js';
import { mergeWindowPoints } from './merge.js';

const T = 1_700_000_040_000;

function traffic(exporter: string, bytes: number | bigint, flows = 1): Point {
  return {
    measurement: 'traffic',
    tags: { exporter, ifIndex: '1', ifName: 'Gi0/1', direction: 'in' },
    fields: { bytes, packets: 1, flows },
    time: T,
  };
}

function talker(exporter: string, rank: number, addr: string, bytes: number): Point {
  return {
    measurement: 'top_talkers',
    tags: { exporter, side: 'src', rank: String(rank) },
    fields: { addr, bytes, packets: 1 },
    time: T,
  };
}

describe('merging one interval from several decode workers', () => {
  it('passes one worker’s points through untouched', () => {
    const points = [traffic('192.0.2.1', 10), talker('192.0.2.1', 1, '10.0.0.1', 10)];
    expect(mergeWindowPoints([points, []])).toBe(points);
  });

  it('keeps series of different exporters apart and adds the ones that meet (overflow)', () => {
    const merged = mergeWindowPoints([
      [traffic('192.0.2.1', 10), traffic('overflow', 100, 2)],
      [traffic('192.0.2.2', 20), traffic('overflow', 1000, 3)],
    ]);
    const byExporter = Object.fromEntries(merged.map((p) => [p.tags['exporter'], p.fields]));
    expect(merged).toHaveLength(3);
    expect(byExporter['192.0.2.1']).toEqual({ bytes: 10, packets: 1, flows: 1 });
    expect(byExporter['192.0.2.2']).toEqual({ bytes: 20, packets: 1, flows: 1 });
    expect(byExporter['overflow']).toEqual({ bytes: 1100, packets: 2, flows: 5 });
  });

  it('adds beyond 2^53 exactly and saturates at int64 like the rollup', () => {
    const big = 2n ** 62n;
    const [exact] = mergeWindowPoints([[traffic('overflow', 2 ** 53)], [traffic('overflow', 2 ** 53)]]);
    expect(exact!.fields['bytes']).toBe(2n ** 54n);
    const [clamped] = mergeWindowPoints([[traffic('overflow', big)], [traffic('overflow', big)]]);
    expect(clamped!.fields['bytes']).toBe(2n ** 63n - 1n);
  });

  it('ranks merged top talkers again by their summed bytes, as many ranks as a worker wrote', () => {
    const merged = mergeWindowPoints([
      [talker('overflow', 1, '10.0.0.1', 50), talker('overflow', 2, '10.0.0.2', 40)],
      [talker('overflow', 1, '10.0.0.3', 60), talker('overflow', 2, '10.0.0.2', 30)],
    ]);
    expect(merged.map((p) => [p.tags['rank'], p.fields['addr'], p.fields['bytes']])).toEqual([
      ['1', '10.0.0.2', 70],
      ['2', '10.0.0.3', 60],
    ]);
  });
});
