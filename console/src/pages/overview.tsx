/** Overview: traffic per exporter and interface, the protocol and service mix, top talkers. */
import { type Exporters, type Interfaces, type Protocols, query, type Top } from '../api.js';
import * as fmt from '../format.js';
import { href, type Range, type Route, resolveRange, useApi, useShared } from '../state.js';
import { Card, Empty, Show } from '../ui.js';
import { InterfaceChart } from './interface-chart.js';

export function NoExporterYet(props: { onCollector?: boolean }) {
  return (
    <Empty>
      <strong>No exporter yet.</strong> Point a router's NetFlow v5/v9 export at UDP port 2055 of this host,
      or its IPFIX export at UDP 4739. Its traffic shows on the Overview one rollup interval (60 s by default)
      after the first datagram, and {props.onCollector === true ? 'this page' : 'the Collector page'} shows
      what arrives and what could not be decoded.
    </Empty>
  );
}

export function Overview(props: { route: Route }) {
  const { now } = useShared();
  const p = props.route.params;
  const exporter = p.get('exporter') ?? undefined;
  const ifIndex = exporter === undefined ? undefined : (p.get('ifIndex') ?? undefined);
  const range = resolveRange(p, '1h', now);
  const exporters = useApi<Exporters>('/api/v1/exporters');

  const select = (changes: Record<string, string | undefined>) => {
    const next: Record<string, string | undefined> = Object.fromEntries(p.entries());
    Object.assign(next, changes);
    location.hash = href('overview', next);
  };

  return (
    <Show loaded={exporters}>
      {(list) =>
        list.exporters.length === 0 ? (
          <NoExporterYet />
        ) : (
          <div class="grid">
            <Card
              wide
              title="Traffic"
              aside={
                <div class="pickers">
                  <label>
                    exporter{' '}
                    <select
                      name="exporter"
                      value={exporter ?? ''}
                      onChange={(e) =>
                        select({ exporter: e.currentTarget.value || undefined, ifIndex: undefined })
                      }
                    >
                      <option value="">all exporters</option>
                      {list.exporters.map((x) => (
                        <option value={x.address} key={x.address}>
                          {x.address}
                        </option>
                      ))}
                    </select>
                  </label>
                  <InterfacePicker
                    exporter={exporter}
                    ifIndex={ifIndex}
                    range={range}
                    onPick={(i) => select({ ifIndex: i })}
                  />
                </div>
              }
            >
              <p class="subtitle">
                {exporter === undefined ? 'All exporters' : exporter}
                {ifIndex !== undefined && `, interface ${ifIndex}`} · bits per second, {describe(range)}
              </p>
              <InterfaceChart
                key={`${exporter}/${ifIndex}`}
                name="traffic"
                exporter={exporter}
                ifIndex={ifIndex}
                range={range}
                height={300}
              />
            </Card>
            <InterfaceTable
              key={exporter}
              exporter={exporter}
              range={range}
              onPick={(e, i) => select({ exporter: e, ifIndex: i })}
            />
            <div class="row">
              <ProtocolMix key={exporter} exporter={exporter} range={range} />
              <Talkers key={`src/${exporter}`} side="src" exporter={exporter} range={range} />
              <Talkers key={`dst/${exporter}`} side="dst" exporter={exporter} range={range} />
            </div>
          </div>
        )
      }
    </Show>
  );
}

export function describe(range: Range): string {
  const minutes = Math.round((range.to - range.from) / 60_000);
  const span =
    minutes < 120
      ? `${minutes} min`
      : minutes < 2880
        ? `${Math.round(minutes / 60)} h`
        : `${Math.round(minutes / 1440)} days`;
  return range.live ? `last ${span}` : span;
}

function InterfacePicker(props: {
  exporter: string | undefined;
  ifIndex: string | undefined;
  range: Range;
  onPick: (ifIndex: string | undefined) => void;
}) {
  const list = useApi<Interfaces>(
    props.exporter === undefined
      ? null
      : `/api/v1/interfaces${query({ exporter: props.exporter, ...props.range.query })}`,
  );
  return (
    <label>
      interface{' '}
      <select
        name="ifIndex"
        disabled={props.exporter === undefined}
        value={props.ifIndex ?? ''}
        onChange={(e) => props.onPick(e.currentTarget.value || undefined)}
      >
        <option value="">all interfaces</option>
        {(list.data?.interfaces ?? []).map((i) => (
          <option value={String(i.ifIndex)} key={i.ifIndex}>
            {fmt.ifLabel(i.ifName, i.ifIndex)}
          </option>
        ))}
      </select>
    </label>
  );
}

