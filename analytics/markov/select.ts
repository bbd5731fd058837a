/**
 * Choosing the chain's time structure per series and horizon, the way the forecasters are chosen:
 * candidates are one pooled matrix, one per hour of day and one per hour of week (when the history
 * holds three weeks), each fitted on the history before a validation stretch and scored by Brier
 * score on it; the winner is refitted on the whole history. Short horizons tend to favour the
 * pooled chain (the current state says most), day-ahead ones the hour-of-week chain (weekday
 * evenings congest, weekend ones do not).
 */
import { MarkovChain, stateOf } from './chain.js';

export interface ChainChoice {
  readonly chain: MarkovChain;
  readonly slots: number;
  /** Maps a sample index to its slot for this chain. */
  readonly slotOf: (t: number) => number;
}

/**
 * `phase(t, slots)` gives sample t's slot when the day is cut into `slots / 7` or `slots` parts
 * (hour of day for 24, hour of week for 168). Validation uses the last `validation` samples before
 * the end, at most every `stride` samples.
 */
export function chooseChain(
  util: Float64Array,
  phase: (t: number, slots: number) => number,
  horizon: number,
  samplesPerWeek: number,
  bounds: readonly number[],
  validation: number,
  stride = 3,
): ChainChoice {
  const n = util.length;
  const candidates = [1, 24, ...(n >= 3 * samplesPerWeek ? [168] : [])];
  const congested = bounds.length;
  const states = Uint8Array.from(util, (u) => stateOf(u, bounds));
  const fitOn = (slots: number, end: number) => {
    const slotOf = (t: number) => (slots === 1 ? 0 : phase(t, slots));
    const hours = Float64Array.from({ length: end }, (_, t) => slotOf(t));
    return { chain: MarkovChain.fit(util.subarray(0, end), hours, { bounds, slots }), slotOf };
  };
  const start = n - horizon - validation;
  let best = { slots: 24, brier: Number.POSITIVE_INFINITY };
  if (start > samplesPerWeek / 7) {
    for (const slots of candidates) {
      const { chain, slotOf } = fitOn(slots, start);
      let sum = 0;
      let count = 0;
      for (let t = start; t + horizon < n; t += stride) {
        let happened = 0;
        for (let k = 1; k <= horizon; k++) {
          if (states[t + k] === congested) {
            happened = 1;
            break;
          }
        }
        const p = chain.probCongestedWithin(states[t]!, horizon, (k) => slotOf(t + k));
        sum += (p - happened) ** 2;
        count++;
      }
      const brier = count > 0 ? sum / count : Number.POSITIVE_INFINITY;
      if (brier < best.brier) best = { slots, brier };
    }
  }
  const { chain, slotOf } = fitOn(best.slots, n);
  return { chain, slots: best.slots, slotOf };
}
