/** Anomalies: a timeline and a table of detections, each linking to the traffic it concerns. */
import { type Anomalies as AnomaliesBody, type AnomalyRow, query } from '../api.js';
import { TimeChart } from '../chart.js';
import * as fmt from '../format.js';
import { href, type Route, resolveRange, useApi, useShared } from '../state.js';
import { Card, Empty, Show } from '../ui.js';
import { describe } from './overview.js';

const KIND_COLORS = ['#e8590c', '#c2255c', '#7048e8', '#1098ad', '#5c940d', '#f08c00'];

/** The Overview link for an anomaly: its interface (from its series key) around its time. */
export function trafficLink(a: AnomalyRow): string {
  const t = Date.parse(a.time);
  const around = { from: new Date(t - 3_600_000).toISOString(), to: new Date(t + 3_600_000).toISOString() };
  const parts = a.series?.split('/') ?? [];
  if (parts[0] === 'traffic' && parts.length === 4) {
    const [, exporter, ifIndex] = parts;
    return href('overview', { exporter, ifIndex: ifIndex === 'total' ? undefined : ifIndex, ...around });
  }
  return href('overview', { exporter: a.exporter ?? undefined, ...around });
}

export function Anomalies(props: { route: Route }) {
  const { now, utc } = useShared();
  const p = props.route.params;
  const range = resolveRange(p, '24h', now);
  const kind = p.get('kind') ?? undefined;
  const loaded = useApi<AnomaliesBody>(`/api/v1/anomalies${query({ kind, limit: 1000, ...range.query })}`);
  return (
    <Show loaded={loaded}>
      {(data) => {
        if (data.anomalies.length === 0) {
          return (
            <Card wide title="Anomalies">
              <Empty>
                <strong>No anomaly in this range ({describe(range)}).</strong> Detections of unusual traffic
                on a series and of attacks (scans, SYN floods, DDoS) show here as they are written. Pick a
                longer range to look further back.
              </Empty>
            </Card>
          );
        }
        const kinds = [...new Set(data.anomalies.map((a) => a.kind))].sort();
        const sorted = [...data.anomalies].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
        const times = [...new Set(sorted.map((a) => Math.floor(Date.parse(a.time) / 1000)))];
        const lines = kinds.map((k, i) => {
          const byTime = new Map<number, number>();
          for (const a of sorted) {
            if (a.kind !== k) continue;
            const t = Math.floor(Date.parse(a.time) / 1000);
            byTime.set(t, Math.max(byTime.get(t) ?? 0, a.score ?? 1));
          }
          return {
            label: k,
            values: times.map((t) => byTime.get(t) ?? null),
            color: KIND_COLORS[i % KIND_COLORS.length]!,
            points: true,
          };
        });
        return (
          <div class="grid">
            <Card
              wide
              title="Timeline"
              aside={<span class="muted">score of each detection, {describe(range)}</span>}
            >
              <TimeChart
                name="anomalies"
                times={times}
                lines={lines}
                format={(v) => String(Number(v.toFixed(2)))}
                utc={utc}
                height={200}
                xRange={[Math.floor(range.from / 1000), Math.ceil(range.to / 1000)]}
              />
            </Card>
            <Card wide title={`Detections (${data.anomalies.length})`}>
              <table data-table="anomalies">
                <thead>
                  <tr>
                    <th>time</th>
                    <th>kind</th>
                    <th>state</th>
                    <th>exporter</th>
                    <th>concerns</th>
                    <th class="num">score</th>
                    <th class="num">value</th>
                    <th class="num">expected</th>
                    <th>message</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {data.anomalies.map((a, i) => {
                    const rate = a.kind === 'series';
                    return (
                      <tr key={`${a.time}/${a.kind}/${i}`}>
                        <td class="nowrap">{fmt.time(a.time, utc)}</td>
                        <td>
                          <span class="tag">{a.kind}</span>
                        </td>
                        <td>{a.state ?? '–'}</td>
                        <td>{a.exporter ?? '–'}</td>
                        <td class="mono">{a.series ?? a.subject ?? '–'}</td>
                        <td class="num">{a.score === null ? '–' : a.score.toFixed(2)}</td>
                        <td class="num">{rate ? fmt.bps(a.value) : fmt.count(a.value)}</td>
                        <td class="num">{rate ? fmt.bps(a.expected) : fmt.count(a.expected)}</td>
                        <td>{a.message ?? ''}</td>
                        <td>
                          <a href={trafficLink(a)}>traffic →</a>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </Card>
          </div>
        );
      }}
    </Show>
  );
}
