/**
 * Congestion risk as a Markov chain over utilisation states. Utilisation (a fraction of capacity)
 * is cut into states at configurable bounds (default 30, 50, 70 and 85 %: five states, the last one
 * congested). Transitions are counted per hour of day (24 matrices) and pooled over all hours;
 * each hourly row is smoothed towards the pooled row, and an hour whose row saw fewer than `minTransitions`
 * transitions uses the pooled row. The probability of congestion within k steps makes the
 * congested state absorbing and propagates the current state's distribution through the matrices
 * of the hours it passes, so that a link that is calm at 04:00 but busy every evening gets a risk
 * that knows evening is coming.
 */

export const DEFAULT_BOUNDS = [0.3, 0.5, 0.7, 0.85] as const;

export interface ChainOptions {
  /** Ascending utilisation bounds between states (fractions of capacity). */
  readonly bounds?: readonly number[];
  /** Fewest transitions out of a state in one hour before that hour's own row is trusted. */
  readonly minTransitions?: number;
  /** Weight, in transitions, of the pooled row mixed into each hour's row. */
  /**
   * Time slots with their own matrix: 24 (hour of day, the default) or 168 (hour of week, for
   * links whose weekends differ from their weekdays; needs weeks of history).
   */
  readonly slots?: number;
  readonly smoothing?: number;
}

export function stateOf(utilisation: number, bounds: readonly number[]): number {
  let s = 0;
  while (s < bounds.length && utilisation >= bounds[s]!) s++;
  return s;
}

export class MarkovChain {
  readonly states: number;
  readonly congested: number;
  /** hourly[h][i * states + j]: P(next = j | now = i) during hour h. */
  readonly hourly: Float64Array[];
  readonly pooled: Float64Array;
  /** Transitions observed per hour (for diagnostics). */
  readonly transitions: Uint32Array;

  private constructor(
    states: number,
    hourly: Float64Array[],
    pooled: Float64Array,
    transitions: Uint32Array,
  ) {
    this.states = states;
    this.congested = states - 1;
    this.hourly = hourly;
    this.pooled = pooled;
    this.transitions = transitions;
  }

  /**
   * Fits from a utilisation series (fractions of capacity, NaN for missing samples) and the hour of
   * day (0..23; the slot, 0..slots - 1, when `slots` is set) of each sample. A transition is counted only between consecutive finite samples.
   */
  static fit(
    utilisation: ArrayLike<number>,
    hours: ArrayLike<number>,
    options: ChainOptions = {},
  ): MarkovChain {
    const bounds = options.bounds ?? DEFAULT_BOUNDS;
    const minTransitions = options.minTransitions ?? 10;
    const smoothing = options.smoothing ?? 5;
    const n = bounds.length + 1;
    const slots = Math.max(1, Math.floor(options.slots ?? 24));
    const counts = Array.from({ length: slots }, () => new Float64Array(n * n));
    const pooledCounts = new Float64Array(n * n);
    const transitions = new Uint32Array(slots);
    for (let t = 1; t < utilisation.length; t++) {
      const a = utilisation[t - 1]!;
      const b = utilisation[t]!;
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      const h = Math.min(slots - 1, Math.max(0, Math.floor(hours[t - 1]!)));
      const k = stateOf(a, bounds) * n + stateOf(b, bounds);
      counts[h]![k]! += 1;
      pooledCounts[k]! += 1;
      transitions[h]! += 1;
    }
    // Pooled rows: observed frequencies; a state never left stays where it is.
    const pooled = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      let rowTotal = 0;
      for (let j = 0; j < n; j++) rowTotal += pooledCounts[i * n + j]!;
      for (let j = 0; j < n; j++) {
        pooled[i * n + j] = rowTotal > 0 ? pooledCounts[i * n + j]! / rowTotal : i === j ? 1 : 0;
      }
    }
    // Hourly rows shrink towards the pooled row (smoothing counts of pooled mass), and are the
    // pooled row where the hour saw too few transitions. Smoothing towards the pooled row rather
    // than towards uniform keeps a transition never seen (calm link to congested) at zero: a
    // uniform prior would make every link certain to congest given a month of five-minute steps.
    const hourly = counts.map((c) => {
      const p = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        let rowTotal = 0;
        for (let j = 0; j < n; j++) rowTotal += c[i * n + j]!;
        for (let j = 0; j < n; j++) {
          p[i * n + j] =
            rowTotal < minTransitions
              ? pooled[i * n + j]!
              : (c[i * n + j]! + smoothing * pooled[i * n + j]!) / (rowTotal + smoothing);
        }
      }
      return p;
    });
    return new MarkovChain(n, hourly, pooled, transitions);
  }

  /**
   * The state distribution after each of `steps` steps from `state`, and the probability of having
   * been congested at least once by then (congested made absorbing). `hourAt(k)` is the hour of
   * day of step k (0 is now).
   */
  probCongestedWithin(state: number, steps: number, hourAt: (k: number) => number): number {
    const n = this.states;
    let dist = new Float64Array(n);
    dist[state] = 1;
    if (state === this.congested) return 1;
    let next = new Float64Array(n);
    for (let k = 0; k < steps; k++) {
      const p = this.hourly[Math.min(this.hourly.length - 1, Math.max(0, Math.floor(hourAt(k))))]!;
      next.fill(0);
      for (let i = 0; i < n; i++) {
        const mass = dist[i]!;
        if (mass === 0) continue;
        if (i === this.congested) {
          next[i]! += mass;
          continue;
        }
        for (let j = 0; j < n; j++) next[j]! += mass * p[i * n + j]!;
      }
      [dist, next] = [next, dist];
    }
    return Math.min(1, Math.max(0, dist[this.congested]!));
  }

  /** The distribution over states `steps` steps ahead (no absorption). */
  distribution(state: number, steps: number, hourAt: (k: number) => number): Float64Array {
    const n = this.states;
    let dist = new Float64Array(n);
    dist[state] = 1;
    let next = new Float64Array(n);
    for (let k = 0; k < steps; k++) {
      const p = this.hourly[Math.min(this.hourly.length - 1, Math.max(0, Math.floor(hourAt(k))))]!;
      next.fill(0);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) next[j]! += dist[i]! * p[i * n + j]!;
      [dist, next] = [next, dist];
    }
    return dist;
  }
}
