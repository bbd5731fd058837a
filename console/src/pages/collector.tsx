/** Collector: exporters and what they send, the store and its spool, the analytics jobs. */
import type { ExporterDetail, Exporters, Health, Jobs } from '../api.js';
import * as fmt from '../format.js';
import { useApi, useShared } from '../state.js';
import { Card, Empty, Show } from '../ui.js';
import { NoExporterYet } from './overview.js';

export function Collector() {
  const health = useApi<Health>('/api/v1/health');
  const exporters = useApi<Exporters>('/api/v1/exporters?limit=200');
  const jobs = useApi<Jobs>('/api/v1/jobs');
  const { utc } = useShared();
  return (
    <div class="grid">
      <div class="row">
        <Card
          title="Store"
          aside={health.data && <span class={`status ${health.data.status}`}>{health.data.status}</span>}
        >
          <Show loaded={health}>
            {(h) => (
              <dl class="facts" data-facts="store">
                <dt>kind</dt>
                <dd>{String(h.collector?.['store'] ?? '–')}</dd>
                <dt>reachable</dt>
                <dd>{h.store.reachable ? 'yes' : `no${h.store.error ? `: ${h.store.error}` : ''}`}</dd>
                <dt>points written</dt>
                <dd>{fmt.count(h.store.pointsWritten)}</dd>
                <dt>write errors</dt>
                <dd>{fmt.count(h.store.writeErrors)}</dd>
                <dt>spooled, waiting</dt>
                <dd>{fmt.count(h.store.spoolPoints)} points</dd>
                <dt>dropped from spool</dt>
                <dd>{fmt.count(h.store.spoolDropped)}</dd>
                <dt>rejected as malformed</dt>
                <dd>{fmt.count(h.store.rejected)}</dd>
                <dt>receive queue</dt>
                <dd>{fmt.count(Number(h.collector?.['queue'] ?? 0))} datagrams</dd>
              </dl>
            )}
          </Show>
        </Card>
        <Card title="Jobs">
          <Show loaded={jobs}>
            {(j) =>
              j.jobs.length === 0 ? (
                <Empty>
                  No analytics job runs in this process. Forecast, capacity and anomaly jobs write their
                  results to the store on a schedule; when they run elsewhere their results still show on the
                  Capacity and Anomalies pages.
                </Empty>
              ) : (
                <table data-table="jobs">
                  <thead>
                    <tr>
                      <th>job</th>
                      <th>schedule</th>
                      <th>last run</th>
                      <th>result</th>
                      <th class="num">took</th>
                      <th>next</th>
                    </tr>
                  </thead>
                  <tbody>
                    {j.jobs.map((job) => (
                      <tr key={job.name}>
                        <td>{job.name}</td>
                        <td class="mono nowrap">{job.enabled ? job.schedule : 'disabled'}</td>
                        <td class="nowrap">{job.running ? 'running now' : fmt.time(job.lastStart, utc)}</td>
                        <td class={job.lastResult === 'error' ? 'bad' : ''} title={job.lastError ?? ''}>
                          {job.lastResult ?? '–'}
                          {job.lastError !== null && `: ${job.lastError}`}
                        </td>
                        <td class="num">
                          {job.lastDurationMs === null ? '–' : `${(job.lastDurationMs / 1000).toFixed(1)} s`}
                        </td>
                        <td class="nowrap">{fmt.time(job.nextRun, utc)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            }
          </Show>
        </Card>
      </div>
      <Card wide title="Exporters">
        <Show loaded={exporters}>
          {(list) =>
            list.exporters.length === 0 ? (
              <NoExporterYet onCollector />
            ) : (
              <table data-table="exporters">
                <thead>
                  <tr>
                    <th>exporter</th>
                    <th>versions</th>
                    <th class="num">packets</th>
                    <th class="num">records</th>
                    <th class="num">templates</th>
                    <th class="num">sampling</th>
                    <th class="num">decode errors</th>
                    <th class="num">missing templates</th>
                    <th class="num">sequence gaps</th>
                    <th class="num">dropped</th>
                    <th>last seen</th>
                  </tr>
                </thead>
                <tbody>
                  {list.exporters.map((x, i) => (
                    <ExporterRow key={x.address} exporter={x} detail={i < DETAILS} />
                  ))}
                </tbody>
              </table>
            )
          }
        </Show>
      </Card>
    </div>
  );
}

/**
 * Exporters whose details (drops per version) are fetched: one request each per refresh, so a
 * network of hundreds of exporters stays far below the API's rate limit per client.
 */
const DETAILS = 20;

function ExporterRow(props: { exporter: Exporters['exporters'][number]; detail: boolean }) {
  const x = props.exporter;
  const { utc } = useShared();
  const detail = useApi<ExporterDetail>(
    x.live && props.detail ? `/api/v1/exporters/${encodeURIComponent(x.address)}` : null,
  );
  const dropped = detail.data?.byVersion.reduce((n, v) => n + v.dropped, 0);
  const versions = x.versions.map((v) => (v === 10 ? 'IPFIX' : `v${v}`)).join(', ');
  return (
    <tr>
      <td>
        {x.address}
        {!x.live && <span class="muted"> (stored only)</span>}
      </td>
      <td>{versions || '–'}</td>
      <td class="num">{fmt.count(x.packets)}</td>
      <td class="num">{fmt.count(x.records)}</td>
      <td class="num">{fmt.count(x.templates)}</td>
      <td class="num" title={`source: ${x.samplingSource}`}>
        {x.samplingRate <= 1 ? 'none' : `1:${fmt.count(x.samplingRate)}`}
      </td>
      <td class={`num${x.decodeErrors > 0 ? ' bad' : ''}`}>{fmt.count(x.decodeErrors)}</td>
      <td class={`num${x.missingTemplates > 0 ? ' warn' : ''}`}>{fmt.count(x.missingTemplates)}</td>
      <td class={`num${x.sequenceGaps > 0 ? ' warn' : ''}`}>{fmt.count(x.sequenceGaps)}</td>
      <td class={`num${(dropped ?? 0) > 0 ? ' bad' : ''}`}>{fmt.count(dropped)}</td>
      <td title={fmt.time(x.lastSeen, utc)}>{fmt.ago(x.lastSeen)}</td>
    </tr>
  );
}
