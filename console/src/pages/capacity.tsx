/** Capacity: the capacity job's table, soonest to fill first; a row opens its interface's chart. */
import { useState } from 'preact/hooks';
import { type Capacity as CapacityBody, query } from '../api.js';
import * as fmt from '../format.js';
import { href, type Route, resolveRange, useApi, useShared } from '../state.js';
import { Card, Empty, Show } from '../ui.js';
import { InterfaceChart } from './interface-chart.js';
import { describe } from './overview.js';

const SORTS = {
  daysToThreshold: 'soonest to fill',
  probCongested: 'congestion probability',
  utilisation: 'p95 utilisation',
  exporter: 'exporter',
} as const;

export function Capacity(props: { route: Route }) {
  const { now } = useShared();
  const p = props.route.params;
  const sort = (p.get('sort') ?? 'daysToThreshold') as keyof typeof SORTS;
  const range = resolveRange(p, '7d', now);
  const loaded = useApi<CapacityBody>(`/api/v1/capacity${query({ sort })}`);
  const [open, setOpen] = useState<string | undefined>(p.get('open') ?? undefined);

  return (
    <Card
      wide
      title="Capacity planning"
      aside={
        <label>
          order{' '}
          <select
            name="sort"
            value={sort}
            onChange={(e) => {
              location.hash = href('capacity', {
                ...Object.fromEntries(p.entries()),
                sort: e.currentTarget.value,
              });
            }}
          >
            {Object.entries(SORTS).map(([value, label]) => (
              <option value={value} key={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
      }
    >
      <Show loaded={loaded}>
        {(data) =>
          data.capacity.length === 0 ? (
            <Empty>
              <strong>No capacity rows yet.</strong> The capacity job writes one row per interface and
              direction each time it runs (p95, trend, days until the threshold, congestion probability). The
              Collector page lists the jobs and when they last ran. Interface speeds come from the
              configuration, else from the interface name.
            </Empty>
          ) : (
            <table data-table="capacity">
              <thead>
                <tr>
                  <th>exporter</th>
                  <th>interface</th>
                  <th>dir</th>
                  <th class="num">capacity</th>
                  <th class="num">p95</th>
                  <th class="num">p95 utilisation</th>
                  <th class="num">trend / day</th>
                  <th class="num">threshold in</th>
                  <th class="num">P(congested)</th>
                </tr>
              </thead>
              <tbody>
                {data.capacity.map((r) => {
                  const key = `${r.exporter}/${r.ifIndex}/${r.direction}`;
                  const urgent = r.daysToThreshold !== null && r.daysToThreshold < 30;
                  const rows = [
                    <tr
                      key={key}
                      class={`clickable${urgent ? ' urgent' : ''}${open === key ? ' open' : ''}`}
                      data-key={key}
                      onClick={() => setOpen(open === key ? undefined : key)}
                    >
                      <td>{r.exporter}</td>
                      <td>{fmt.ifLabel(r.ifName, r.ifIndex)}</td>
                      <td>{r.direction}</td>
                      <td class="num">
                        {r.capacityBps === null ? <span class="muted">unknown</span> : fmt.bps(r.capacityBps)}
                      </td>
                      <td class="num">{fmt.bps(r.p95Bps)}</td>
                      <td class="num">{fmt.percent(r.utilisation)}</td>
                      <td class="num">
                        {r.trendBpsPerDay === null
                          ? '–'
                          : `${r.trendBpsPerDay >= 0 ? '+' : ''}${fmt.bps(r.trendBpsPerDay)}`}
                      </td>
                      <td class="num strong">{fmt.days(r.daysToThreshold)}</td>
                      <td class="num">{fmt.percent(r.probCongested)}</td>
                    </tr>,
                  ];
                  if (open === key) {
                    rows.push(
                      <tr key={`${key}/chart`} class="detail">
                        <td colSpan={9}>
                          <p class="subtitle">
                            {r.exporter} {fmt.ifLabel(r.ifName, r.ifIndex)} {r.direction}: traffic,{' '}
                            {describe(range)}
                            {r.capacityBps !== null && ', dashed red: capacity'}
                            {r.thresholdBps !== null &&
                              `, dashed orange: planning threshold (${fmt.bps(r.thresholdBps)}${r.thresholdPercent !== null ? `, ${r.thresholdPercent} % of capacity` : ''})`}
                            , forecast with its 95 % band (light) and 80 % band (dark) where one exists ·{' '}
                            <a
                              href={href('overview', {
                                exporter: r.exporter,
                                ifIndex: r.ifIndex,
                                range: p.get('range') ?? '7d',
                              })}
                            >
                              open in Overview
                            </a>
                          </p>
                          <InterfaceChart
                            name="capacity"
                            exporter={r.exporter}
                            ifIndex={r.ifIndex}
                            direction={r.direction === 'out' ? 'out' : 'in'}
                            range={range}
                            capacityBps={r.capacityBps}
                            thresholdBps={r.thresholdBps}
                            height={240}
                          />
                        </td>
                      </tr>,
                    );
                  }
                  return rows;
                })}
              </tbody>
            </table>
          )
        }
      </Show>
    </Card>
  );
}
