import { describe, expect, it } from 'vitest';
import type { Detection } from './detector.js';
import { EpisodeTracker } from './episodes.js';

const detection = (subject: string, score: number, kind: Detection['kind'] = 'ddos'): Detection => ({
  kind,
  subject,
  exporter: '192.0.2.1',
  group: 'default',
  metric: 'pps',
  value: score * 1000,
  expected: 1000,
  limit: 1000,
  score,
  message: `attack on ${subject}`,
});

describe('EpisodeTracker', () => {
  it('turns an hour-long attack into one start, periodic updates and one end', () => {
    const t = new EpisodeTracker({ endAfterMs: 15_000, updateEveryMs: 60_000, maxEpisodes: 10 });
    const states: string[] = [];
    let now = 0;
    // One hour of 5 s ticks with the attack, then quiet ticks.
    for (; now < 3_600_000; now += 5000) {
      for (const e of t.observe([detection('10.0.0.1', 2 + (now === 1_800_000 ? 5 : 0))], now))
        states.push(e.state);
    }
    const ends = [];
    for (let k = 0; k < 4; k++, now += 5000) ends.push(...t.observe([], now));
    expect(states[0]).toBe('start');
    expect(states.filter((s) => s === 'start')).toHaveLength(1);
    // Updates once a minute after the start: 59 in the hour.
    expect(states.filter((s) => s === 'update')).toHaveLength(59);
    expect(ends).toHaveLength(1);
    const end = ends[0]!;
    expect(end.state).toBe('end');
    // Last seen at 3 595 000; ends at the first tick 15 s later.
    expect(end.time).toBe(3_610_000);
    expect(end.episode.peak.score).toBe(7);
    expect(end.episode.ticks).toBe(720);
    expect([...t.active]).toEqual([]);
  });

  it('keeps kinds and subjects apart, and bounds open episodes', () => {
    const t = new EpisodeTracker({ endAfterMs: 10_000, updateEveryMs: 60_000, maxEpisodes: 2 });
    const events = t.observe(
      [detection('10.0.0.1', 2), detection('10.0.0.1', 2, 'syn_flood'), detection('10.0.0.2', 3)],
      0,
    );
    expect(events.map((e) => [e.state, e.episode.kind, e.episode.subject])).toEqual([
      ['start', 'ddos', '10.0.0.1'],
      ['start', 'syn_flood', '10.0.0.1'],
    ]);
    expect(t.dropped).toBe(1);
    expect(t.activeByKind()).toEqual(
      new Map([
        ['ddos', 1],
        ['syn_flood', 1],
      ]),
    );
  });
});
