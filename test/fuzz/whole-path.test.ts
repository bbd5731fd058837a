/**
 * The whole-path fuzz harness (whole-path.ts) on a bounded count, in `npm test`: mutated datagrams
 * through decode, rollup, line protocol and the embedded store's encoding. Longer runs:
 * `npm run fuzz -- --seconds 600 [--seed N]`.
 */
import { describe, expect, it } from 'vitest';
import { FlowRecord } from '../../collector/decode/flow.js';
import { toLine } from '../../storage/line-protocol.js';
import { failsAlone, fuzzWholePath, parseLine, recordProblem } from './whole-path.js';

const SEED = 20_261_130;

describe('whole-path fuzz', () => {
  it(`5,000 mutated datagrams (seed ${SEED}): nothing throws, every value is finite and storable, lines parse back`, () => {
    const report = fuzzWholePath({ seed: SEED, datagrams: 5000 });
    const detail = report.failures
      .map(
        (f) =>
          `[${f.stage}] ${f.message}\n  npm run fuzz -- --seed ${f.seed} --datagrams ${f.iteration + 1}\n  ${f.exporter}: ${f.hex}` +
          `\n  alone: ${failsAlone(f.hex, f.exporter) ?? 'passes'}`,
      )
      .join('\n');
    expect(report.failuresByStage, detail).toEqual({});
    expect(report.datagrams).toBe(5000);
    // The run reached every stage.
    expect(report.records).toBeGreaterThan(1000);
    expect(report.flushes).toBeGreaterThan(100);
    expect(report.lines).toBeGreaterThan(1000);
    expect(report.lines).toBe(report.points);
  });

  it('is reproducible: the same seed gives the same counts', () => {
    const a = fuzzWholePath({ seed: 7, datagrams: 400 });
    const b = fuzzWholePath({ seed: 7, datagrams: 400 });
    expect({ ...a, elapsedMs: 0 }).toEqual({ ...b, elapsedMs: 0 });
  });

  it('its line protocol parser reads escapes back as written', () => {
    const point = {
      measurement: 'traffic',
      tags: { exporter: '192.0.2.1', ifIndex: '3', ifName: 'ge-0/0/1, "up"=a b', direction: 'in' },
      fields: { bytes: 2n ** 63n - 1n, packets: 5, flows: 1 },
      time: 1_700_000_000_000,
    };
    const parsed = parseLine(toLine(point));
    expect(parsed).toEqual({
      measurement: 'traffic',
      tags: { direction: 'in', exporter: '192.0.2.1', ifIndex: '3', ifName: 'ge-0/0/1, "up"=a b' },
      fields: { bytes: '9223372036854775807i', packets: '5i', flows: '1i' },
      time: '1700000000000',
    });
    const withString = parseLine(String.raw`top_talkers,exporter=x addr="a\"b\\c",bytes=1i 5`);
    expect(withString.fields['addr']).toBe('"a"b\\c');
    expect(() => parseLine('traffic bytes=1i')).toThrow(/timestamp/);
  });

  it('its record checks catch what issue 7 saw', () => {
    const r = new FlowRecord('192.0.2.1', 10, 0);
    r.bytes = 1;
    expect(recordProblem(r)).toBeUndefined();
    r.samplingRate = Number.POSITIVE_INFINITY;
    expect(recordProblem(r)).toMatch(/samplingRate/);
    r.samplingRate = 1;
    r.end = 2 ** 64;
    expect(recordProblem(r)).toMatch(/end/);
  });
});
