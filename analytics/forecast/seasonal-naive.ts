/** Seasonal naive: each forecast is the value one daily period earlier. The baseline every model must beat. */
import { type FittedModel, ForecastError, type Forecaster, type SeriesShape } from './forecaster.js';

export const seasonalNaive: Forecaster = {
  name: 'seasonal_naive',
  minLength(shape: SeriesShape) {
    return Math.max(1, shape.periods[0] ?? 1);
  },
  fit(y: Float64Array, shape: SeriesShape): FittedModel {
    const m = Math.max(1, shape.periods[0] ?? 1);
    if (y.length < m) throw new ForecastError(`seasonal naive needs ${m} samples, got ${y.length}`);
    const last = y.slice(y.length - m);
    return {
      predict(horizon) {
        const out = new Float64Array(horizon);
        for (let k = 0; k < horizon; k++) out[k] = last[k % m]!;
        return out;
      },
    };
  },
};
