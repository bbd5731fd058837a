import { describe, expect, it } from 'vitest';
import { parseTime } from './time.js';

// 2024-05-01T00:00:00Z is 1714521600 s since the epoch (19844 days × 86400).
const MAY_1 = 1_714_521_600_000;
const NOW = MAY_1 + 12 * 3_600_000;

describe('parseTime', () => {
  it('reads RFC 3339 with Z, offsets and fractions', () => {
    expect(parseTime('2024-05-01T00:00:00Z', NOW)).toBe(MAY_1);
    expect(parseTime('2024-05-01t00:00:00z', NOW)).toBe(MAY_1);
    expect(parseTime('2024-05-01 00:00:00Z', NOW)).toBe(MAY_1);
    expect(parseTime('2024-05-01T02:00:00+02:00', NOW)).toBe(MAY_1);
    expect(parseTime('2024-04-30T19:30:00-04:30', NOW)).toBe(MAY_1);
    expect(parseTime('2024-05-01T00:00:00.250Z', NOW)).toBe(MAY_1 + 250);
    expect(parseTime('2024-05-01T00:00:00.123456789Z', NOW)).toBe(MAY_1 + 123);
    expect(parseTime('1970-01-01T00:00:00Z', NOW)).toBe(0);
  });

  it('reads Unix seconds, with a fraction', () => {
    expect(parseTime('1714521600', NOW)).toBe(MAY_1);
    expect(parseTime('1714521600.5', NOW)).toBe(MAY_1 + 500);
    expect(parseTime('0', NOW)).toBe(0);
  });

  it('reads now and times relative to it', () => {
    expect(parseTime('now', NOW)).toBe(NOW);
    expect(parseTime('-24h', NOW)).toBe(NOW - 86_400_000);
    expect(parseTime('now-15m', NOW)).toBe(NOW - 900_000);
    expect(parseTime('-30s', NOW)).toBe(NOW - 30_000);
    expect(parseTime('-7d', NOW)).toBe(NOW - 7 * 86_400_000);
    expect(parseTime('-2w', NOW)).toBe(NOW - 14 * 86_400_000);
  });

  it('refuses everything else', () => {
    for (const bad of [
      '',
      'yesterday',
      '2024-05-01',
      '2024-05-01T00:00:00',
      '2024-02-30T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-05-01T24:00:00Z',
      '2024-05-01T00:00:00+25:00',
      '-24',
      '+24h',
      '-1y',
      '1e9',
      '-5',
      '0x10',
      '1714521600000000',
      ' 1714521600',
      "1' OR '1'='1",
      '-99999999d',
      '10000-01-01T00:00:00Z',
    ]) {
      expect(parseTime(bad, NOW), bad).toBeUndefined();
    }
  });
});
