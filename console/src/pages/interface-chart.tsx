/**
 * Traffic of one interface (or exporter, or everything) in and out, in bits per second, with the
 * forecast and its bands where the analytics jobs wrote one (the 95 % band lighter, the 80 % band
 * inside it darker), and the capacity and the planning threshold as dashed lines when known. Used by
 * Overview and by the capacity table's rows.
 */
import { type Forecasts, query, type Series, type Traffic } from '../api.js';
import { type ChartLine, TimeChart } from '../chart.js';
import * as fmt from '../format.js';
import { type Range, useApi, useShared } from '../state.js';
import { Empty, Show } from '../ui.js';

export const COLORS = {
  in: '#2f9e44',
  out: '#1c7ed6',
  forecast: '#e8590c',
  band: 'rgba(232, 89, 12, 0.16)',
  band80: 'rgba(232, 89, 12, 0.22)',
  capacity: '#e03131',
  threshold: '#f08c00',
};

export interface InterfaceChartProps {
  readonly name: string;
  readonly exporter?: string | undefined;
  readonly ifIndex?: string | undefined;
  /** Only this direction (capacity rows); both when unset. */
  readonly direction?: 'in' | 'out' | undefined;
  readonly range: Range;
  readonly capacityBps?: number | null | undefined;
  /** The planning threshold (capacity × `analytics.threshold`), drawn when known. */
  readonly thresholdBps?: number | null | undefined;
  readonly height?: number;
}

function trafficPath(p: InterfaceChartProps, direction: 'in' | 'out'): string {
  return `/api/v1/traffic${query({ exporter: p.exporter, ifIndex: p.ifIndex, direction, ...p.range.query })}`;
}

/** The forecast shown past the end of a live range: a quarter of its length, at least 15 minutes. */
function forecastEnd(range: Range): number {
  return range.to + Math.max(900_000, (range.to - range.from) / 4);
}

export function InterfaceChart(props: InterfaceChartProps) {
  const { utc } = useShared();
  const wantIn = props.direction !== 'out';
  const wantOut = props.direction !== 'in';
  const inbound = useApi<Traffic>(wantIn ? trafficPath(props, 'in') : null);
  const outbound = useApi<Traffic>(wantOut ? trafficPath(props, 'out') : null);
  const series = useApi<Series>(
    props.exporter !== undefined && props.ifIndex !== undefined ? '/api/v1/series' : null,
  );
  const forecastDirection = wantIn ? 'in' : 'out';
  const key = `traffic/${props.exporter}/${props.ifIndex}/${forecastDirection}`;
  const hasForecast = series.data?.series.some((s) => s.series === key) === true;
  const end = props.range.live ? forecastEnd(props.range) : props.range.to;
  const forecast = useApi<Forecasts>(
    hasForecast
      ? `/api/v1/forecasts${query({ series: key, from: props.range.query.from, to: new Date(end).toISOString() })}`
      : null,
  );

  const loaded = wantIn ? inbound : outbound;
  return (
    <Show loaded={loaded}>
      {() => {
        const ins = inbound.data?.samples ?? [];
        const outs = outbound.data?.samples ?? [];
        const fc = forecast.data?.forecast ?? [];
        if (ins.length === 0 && outs.length === 0 && fc.length === 0) {
          return (
            <Empty>
              No traffic in this range. Flows show up here one rollup interval (60 s by default) after they
              arrive; pick a longer range or check the Collector page for what the exporters send.
            </Empty>
          );
        }
        const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
        const first = Math.floor(props.range.from / 1000);
        const last = Math.ceil((fc.length > 0 ? end : props.range.to) / 1000);
        const capacity = props.capacityBps ?? null;
        const threshold = props.thresholdBps ?? null;
        // With a capacity or threshold line the range's ends are times too, so that it spans the chart.
        const ends = capacity === null && threshold === null ? [] : [first, last];
        const times = [...new Set([...[...ins, ...outs, ...fc].map((s) => seconds(s.time)), ...ends])].sort(
          (a, b) => a - b,
        );
        const at = (rows: readonly { time: string }[], pick: (i: number) => number | null) => {
          const m = new Map(rows.map((r, i) => [seconds(r.time), pick(i)]));
          return times.map((t) => m.get(t) ?? null);
        };
        const lines: ChartLine[] = [];
        if (wantIn) lines.push({ label: 'in', values: at(ins, (i) => ins[i]!.bps), color: COLORS.in });
        if (wantOut) lines.push({ label: 'out', values: at(outs, (i) => outs[i]!.bps), color: COLORS.out });
        const bands = [];
        if (fc.length > 0) {
          // Forecast points are further apart than the samples: their line and band join across.
          const edge = { color: 'transparent', width: 0, quiet: true, spanGaps: true };
          const base = lines.length;
          lines.push(
            {
              label: `forecast ${forecastDirection}`,
              values: at(fc, (i) => fc[i]!.yhat),
              color: COLORS.forecast,
              dash: [6, 4],
              spanGaps: true,
            },
            { label: 'upper', values: at(fc, (i) => fc[i]!.upper), ...edge },
            { label: 'lower', values: at(fc, (i) => fc[i]!.lower), ...edge },
          );
          bands.push({ upper: base + 1, lower: base + 2, fill: COLORS.band });
          // The 80 % band, inside the 95 % one; points stored before it existed have none.
          if (fc.some((p) => p.upper80 !== null && p.lower80 !== null)) {
            lines.push(
              { label: 'upper80', values: at(fc, (i) => fc[i]!.upper80), ...edge },
              { label: 'lower80', values: at(fc, (i) => fc[i]!.lower80), ...edge },
            );
            bands.push({ upper: base + 3, lower: base + 4, fill: COLORS.band80 });
          }
        }
        if (capacity !== null) {
          lines.push({
            label: 'capacity',
            values: times.map(() => capacity),
            color: COLORS.capacity,
            dash: [2, 4],
            width: 1.5,
          });
        }
        if (threshold !== null) {
          lines.push({
            label: 'threshold',
            values: times.map(() => threshold),
            color: COLORS.threshold,
            dash: [8, 4],
            width: 1.5,
          });
        }
        return (
          <TimeChart
            name={props.name}
            times={times}
            lines={lines}
            bands={bands}
            format={fmt.bps}
            utc={utc}
            xRange={[first, last]}
            {...(props.height !== undefined && { height: props.height })}
          />
        );
      }}
    </Show>
  );
}