function InterfaceTable(props: {
  exporter: string | undefined;
  range: Range;
  onPick: (exporter: string, ifIndex: string) => void;
}) {
  const loaded = useApi<Interfaces>(
    `/api/v1/interfaces${query({ exporter: props.exporter, sort: 'bps', limit: 50, ...props.range.query })}`,
  );
  return (
    <Card title="Interfaces" wide>
      <Show loaded={loaded}>
        {(data) =>
          data.interfaces.length === 0 ? (
            <Empty>No interface carried traffic in this range.</Empty>
          ) : (
            <table data-table="interfaces">
              <thead>
                <tr>
                  <th>exporter</th>
                  <th>interface</th>
                  <th class="num">in</th>
                  <th class="num">out</th>
                  <th class="num">capacity</th>
                  <th class="num">utilisation</th>
                </tr>
              </thead>
              <tbody>
                {data.interfaces.map((i) => (
                  <tr
                    key={`${i.exporter}/${i.ifIndex}`}
                    class="clickable"
                    onClick={() => props.onPick(i.exporter, String(i.ifIndex))}
                  >
                    <td>{i.exporter}</td>
                    <td>{fmt.ifLabel(i.ifName, i.ifIndex)}</td>
                    <td class="num">{fmt.bps(i.inBps)}</td>
                    <td class="num">{fmt.bps(i.outBps)}</td>
                    <td class="num">
                      {i.capacityBps === null ? <span class="muted">unknown</span> : fmt.bps(i.capacityBps)}
                    </td>
                    <td class="num">{fmt.percent(i.utilisation)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
    </Card>
  );
}

function ProtocolMix(props: { exporter: string | undefined; range: Range }) {
  const loaded = useApi<Protocols>(
    `/api/v1/protocols${query({ exporter: props.exporter, ...props.range.query })}`,
  );
  const seconds = Math.max(1, (props.range.to - props.range.from) / 1000);
  return (
    <Card title="Protocols and services">
      <Show loaded={loaded}>
        {(data) => {
          if (data.protocols.length === 0) return <Empty>No traffic in this range.</Empty>;
          const rows = [...data.protocols].sort((a, b) => b.bytes - a.bytes).slice(0, 12);
          return (
            <ul class="bars" data-list="protocols">
              {rows.map((r) => (
                <li key={`${r.protocol}/${r.service}`}>
                  <span class="bar-label">
                    {r.protocol}
                    {r.service !== 'other' && r.service !== '' && <span class="muted">/{r.service}</span>}
                  </span>
                  <span class="bar-track">
                    <span class="bar" style={{ width: `${Math.max(0.5, r.share * 100).toFixed(1)}%` }} />
                  </span>
                  <span class="num">{fmt.percent(r.share)}</span>
                  <span class="num muted">{fmt.bps((r.bytes * 8) / seconds)}</span>
                </li>
              ))}
            </ul>
          );
        }}
      </Show>
    </Card>
  );
}

function Talkers(props: { side: 'src' | 'dst'; exporter: string | undefined; range: Range }) {
  const loaded = useApi<Top>(
    `/api/v1/top${query({ side: props.side, exporter: props.exporter, limit: 10, ...props.range.query })}`,
  );
  return (
    <Card title={props.side === 'src' ? 'Top sources' : 'Top destinations'}>
      <Show loaded={loaded}>
        {(data) =>
          data.talkers.length === 0 ? (
            <Empty>No traffic in this range.</Empty>
          ) : (
            <table data-table={`top-${props.side}`}>
              <thead>
                <tr>
                  <th>#</th>
                  <th>address</th>
                  <th class="num">bytes</th>
                  <th class="num">mean rate</th>
                </tr>
              </thead>
              <tbody>
                {data.talkers.map((t) => (
                  <tr key={t.addr}>
                    <td class="muted">{t.rank}</td>
                    <td class="mono">{t.addr}</td>
                    <td class="num">{fmt.bytes(t.bytes)}</td>
                    <td class="num">{fmt.bps(t.bps)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
    </Card>
  );
}
