/**
 * The detection evaluation on the traces kept as fixtures (test/fixtures/detect, built by
 * scripts/detect-traces.ts from real hping3, nmap and softflowd runs on loopback and from seeded
 * synthetic exports): the goals for flowcast (recall at least 0.95 per attack type, no
 * false positive, detection within two ticks plus the exporter's delay), and FastNetMon's side of
 * `flowcast eval --detect` on a slice of one trace, so the harness that drives it stays working.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  evaluateDetection,
  findExecutable,
  MATCH_GRACE_MS,
  matchFindings,
  runFastnetmon,
} from '../cli/eval-detect.js';
import { readUdpDatagrams } from '../common/pcap.js';
import { requireTool } from './support/tools.js';

const TRACES = join(import.meta.dirname, 'fixtures', 'detect');
const TICK_MS = 5000;
/** The loopback traces' exporter sends each second's flows at the end of that second; 5 s of slack. */
const EXPORT_DELAY_MS = 5000;

describe('matching findings to injected attacks', () => {
  it('takes the first finding of the right kind and subject between the start and the grace after the end', () => {
    const attack = (subject: string, start: number) => ({
      type: 't',
      kind: 'ddos',
      subject,
      start,
      end: start + 10_000,
      detail: '',
    });
    const attacks = [attack('10.0.0.1', 100_000), attack('10.0.0.1', 200_000), attack('10.0.0.2', 100_000)];
    const finding = (subject: string, time: number, kind = 'ddos') => ({
      time,
      kind,
      subject,
      message: `${kind} ${subject} ${time}`,
    });
    const findings = [
      finding('10.0.0.1', 99_000), // before the first attack: false
      finding('10.0.0.1', 104_000), // the first attack, 4 s in
      finding('10.0.0.1', 106_000), // a second report of the first: false
      finding('10.0.0.1', 200_000 + 10_000 + MATCH_GRACE_MS), // last moment of the second attack's grace
      finding('10.0.0.2', 103_000, 'scan'), // wrong kind: false, and the third attack is missed
    ];
    const { delays, unmatched } = matchFindings(attacks, findings, (a, f) => a.kind === f.kind);
    expect(delays).toEqual([4000, 10_000 + MATCH_GRACE_MS, undefined]);
    expect(unmatched.map((f) => f.time)).toEqual([99_000, 106_000, 103_000]);
  });
});

describe('flowcast eval --detect on the fixture traces (flowcast side)', () => {
  it('finds at least 95 % of every attack type, within two ticks plus the export delay, with no false positive', async () => {
    const results = await evaluateDetection({ traces: TRACES, fastnetmon: undefined, only: [] }, () => {});
    const types = new Map<string, { injected: number; found: number }>();
    for (const r of results) {
      expect(r.flowcastFalse, `false positives in ${r.name}`).toEqual([]);
      expect(r.records, r.name).toBeGreaterThan(0);
      for (const a of r.attacks) {
        const t = types.get(a.attack.type) ?? { injected: 0, found: 0 };
        t.injected++;
        if (a.flowcast !== undefined) {
          t.found++;
          expect(a.flowcast, `${a.attack.type} on ${a.attack.subject}`).toBeLessThanOrEqual(
            2 * TICK_MS + EXPORT_DELAY_MS,
          );
        }
        types.set(a.attack.type, t);
      }
    }
    // Every kind of trace is there: real floods and scans from loopback, and the synthetic ones.
    expect([...types.keys()].sort()).toEqual([
      'amplification',
      'baseline_surge',
      'block_scan',
      'horizontal_scan',
      'syn_flood',
      'syn_flood_spoofed',
      'udp_flood',
      'udp_flood_sampled',
      'vertical_scan',
    ]);
    for (const [type, t] of types) expect(t.found / t.injected, type).toBeGreaterThanOrEqual(0.95);
    expect(results.filter((r) => r.attacks.length === 0).map((r) => r.name)).toEqual([
      'loopback-benign',
      'synthetic-benign',
    ]);
  });
});

const fastnetmon = findExecutable('fastnetmon');
const hasFastnetmon = requireTool('fastnetmon', fastnetmon !== undefined);

describe.skipIf(!hasFastnetmon)('FastNetMon as the reference on the same exports', () => {
  it('bans the first hping3 SYN flood target of the loopback trace', async () => {
    const manifest = JSON.parse(await readFile(join(TRACES, 'manifest.json'), 'utf8')) as {
      traces: { name: string; file: string; attacks: { subject: string; start: number; end: number }[] }[];
    };
    const trace = manifest.traces.find((t) => t.name === 'loopback-syn-flood')!;
    const { datagrams } = readUdpDatagrams(gunzipSync(await readFile(join(TRACES, trace.file))));
    const first = trace.attacks[0]!;
    // Up to 3 s after the first flood: about 15 s of real time.
    const bans = await runFastnetmon(fastnetmon!, datagrams, 1, {
      untilMs: first.end + 3000 - datagrams[0]!.timestamp,
      tailMs: 3000,
    });
    const ban = bans.find((b) => b.subject === first.subject);
    expect(ban, JSON.stringify(bans)).toBeDefined();
    expect(ban!.time).toBeGreaterThanOrEqual(first.start);
  }, 90_000);
});
