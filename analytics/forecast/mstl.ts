/**
 * MSTL (seasonal-trend decomposition by Loess over each period) with an automatic ETS model of the
 * seasonally adjusted series, from `@bsull/augurs`, Grafana's forecasting library: Rust compiled to
 * WebAssembly, loaded from the installed package (no network). Its own intervals are ignored:
 * every model's bands come from backtest errors (engine.ts). A strictly positive series is fitted
 * on its logarithm (traffic's daily swing grows with its level: multiplicative seasonality).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  type FittedModel,
  ForecastError,
  type Forecaster,
  finiteOr,
  lastFinite,
  type SeriesShape,
} from './forecaster.js';

type MstlModule = typeof import('@bsull/augurs/mstl');
let loaded: MstlModule | undefined;

async function load(): Promise<MstlModule> {
  if (loaded !== undefined) return loaded;
  const mod = await import('@bsull/augurs/mstl');
  const entry = createRequire(import.meta.url).resolve('@bsull/augurs/mstl');
  mod.initSync({ module: readFileSync(join(dirname(entry), 'mstl_bg.wasm')) });
  loaded = mod;
  return mod;
}

/** Loads the WebAssembly module; call (and await) once before fitting. */
export async function loadMstl(): Promise<void> {
  await load();
}

export function mstlForecaster(options: { windowPeriods?: number; log?: boolean } = {}): Forecaster {
  const windowPeriods = options.windowPeriods ?? 28;
  const useLog = options.log ?? true;
  return {
    name: 'mstl_ets',
    minLength(shape: SeriesShape) {
      return 2 * Math.max(2, shape.periods[0] ?? 2);
    },
    fit(y: Float64Array, shape: SeriesShape): FittedModel {
      if (loaded === undefined) throw new ForecastError('MSTL: call loadMstl() before fitting');
      const m = Math.max(2, shape.periods[0] ?? 2);
      const window = y.subarray(Math.max(0, y.length - windowPeriods * m));
      if (window.length < 2 * m) throw new ForecastError(`MSTL needs ${2 * m} samples, got ${window.length}`);
      const periods = shape.periods.filter((p) => p >= 2 && window.length >= 2 * p);
      const model = loaded.MSTL.ets(periods.length > 0 ? periods : [m]);
      let logged = false;
      try {
        const positive = useLog && window.every((v) => v > 0);
        logged = positive;
        model.fit(positive ? window.map(Math.log) : Float64Array.from(window));
      } catch (err) {
        model.free();
        throw new ForecastError(`MSTL fit failed: ${String(err)}`, { cause: err });
      }
      const fallback = lastFinite(y);
      return {
        predict(horizon) {
          const point = Float64Array.from(model.predict(horizon).point);
          const out = logged ? point.map(Math.exp) : point;
          return finiteOr(out, fallback);
        },
        dispose() {
          model.free();
        },
      };
    },
  };
}
