import { describe, expect, it } from 'vitest';
import { gaussian } from '../forecast/synthetic.js';
import { MarkovChain, stateOf } from './chain.js';

/** A uniform draw from a deterministic generator. */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
}

// A three-state chain with known rows; states sit at utilisation 0.1, 0.6, 0.9 (bounds 0.5, 0.85).
const P = [
  [0.9, 0.1, 0.0],
  [0.2, 0.7, 0.1],
  [0.0, 0.5, 0.5],
];
const LEVEL = [0.1, 0.6, 0.9];
const BOUNDS = [0.5, 0.85];

function simulate(
  n: number,
  rows: (hour: number) => number[][],
): { util: Float64Array; hours: Float64Array } {
  const u = uniform(42);
  const util = new Float64Array(n);
  const hours = new Float64Array(n);
  let s = 0;
  for (let t = 0; t < n; t++) {
    hours[t] = Math.floor(t / 12) % 24;
    util[t] = LEVEL[s]!;
    const row = rows(hours[t]!)[s]!;
    let r = u();
    let next = 0;
    while (next < row.length - 1 && r >= row[next]!) r -= row[next++]!;
    s = next;
  }
  return { util, hours };
}

describe('Markov chain', () => {
  it('recovers a known transition matrix', () => {
    const { util, hours } = simulate(200_000, () => P);
    const chain = MarkovChain.fit(util, hours, { bounds: BOUNDS });
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) expect(chain.pooled[i * 3 + j]!).toBeCloseTo(P[i]![j]!, 2);
    }
  });

  it('gives the exact probability of congestion within k steps (absorbing congested state)', () => {
    const { util, hours } = simulate(200_000, () => P);
    const chain = MarkovChain.fit(util, hours, { bounds: BOUNDS });
    // From state 0, congestion needs 0 -> 1 -> 2: within 2 steps P = 0.1 * 0.1 = 0.01.
    expect(chain.probCongestedWithin(0, 2, () => 0)).toBeCloseTo(0.01, 2);
    // From state 1 within 1 step: 0.1. Already congested: 1.
    expect(chain.probCongestedWithin(1, 1, () => 5)).toBeCloseTo(0.1, 2);
    expect(chain.probCongestedWithin(2, 10, () => 5)).toBe(1);
    // It only grows with the horizon.
    expect(chain.probCongestedWithin(0, 100, () => 3)).toBeGreaterThan(
      chain.probCongestedWithin(0, 10, () => 3),
    );
  });

  it('keeps one matrix per hour of day and falls back to the pooled one where an hour saw little', () => {
    const busyEvening = [
      [0.5, 0.5, 0.0],
      [0.0, 0.5, 0.5],
      [0.0, 0.2, 0.8],
    ];
    const { util, hours } = simulate(300_000, (h) => (h >= 18 && h < 22 ? busyEvening : P));
    const chain = MarkovChain.fit(util, hours, { bounds: BOUNDS });
    expect(chain.hourly[19]![1 * 3 + 2]!).toBeCloseTo(0.5, 1);
    expect(chain.hourly[3]![1 * 3 + 2]!).toBeCloseTo(0.1, 1);
    // An hour never seen uses the pooled rows.
    const sparse = MarkovChain.fit(util.subarray(0, 12 * 5), hours.subarray(0, 12 * 5), { bounds: BOUNDS });
    expect([...sparse.hourly[23]!]).toEqual([...sparse.pooled]);
    // Evening risk is higher than night risk from the same state.
    expect(chain.probCongestedWithin(0, 12, () => 19)).toBeGreaterThan(
      chain.probCongestedWithin(0, 12, () => 3),
    );
  });

  it('maps utilisation onto states at the bounds', () => {
    expect([0, 0.29, 0.3, 0.5, 0.7, 0.849, 0.85, 1.2].map((u) => stateOf(u, [0.3, 0.5, 0.7, 0.85]))).toEqual([
      0, 0, 1, 2, 3, 3, 4, 4,
    ]);
    expect(gaussian(1)()).not.toBeNaN();
  });
});
