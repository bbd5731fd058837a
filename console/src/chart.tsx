/**
 * A time chart (uPlot, canvas): lines, optional bands between two lines (a forecast's interval),
 * dashed reference lines (capacity), or points (anomalies). The chart is rebuilt when its data,
 * size, theme or time zone changes; the uPlot instance hangs on its element as `uplot` so the
 * browser tests can read what was drawn.
 */
import type { RefObject } from 'preact';
import { useEffect, useReducer, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartLine {
  readonly label: string;
  /** One value per time; null where there is no data. */
  readonly values: readonly (number | null)[];
  readonly color: string;
  readonly dash?: number[];
  readonly width?: number;
  /** Drawn as separate points (events), not a line. */
  readonly points?: boolean;
  /** Left out of the legend (the lower and upper edge of a band). */
  readonly quiet?: boolean;
  /** Joins its points across times where it has none (a forecast at coarser steps than the data). */
  readonly spanGaps?: boolean;
}

export interface ChartProps {
  /** Names the chart for tests and screenshots (`data-chart`). */
  readonly name: string;
  /** Unix seconds, ascending. */
  readonly times: readonly number[];
  readonly lines: readonly ChartLine[];
  /** Pairs of indexes into `lines` (upper, lower) filled between. */
  readonly bands?: readonly { upper: number; lower: number; fill: string }[];
  readonly format: (value: number) => string;
  readonly utc: boolean;
  readonly height?: number;
  /** Fixed x range (Unix seconds). */
  readonly xRange?: readonly [number, number];
  /** The y axis starts at zero (rates, counts). */
  readonly fromZero?: boolean;
}

/**
 * Indexes of values in runs of at most two between missing ones: a line through one or two
 * samples is a pixel or two wide, so those are drawn as dots as well.
 */
function isolated(values: ArrayLike<number | null | undefined>): number[] {
  const out: number[] = [];
  let start = -1;
  for (let i = 0; i <= values.length; i++) {
    const present = i < values.length && values[i] !== null && values[i] !== undefined;
    if (present && start < 0) start = i;
    if (!present && start >= 0) {
      if (i - start <= 2) for (let j = start; j < i; j++) out.push(j);
      start = -1;
    }
  }
  return out;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v === '' ? fallback : v;
}

/** Bumps when the system switches between light and dark, so charts pick up the new colours. */
function useThemeVersion(): number {
  const [version, bump] = useReducer((x: number) => x + 1, 0);
  useEffect(() => {
    const media = matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => bump(undefined);
    media.addEventListener('change', onChange);
    return () => media.removeEventListener('change', onChange);
  }, []);
  return version;
}

export function TimeChart(props: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const theme = useThemeVersion();
  const width = useWidth(host);
  // Rebuilt only when what it shows changes, not on every render of the page around it (a refresh
  // renders several times as its answers arrive): the signature of its data and settings.
  const signature = JSON.stringify([
    props.times,
    props.lines.map((l) => [l.label, l.color, l.values]),
    props.bands,
    props.xRange,
    props.utc,
    props.height,
  ]);
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const props = latest.current;
    const el = host.current;
    if (el === null || width === 0) return;
    const fg = cssVar('--muted', '#666');
    // Sizes follow the page's root font size, which grows with the window (a wall screen).
    const scale = Math.max(1, Number.parseFloat(getComputedStyle(document.documentElement).fontSize) / 16);
    const grid = cssVar('--grid', 'rgba(128,128,128,0.2)');
    const zone = props.utc ? (ts: number) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC') : undefined;
    const axis = (values?: uPlot.Axis['values']): uPlot.Axis => ({
      stroke: fg,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      font: `${Math.round(12 * scale)}px system-ui, sans-serif`,
      ...(values !== undefined && { values }),
    });
    const opts: uPlot.Options = {
      width,
      height: Math.round((props.height ?? 260) * scale),
      ...(zone !== undefined && { tzDate: zone }),
      scales: {
        x: { time: true, ...(props.xRange !== undefined && { range: [props.xRange[0], props.xRange[1]] }) },
        y: {
          range: (_u, min, max) => {
            const top = max > 0 ? max * 1.08 : 1;
            return [props.fromZero === false ? min : Math.min(0, min), top];
          },
        },
      },
      axes: [
        axis(),
        { ...axis((_u, splits) => splits.map((v) => props.format(v))), size: Math.round(80 * scale) },
      ],
      legend: { show: true, live: true },
      cursor: { points: { size: 6 } },
      series: [
        { value: (_u, v) => (v === null ? '–' : new Date(v * 1000).toISOString()) },
        ...props.lines.map(
          (line): uPlot.Series => ({
            label: line.label,
            stroke: line.color,
            width: (line.width ?? 2) * scale,
            spanGaps: line.spanGaps === true,
            ...(line.dash !== undefined && { dash: line.dash }),
            value: (_u, v) => (v === null ? '–' : props.format(v)),
            ...(line.points === true && {
              paths: () => null,
              points: { show: true, size: 9, fill: line.color, stroke: line.color },
            }),
            // A sample with no neighbour (an exporter's first interval, a burst after a silence)
            // makes no line, or a tiny one: such samples are drawn as dots too.
            ...(line.points !== true &&
              line.spanGaps !== true && {
                points: {
                  show: true,
                  size: 5 * scale,
                  fill: line.color,
                  stroke: line.color,
                  filter: (u: uPlot, seriesIdx: number) => isolated(u.data[seriesIdx] ?? []),
                },
              }),
            ...(line.points !== true && line.spanGaps === true && { points: { show: false } }),
          }),
        ),
      ],
      ...(props.bands !== undefined && {
        bands: props.bands.map((b) => ({ series: [b.upper + 1, b.lower + 1], fill: b.fill })),
      }),
    };
    const data: uPlot.AlignedData = [
      Float64Array.from(props.times),
      ...props.lines.map((l) => l.values.map((v) => v) as (number | null)[]),
    ];
    const chart = new uPlot(opts, data, el);
    (el as HTMLDivElement & { uplot?: uPlot }).uplot = chart;
    // The series legend is wider than useful for a band's edges: hide those entries.
    props.lines.forEach((line, i) => {
      if (line.quiet !== true) return;
      const row = el.querySelectorAll('.u-legend .u-series')[i + 1] as HTMLElement | undefined;
      if (row !== undefined) row.style.display = 'none';
    });
    return () => {
      chart.destroy();
      delete (el as HTMLDivElement & { uplot?: uPlot }).uplot;
    };
  }, [signature, width, theme]);

  const points = props.lines.reduce(
    (n, l) => n + (l.quiet === true || l.dash !== undefined ? 0 : l.values.filter((v) => v !== null).length),
    0,
  );
  return (
    <div
      class="chart"
      ref={host}
      data-chart={props.name}
      data-points={points}
      data-lines={props.lines.map((l) => l.label).join(',')}
    />
  );
}

/** The element's content width, followed as the window resizes. */
function useWidth(ref: RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (el === null) return;
    const observer = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0]?.contentRect.width ?? 0);
      setWidth((old) => (Math.abs(old - w) > 2 ? w : old));
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}
