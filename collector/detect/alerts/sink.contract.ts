/**
 * The contract every alert sink runs (STYLE.md point 5): against a real receiving end that works
 * and one that does not, `deliver()` returns at once, every event gets exactly one outcome
 * (success, failure after its retries, or dropped when the queue is full or the sink stopped), and
 * `stop()` returns within the sink's timeout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Detection } from '../detector.js';
import type { Episode, EpisodeEvent } from '../episodes.js';
import type { AlertSink, DeliveryResult } from './sink.js';

export interface SinkHarness {
  /** A sink towards a working receiver; `received()` says how many events that receiver got. */
  working(
    onResult: (sink: string, r: DeliveryResult) => void,
    maxQueued: number,
  ): Promise<{
    sink: AlertSink;
    received(): Promise<number>;
    cleanup(): Promise<void>;
  }>;
  /** A sink towards a receiver that refuses everything (two attempts per event). */
  failing(
    onResult: (sink: string, r: DeliveryResult) => void,
    maxQueued: number,
  ): Promise<{
    sink: AlertSink;
    cleanup(): Promise<void>;
  }>;
  /** Whether the sink sends `update` events (the command sink does not). */
  sendsUpdates: boolean;
}

let sequence = 0;

/** A start, update or end event of a fresh episode on `subject`. */
export function testEvent(
  state: EpisodeEvent['state'],
  subject = `10.0.0.${++sequence % 250}`,
  time = Date.now(),
): EpisodeEvent {
  const d: Detection = {
    kind: 'syn_flood',
    subject,
    exporter: '192.0.2.1',
    group: 'servers',
    metric: 'syn_pps',
    value: 12_000,
    expected: 5000,
    limit: 5000,
    score: 2.4,
    sources: 1,
    message: `SYN flood on ${subject} (servers): syn_pps 12000 packets/s over threshold 5000, one source`,
  };
  const episode: Episode = {
    id: `syn_flood/${subject}/${time - 10_000}`,
    kind: 'syn_flood',
    subject,
    exporter: '192.0.2.1',
    group: 'servers',
    startedAt: time - 10_000,
    lastSeenAt: time,
    endedAt: state === 'end' ? time : undefined,
    latest: d,
    peak: d,
    ticks: 3,
  };
  return { state, time, episode };
}

const waitFor = async (check: () => boolean | Promise<boolean>, ms = 15_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

export function alertSinkContract(name: string, harness: SinkHarness): void {
  describe(`AlertSink contract: ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0)) await c();
    });

    it('delivers start and end events, one success each; updates as the sink says', async () => {
      const results: DeliveryResult[] = [];
      const h = await harness.working((_, r) => results.push(r), 100);
      cleanups.push(h.cleanup);
      await h.sink.start();
      const subject = '10.0.0.200';
      h.sink.deliver(testEvent('start', subject));
      h.sink.deliver(testEvent('update', subject));
      h.sink.deliver(testEvent('end', subject));
      const expected = harness.sendsUpdates ? 3 : 2;
      await waitFor(() => results.length === expected);
      expect(results).toEqual(new Array(expected).fill('success'));
      expect(await h.received()).toBe(expected);
      await h.sink.stop();
    });

    it('counts a failure once per event after its retries, without blocking the caller', async () => {
      const results: DeliveryResult[] = [];
      const h = await harness.failing((_, r) => results.push(r), 100);
      cleanups.push(h.cleanup);
      await h.sink.start();
      const t0 = performance.now();
      h.sink.deliver(testEvent('start'));
      h.sink.deliver(testEvent('end'));
      expect(performance.now() - t0).toBeLessThan(50);
      await waitFor(() => results.length === 2);
      expect(results).toEqual(['failure', 'failure']);
      await h.sink.stop();
    });

    it('drops and counts what does not fit its queue, and what arrives after stop', async () => {
      const results: DeliveryResult[] = [];
      const h = await harness.failing((_, r) => results.push(r), 2);
      cleanups.push(h.cleanup);
      await h.sink.start();
      for (let i = 0; i < 10; i++) h.sink.deliver(testEvent('start'));
      // The first is being sent, two wait, seven are dropped at once.
      expect(results.filter((r) => r === 'dropped').length).toBeGreaterThanOrEqual(7);
      await waitFor(() => results.length === 10);
      expect(results.filter((r) => r === 'failure').length).toBeGreaterThanOrEqual(1);
      await h.sink.stop();
      h.sink.deliver(testEvent('end'));
      expect(results).toHaveLength(11);
      expect(results[10]).toBe('dropped');
    });
  });
}
