import { describe, expect, it } from 'vitest';
import { daysToThreshold, percentile, trendPerDay } from './planning.js';
import { capacityResolver, speedFromName } from './speed.js';

const DAY = 86_400_000;

describe('interface capacity', () => {
  it.each([
    ['GigabitEthernet0/0/1', 1e9],
    ['Gi1/0/24', 1e9],
    ['TenGigE0/1/0/3', 10e9],
    ['Te1/1', 10e9],
    ['HundredGigE0/0/0/0', 100e9],
    ['Hu0/0/1/2', 100e9],
    ['ge-0/0/1', 1e9],
    ['xe-1/2/0.100', 10e9],
    ['et-0/0/0', 40e9],
  ])('reads %s as %d b/s', (name, bps) => {
    expect(speedFromName(name)?.bps).toBe(bps);
  });

  it('leaves names that state no speed unknown, and says why', () => {
    const resolve = capacityResolver([]);
    for (const name of ['Ethernet1', 'eth0', 'Port-channel1', 'ae0', '']) {
      const c = resolve('192.0.2.1', 1, name);
      expect(c.bps).toBeUndefined();
      expect(c.source).toBe('unknown');
      expect(c.note).toMatch(/capacity unknown.*analytics\.capacity/);
    }
  });

  it('lets configuration override the name, by exporter and ifIndex or by name pattern', () => {
    const resolve = capacityResolver([
      { exporter: '192.0.2.1', ifIndex: 7, bps: 2e9 },
      { ifName: '^et-', bps: 100e9 },
    ]);
    expect(resolve('192.0.2.1', 7, 'GigabitEthernet0/7')).toMatchObject({ bps: 2e9, source: 'config' });
    expect(resolve('192.0.2.2', 7, 'GigabitEthernet0/7')).toMatchObject({ bps: 1e9, source: 'name' });
    expect(resolve('192.0.2.2', 3, 'et-0/0/3')).toMatchObject({ bps: 100e9, source: 'config' });
    expect(() => capacityResolver([{ ifName: '(', bps: 1 }])).toThrow(/analytics\.capacity\[0\]\.ifName/);
  });
});

describe('capacity planning', () => {
  it('gives the days to threshold of a linear ramp exactly', () => {
    // 100 Mb/s rising 5 Mb/s a day, forecast 10 days at hourly points; threshold 800 Mb/s of 1 Gb/s:
    // (800 - 100) / 5 = 140 days, beyond the forecast horizon, so the trend carries it.
    const now = Date.UTC(2024, 0, 1);
    const times: number[] = [];
    const upper: number[] = [];
    for (let h = 0; h <= 240; h++) {
      times.push(now + h * 3_600_000);
      upper.push(100e6 + (5e6 * h) / 24);
    }
    expect(daysToThreshold(now, times, upper, 800e6, 5e6)).toBeCloseTo(140, 9);
    // Within the horizon: reached at hour 96 exactly (100 + 5 * 4 = 120 Mb/s).
    expect(daysToThreshold(now, times, upper, 120e6, 5e6)).toBeCloseTo(4, 9);
    // Already above: 0; never reached with a flat trend: undefined.
    expect(daysToThreshold(now, times, upper, 50e6, 0)).toBe(0);
    expect(
      daysToThreshold(
        now,
        times,
        upper.map(() => 100e6),
        800e6,
        0,
      ),
    ).toBeUndefined();
  });

  it('measures the trend per day of a ramp with Theil–Sen, unmoved by one odd day', () => {
    const times: number[] = [];
    const values: number[] = [];
    for (let d = 0; d < 20; d++) {
      for (let h = 0; h < 24; h++) {
        times.push(d * DAY + h * 3_600_000);
        values.push(d === 10 ? 1e12 : 1000 + 50 * d + h);
      }
    }
    expect(trendPerDay(times, values)).toBeCloseTo(50, 9);
    expect(percentile([1, 2, 3, 4, 5], 0.95)).toBeCloseTo(4.8, 12);
  });
});
