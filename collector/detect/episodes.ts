/**
 * Episodes: one attack, however long, is one episode with a start, updates while it lasts, and an
 * end once its subject has crossed no limit for `endAfterMs`, rather than one alert per tick.
 * An episode is keyed by kind and subject (the attacked destination or the scanning source).
 * At most `maxEpisodes` are open at once; detections beyond that are dropped and counted.
 */
import type { AnomalyKind, Detection } from './detector.js';

export type EpisodeState = 'start' | 'update' | 'end';

export interface Episode {
  /** Stable id: kind, subject and start time. */
  readonly id: string;
  readonly kind: AnomalyKind;
  readonly subject: string;
  readonly exporter: string;
  readonly group: string;
  /** Unix ms of the tick that first saw it. */
  readonly startedAt: number;
  lastSeenAt: number;
  /** Unix ms of the tick that ended it. */
  endedAt: number | undefined;
  /** The latest detection. */
  latest: Detection;
  /** The detection with the highest score so far. */
  peak: Detection;
  /** Ticks in which it crossed a limit. */
  ticks: number;
}

export interface EpisodeEvent {
  readonly state: EpisodeState;
  /** Unix ms of the tick. */
  readonly time: number;
  readonly episode: Episode;
}

export interface EpisodeOptions {
  /** An episode ends when its subject crossed no limit for this long (ms). */
  readonly endAfterMs: number;
  /** While it lasts, an `update` event at most this often (ms). */
  readonly updateEveryMs: number;
  readonly maxEpisodes: number;
}

export class EpisodeTracker {
  private readonly open = new Map<string, Episode & { lastUpdateAt: number }>();
  /** Detections refused because `maxEpisodes` were open. */
  dropped = 0;

  constructor(readonly options: EpisodeOptions) {}

  /** Open episodes. */
  get active(): Iterable<Episode> {
    return this.open.values();
  }

  /** Open episodes per kind. */
  activeByKind(): Map<AnomalyKind, number> {
    const counts = new Map<AnomalyKind, number>();
    for (const e of this.open.values()) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
    return counts;
  }

  /** Feeds one tick's detections; returns the events (start, update, end) of that tick. */
  observe(detections: readonly Detection[], now: number): EpisodeEvent[] {
    const events: EpisodeEvent[] = [];
    for (const d of detections) {
      const key = `${d.kind}\u0000${d.subject}`;
      const episode = this.open.get(key);
      if (episode === undefined) {
        if (this.open.size >= this.options.maxEpisodes) {
          this.dropped++;
          continue;
        }
        const started = {
          id: `${d.kind}/${d.subject}/${now}`,
          kind: d.kind,
          subject: d.subject,
          exporter: d.exporter,
          group: d.group,
          startedAt: now,
          lastSeenAt: now,
          endedAt: undefined,
          latest: d,
          peak: d,
          ticks: 1,
          lastUpdateAt: now,
        };
        this.open.set(key, started);
        events.push({ state: 'start', time: now, episode: started });
        continue;
      }
      episode.lastSeenAt = now;
      episode.latest = d;
      episode.ticks++;
      if (d.score > episode.peak.score) episode.peak = d;
      if (now - episode.lastUpdateAt >= this.options.updateEveryMs) {
        episode.lastUpdateAt = now;
        events.push({ state: 'update', time: now, episode });
      }
    }
    for (const [key, episode] of this.open) {
      if (now - episode.lastSeenAt >= this.options.endAfterMs) {
        episode.endedAt = now;
        this.open.delete(key);
        events.push({ state: 'end', time: now, episode });
      }
    }
    return events;
  }
}
