import { describe, expect, it } from 'vitest';
import * as fmt from './format.js';

describe('units for people', () => {
  it('bit rates in decimal steps, with few digits', () => {
    expect(fmt.bps(0)).toBe('0 b/s');
    expect(fmt.bps(999)).toBe('999 b/s');
    expect(fmt.bps(1000)).toBe('1 kb/s');
    expect(fmt.bps(1530)).toBe('1.53 kb/s');
    expect(fmt.bps(24_600_000)).toBe('24.6 Mb/s');
    expect(fmt.bps(1e8)).toBe('100 Mb/s');
    expect(fmt.bps(9.7e9)).toBe('9.7 Gb/s');
    expect(fmt.bps(4e12)).toBe('4 Tb/s');
    expect(fmt.bps(-2.2e6)).toBe('-2.2 Mb/s');
    expect(fmt.bps(null)).toBe('–');
    expect(fmt.bps(Number.NaN)).toBe('–');
  });

  it('bytes, percentages and days', () => {
    expect(fmt.bytes(14_200_000)).toBe('14.2 MB');
    expect(fmt.percent(0.4301)).toBe('43.0 %');
    expect(fmt.percent(null)).toBe('–');
    expect(fmt.days(16.5)).toBe('17 d');
    expect(fmt.days(3.25)).toBe('3.3 d');
    expect(fmt.days(0.5)).toBe('12 h');
    expect(fmt.days(-1)).toBe('now');
    expect(fmt.days(null)).toBe('not in sight');
  });

  it('times in UTC when asked', () => {
    expect(fmt.time('2024-05-01T00:03:07Z', true)).toBe('2024-05-01 00:03:07 UTC');
    expect(fmt.time(null, true)).toBe('–');
    expect(fmt.time('not a time', false)).toBe('–');
  });

  it('interfaces by name, or by ifIndex when the name is only the number', () => {
    expect(fmt.ifLabel('xe-0/0/1', 3)).toBe('xe-0/0/1 (3)');
    expect(fmt.ifLabel('3', 3)).toBe('ifIndex 3');
    expect(fmt.ifLabel('', '7')).toBe('ifIndex 7');
  });
});
