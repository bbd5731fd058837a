import { describe, expect, it } from 'vitest';
import { batchLength, ColumnsBuilder, pointsOf, toColumns, transferables } from './columns.js';
import type { Point } from './store.js';

const T = 1_700_000_040_000;
const points: Point[] = [
  {
    measurement: 'traffic',
    tags: { exporter: '192.0.2.1', ifIndex: '1', ifName: 'Gi0/1', direction: 'in' },
    fields: { bytes: 10, packets: 2 ** 53 + 2, flows: 1.5 },
    time: T,
  },
  {
    measurement: 'top_talkers',
    tags: { exporter: '192.0.2.1', side: 'src', rank: '1' },
    fields: { addr: '2001:db8::1', bytes: 2n ** 63n - 1n, packets: -(2n ** 63n) },
    time: T + 0.5,
  },
  { measurement: 'anomaly', tags: {}, fields: { huge: 2n ** 70n, on: true, off: false, note: '' }, time: T },
];

describe('points as columns', () => {
  it('gives back the points it was made from, every kind of value exact', () => {
    const columns = toColumns(points);
    expect(batchLength(columns)).toBe(3);
    expect(pointsOf(columns)).toEqual(points);
    expect(pointsOf(columns, 1, 2)).toEqual([points[1]]);
  });

  it('keeps each distinct string once', () => {
    const columns = toColumns([points[0]!, points[0]!, points[0]!]);
    expect(columns.strings.filter((s) => s === '192.0.2.1')).toHaveLength(1);
    expect(pointsOf(columns)).toEqual([points[0], points[0], points[0]]);
  });

  it('survives structured cloning with its buffers transferred', () => {
    const columns = toColumns(points);
    const copy = structuredClone(columns, { transfer: transferables(columns) });
    expect(pointsOf(copy)).toEqual(points);
  });

  it('starts afresh after each take', () => {
    const b = new ColumnsBuilder();
    b.add(points[0]!);
    expect(pointsOf(b.take())).toEqual([points[0]]);
    b.add(points[1]!);
    const second = b.take();
    expect(pointsOf(second)).toEqual([points[1]]);
    expect(second.strings).not.toContain('Gi0/1');
    expect(b.take().count).toBe(0);
  });

  it('passes lists of points through', () => {
    expect(batchLength(points)).toBe(3);
    expect(pointsOf(points, 2)).toEqual([points[2]]);
  });
});
