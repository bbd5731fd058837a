/**
 * The Grafana emulation the dashboard tests rely on, checked against what Grafana 11 produces:
 * expected values are worked out by hand from Grafana's sources (@grafana/data escapeRegex, the
 * `regex` variable format, pkg/tsdb/influxdb/influxql time filter, rangeutil interval text), not
 * from this code.
 */
import { describe, expect, it } from 'vitest';
import { escapeRegex, expandInfluxQL, formatRegex, intervalText, resolveTime } from './grafana.js';

const multi = { name: 'interface', type: 'query', multi: true, includeAll: true, allValue: '.*' };

describe('Grafana emulation', () => {
  it('escapes regex characters as @grafana/data does, slashes included', () => {
    expect(escapeRegex('xe-0/0/1')).toBe('xe-0\\/0\\/1');
    expect(escapeRegex('192.0.2.1')).toBe('192\\.0\\.2\\.1');
    expect(escapeRegex('Gi0/0 (uplink)')).toBe('Gi0\\/0 \\(uplink\\)');
  });

  it('formats a selection in the regex format', () => {
    expect(formatRegex(multi, 'All')).toBe('.*');
    expect(formatRegex(multi, ['ae0.100'])).toBe('ae0\\.100');
    expect(formatRegex(multi, ['a.b', 'c'])).toBe('(a\\.b|c)');
    expect(() => formatRegex({ name: 'x', type: 'query' }, 'All')).toThrow(/custom all value/);
  });

  it('names intervals as Grafana does', () => {
    expect(intervalText(5000)).toBe('5s');
    expect(intervalText(60_000)).toBe('1m');
    expect(intervalText(300_000)).toBe('5m');
    expect(intervalText(3_600_000)).toBe('1h');
    expect(intervalText(1500)).toBe('1500ms');
  });

  it('expands variables in every syntax, then the server macros', () => {
    const q =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${var} syntax, not JavaScript
      'SELECT sum("bytes") * 8000 / $__interval_ms FROM "traffic" WHERE "ifName" =~ /^$interface$/ AND $timeFilter GROUP BY time(${rollup}s), time($__interval) LIMIT [[limit]]';
    expect(
      expandInfluxQL(q, {
        variables: { interface: 'xe-0\\/0\\/1', rollup: '60', limit: '5' },
        fromMs: 1000,
        toMs: 2000,
        intervalMs: 60_000,
      }),
    ).toBe(
      'SELECT sum("bytes") * 8000 / 60000 FROM "traffic" WHERE "ifName" =~ /^xe-0\\/0\\/1$/ AND time >= 1000ms and time <= 2000ms GROUP BY time(60s), time(1m) LIMIT 5',
    );
    expect(() =>
      expandInfluxQL('SELECT $nope', { variables: {}, fromMs: 0, toMs: 1, intervalMs: 1 }),
    ).toThrow(/unknown variable \$nope/);
  });

  it("resolves Grafana's relative times", () => {
    expect(resolveTime('now', 1e12)).toBe(1e12);
    expect(resolveTime('now-6h', 1e12)).toBe(1e12 - 6 * 3_600_000);
    expect(resolveTime('now+30d', 1e12)).toBe(1e12 + 30 * 86_400_000);
    expect(() => resolveTime('now/d', 0)).toThrow();
  });
});
