import { describe, expect, it } from 'vitest';
import { MIN_WORK_MS, Pacer } from './pace.js';

/** A pacer on a clock the test moves; its rests are recorded and move the clock. */
function pacerOn(duty: number) {
  let now = 1000;
  const rests: number[] = [];
  const pacer = new Pacer(
    duty,
    () => now,
    async (ms) => {
      rests.push(ms);
      now += ms;
    },
  );
  return { pacer, rests, work: (ms: number) => (now += ms) };
}

describe('Pacer', () => {
  it('rests as long as the work took at half duty, three times as long at a quarter', async () => {
    const half = pacerOn(0.5);
    half.work(100);
    await half.pacer.pause();
    half.work(40);
    await half.pacer.pause();
    expect(half.rests).toEqual([100, 40]);

    const quarter = pacerOn(0.25);
    quarter.work(100);
    await quarter.pacer.pause();
    expect(quarter.rests).toEqual([300]);
  });

  it('counts work from the end of the last rest, and lets short work run on until it adds up', async () => {
    const p = pacerOn(0.5);
    p.work(MIN_WORK_MS - 1);
    await p.pacer.pause();
    expect(p.rests).toEqual([]);
    p.work(2);
    await p.pacer.pause();
    // The two pieces together, not the last alone; the rest itself is not counted as work.
    expect(p.rests).toEqual([MIN_WORK_MS + 1]);
    p.work(MIN_WORK_MS);
    await p.pacer.pause();
    expect(p.rests).toEqual([MIN_WORK_MS + 1, MIN_WORK_MS]);
  });

  it('never rests at a duty of 1, and refuses a duty outside (0, 1]', async () => {
    const p = pacerOn(1);
    p.work(10_000);
    await p.pacer.pause();
    expect(p.rests).toEqual([]);
    for (const duty of [0, -0.5, 1.5, Number.NaN]) expect(() => new Pacer(duty)).toThrow(RangeError);
  });
});
