/** Synthetic series with known futures, for tests and benchmarks. */

/** Samples in a synthetic "day". */
export const SYNTHETIC_DAY = 48;
const M = SYNTHETIC_DAY;

/** A level with a small trend and a daily sinusoid: what a forecaster must continue. */
export function trendSinusoid(n: number, noise?: () => number): Float64Array {
  const y = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    y[t] = 1000 + 0.2 * t + 200 * Math.sin((2 * Math.PI * t) / M) + (noise?.() ?? 0);
  }
  return y;
}

/** Deterministic standard normal noise (Box-Muller over a 32-bit LCG). */
export function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
}
