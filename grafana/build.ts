/**
 * The provisioned Grafana dashboards, as code: `npx tsx grafana/build.ts` writes
 * grafana/dashboards/*.json from the definitions below, and test/dashboards.test.ts fails when a
 * committed file differs from what this builds, validates every file against Grafana's dashboard
 * schema and runs every query against a real InfluxDB.
 *
 * Rates do not depend on Grafana's bucket (`$__interval`): each rate query first sums a field per
 * rollup interval (`$rollup` seconds, a hidden constant variable matching `storage.rollupInterval`)
 * and divides by it, with intervals that saw no traffic filled with 0, then averages those
 * per-interval rates over the bucket. A bucket shorter than the rollup interval shows the rate of
 * the interval it falls in (not several times too much, as `sum / $__interval` would); a longer one
 * shows the true average over the bucket. The inner query stops two rollup intervals before now:
 * flowcast writes an interval one interval after it ends, so later ones would read as zero. The
 * datasource's `timeInterval` and each panel's `interval` keep `$__interval` at one minute or more,
 * which only spares the database work.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Grafana's dashboard schema version for the pinned Grafana (11.3, `@grafana/schema` 11.3.0). */
export const SCHEMA_VERSION = 39;

const INFLUX = { type: 'influxdb', uid: 'flowcast-influxql' } as const;
const PROMETHEUS = { type: 'prometheus', uid: 'flowcast-prometheus' } as const;

type Json = Record<string, unknown>;

/** The rollup-independent rate of `field` (times `multiplier`) per second, grouped by `tags`. */
export function rateQuery(
  measurement: string,
  field: string,
  multiplier: number,
  where: string,
  tags: readonly string[],
): string {
  const by = tags.map((t) => `, "${t}"`).join('');
  // A float factor: InfluxDB 1.x divides integers as integers (30 flows / 60 s would be 0).
  const scale = ` * ${multiplier.toFixed(1)}`;
  const filter = where === '' ? '' : `${where} AND `;
  return (
    `SELECT mean("rate") FROM (SELECT sum("${field}")${scale} / $rollup AS "rate" FROM "${measurement}" ` +
    `WHERE ${filter}$timeFilter AND time < now() - \${rollup}s - \${rollup}s GROUP BY time(\${rollup}s)${by} fill(0)) ` +
    `WHERE $timeFilter GROUP BY time($__interval)${by} fill(none)`
  );
}

function influxTarget(query: string, extra: Json = {}, refId = 'A'): Json {
  return { refId, datasource: INFLUX, rawQuery: true, resultFormat: 'time_series', query, ...extra };
}

function tableTarget(query: string, refId = 'A'): Json {
  return influxTarget(query, { resultFormat: 'table' }, refId);
}

function promTarget(expr: string, legendFormat: string, refId = 'A'): Json {
  return { refId, datasource: PROMETHEUS, expr, legendFormat, range: true };
}

interface PanelInit {
  title: string;
  description: string;
  targets: Json[];
  w?: number;
  h?: number;
  unit?: string;
  datasource?: Json;
  extra?: Json;
  fieldConfig?: Json;
  options?: Json;
}

/** Lays panels out left to right, 24 columns wide, and numbers them. */
class Layout {
  private x = 0;
  private y = 0;
  private rowHeight = 0;
  private id = 0;
  readonly panels: Json[] = [];

  add(type: string, p: PanelInit): void {
    const w = p.w ?? 12;
    const h = p.h ?? 9;
    if (this.x + w > 24) {
      this.x = 0;
      this.y += this.rowHeight;
      this.rowHeight = 0;
    }
    this.id += 1;
    this.panels.push({
      id: this.id,
      type,
      title: p.title,
      description: p.description,
      datasource: p.datasource ?? INFLUX,
      gridPos: { x: this.x, y: this.y, w, h },
      ...(type === 'timeseries' || type === 'barchart' ? { interval: '1m' } : {}),
      fieldConfig: p.fieldConfig ?? { defaults: { unit: p.unit ?? 'short' }, overrides: [] },
      options: p.options ?? {},
      targets: p.targets,
      ...p.extra,
    });
    this.x += w;
    this.rowHeight = Math.max(this.rowHeight, h);
  }

  timeseries(p: PanelInit): void {
    this.add('timeseries', {
      ...p,
      fieldConfig: p.fieldConfig ?? {
        defaults: { unit: p.unit ?? 'short', custom: { fillOpacity: 10 } },
        overrides: [],
      },
      options: p.options ?? {
        legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max'], showLegend: true },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    });
  }
}

const rollupVariable: Json = {
  name: 'rollup',
  label: 'Rollup interval (s)',
  type: 'constant',
  hide: 2,
  query: '60',
  description: 'Seconds per rollup point: set it to flowcast storage.rollupInterval when that is not 60.',
};

function queryVariable(name: string, label: string, query: string, description: string): Json {
  return {
    name,
    label,
    type: 'query',
    datasource: INFLUX,
    query,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    sort: 1,
    description,
    current: { selected: true, text: ['All'], value: ['$__all'] },
  };
}

const exporterVariable = (measurement = 'traffic'): Json =>
  queryVariable(
    'exporter',
    'Exporter',
    `SHOW TAG VALUES FROM "${measurement}" WITH KEY = "exporter"`,
    'Flow exporters (routers, switches, firewalls) by source address.',
  );

const anomalyAnnotation: Json = {
  name: 'Anomalies and attacks',
  datasource: INFLUX,
  enable: true,
  iconColor: 'red',
  target: {
    refId: 'Anomalies',
    query:
      'SELECT "message", "kind", "exporter", "subject" FROM "anomaly" WHERE "exporter" =~ /^$exporter$/ AND "state" = \'start\' AND $timeFilter',
    rawQuery: true,
    fromAnnotations: true,
    textColumn: 'message',
    tagsColumn: 'kind,exporter,subject',
  },
};

function dashboard(init: {
  uid: string;
  title: string;
  description: string;
  variables: Json[];
  panels: Json[];
  time?: { from: string; to: string };
  annotations?: Json[];
  links?: Json[];
}): Json {
  return {
    uid: init.uid,
    title: init.title,
    description: init.description,
    tags: ['flowcast'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    refresh: '1m',
    time: init.time ?? { from: 'now-6h', to: 'now' },
    links: [
      {
        title: 'flowcast dashboards',
        type: 'dashboards',
        tags: ['flowcast'],
        asDropdown: true,
        includeVars: false,
        keepTime: true,
        icon: 'external link',
        targetBlank: false,
        tooltip: '',
        url: '',
      },
      ...(init.links ?? []),
    ],
    annotations: {
      list: [
        {
          builtIn: 1,
          name: 'Annotations & Alerts',
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          type: 'dashboard',
        },
        ...(init.annotations ?? []),
      ],
    },
    templating: { list: init.variables },
    panels: init.panels,
  };
}

const EXPORTER = '"exporter" =~ /^$exporter$/';

function networkOverview(): Json {
  const l = new Layout();
  const IFACE = `${EXPORTER} AND "ifName" =~ /^$interface$/`;
  for (const direction of ['in', 'out'] as const) {
    l.timeseries({
      title: direction === 'in' ? 'Inbound traffic by interface' : 'Outbound traffic by interface',
      description: `Bits per second ${direction === 'in' ? 'received on' : 'sent out of'} each interface, from the flows the exporter reports (upscaled by its sampling rate), averaged over each point of the graph. Red marks: anomalies and attacks.`,
      unit: 'bps',
      targets: [
        influxTarget(
          rateQuery('traffic', 'bytes', 8, `${IFACE} AND "direction" = '${direction}'`, [
            'exporter',
            'ifName',
          ]),
          {
            alias: '$tag_exporter $tag_ifName',
          },
        ),
      ],
    });
  }
  l.timeseries({
    title: 'Traffic per exporter',
    description: 'Bits per second in and out summed over the selected interfaces of each exporter.',
    unit: 'bps',
    targets: [
      influxTarget(rateQuery('traffic', 'bytes', 8, IFACE, ['exporter', 'direction']), {
        alias: '$tag_exporter $tag_direction',
      }),
    ],
  });
  l.timeseries({
    title: 'Packets per second by interface',
    description:
      'Packets per second received on each selected interface: small-packet floods show here before they show in bits per second.',
    unit: 'pps',
    targets: [
      influxTarget(
        rateQuery('traffic', 'packets', 1, `${IFACE} AND "direction" = 'in'`, ['exporter', 'ifName']),
        {
          alias: '$tag_exporter $tag_ifName',
        },
      ),
    ],
  });
  l.timeseries({
    title: 'Traffic by protocol and service',
    description:
      'Bits per second per IP protocol and well-known service (by port), over the selected exporters.',
    unit: 'bps',
    targets: [
      influxTarget(rateQuery('traffic_protocol', 'bytes', 8, EXPORTER, ['protocol', 'service']), {
        alias: '$tag_protocol/$tag_service',
      }),
    ],
  });
  l.timeseries({
    title: 'Flows per second by protocol',
    description:
      'New flow records per second per IP protocol. A jump without a jump in bits per second often means a scan.',
    unit: 'short',
    targets: [
      influxTarget(rateQuery('traffic_protocol', 'flows', 1, EXPORTER, ['protocol']), {
        alias: '$tag_protocol',
      }),
    ],
  });
  l.add('piechart', {
    title: 'Service mix (bytes over the time range)',
    description: 'Share of bytes per service over the whole time range selected.',
    w: 8,
    unit: 'decbytes',
    targets: [
      influxTarget(
        `SELECT sum("bytes") FROM "traffic_protocol" WHERE ${EXPORTER} AND $timeFilter GROUP BY "service"`,
        { alias: '$tag_service' },
      ),
    ],
    options: {
      reduceOptions: { calcs: ['sum'], fields: '', values: false },
      pieType: 'donut',
      legend: { displayMode: 'table', placement: 'right', showLegend: true, values: ['percent'] },
    },
  });
  for (const side of ['src', 'dst'] as const) {
    l.add('table', {
      title: side === 'src' ? 'Top sources (latest interval)' : 'Top destinations (latest interval)',
      description: `The ${side === 'src' ? 'source' : 'destination'} addresses that sent or received the most bytes in the latest rollup interval, per exporter (exact while an interval has fewer distinct addresses than the collector's counters, a lower bound otherwise).`,
      w: 8,
      targets: [
        tableTarget(
          `SELECT last("addr") AS "address", last("bytes") AS "bytes", last("packets") AS "packets" FROM "top_talkers" WHERE ${EXPORTER} AND "side" = '${side}' AND $timeFilter GROUP BY "exporter", "rank"`,
        ),
      ],
      fieldConfig: {
        defaults: {},
        overrides: [
          { matcher: { id: 'byName', options: 'bytes' }, properties: [{ id: 'unit', value: 'decbytes' }] },
        ],
      },
      options: { showHeader: true, sortBy: [{ displayName: 'bytes', desc: true }] },
    });
  }
  return dashboard({
    uid: 'flowcast-traffic',
    title: 'flowcast: network overview',
    description:
      'Traffic per exporter and interface, protocol and service mix and top talkers, from flowcast rollups.',
    variables: [
      rollupVariable,
      exporterVariable(),
      queryVariable(
        'interface',
        'Interface',
        `SHOW TAG VALUES FROM "traffic" WITH KEY = "ifName" WHERE ${EXPORTER}`,
        'Interfaces by name (ifName from the exporter, or the ifIndex when it sends no names).',
      ),
    ],
    annotations: [anomalyAnnotation],
    panels: l.panels,
  });
}

function capacityPlanning(): Json {
  const l = new Layout();
  const IFINDEX = `${EXPORTER} AND "ifIndex" =~ /^$ifindex$/`;
  l.add('table', {
    title: 'Interfaces by urgency',
    description:
      "Every interface the capacity job assessed (latest run), the soonest to reach the utilisation threshold first. Threshold: the planning threshold the job used, in per cent of capacity; days to threshold: when the forecast's upper 95 % band reaches it (beyond the forecast, the trend); congestion 7 d and 30 d: the probability of reaching the congested state within 7 and 30 days, from the Markov model of utilisation states; p95: 95th percentile of traffic; trend: growth of traffic per day. Click a row to see that interface.",
    w: 24,
    h: 10,
    targets: [
      tableTarget(
        `SELECT last("daysToThreshold") AS "days to threshold", last("probCongested7d") AS "congestion 7 d", last("probCongested30d") AS "congestion 30 d", last("p95Bps") AS "p95", last("trendBpsPerDay") AS "trend per day", last("capacityBps") AS "capacity", last("threshold") AS "threshold" FROM "capacity" WHERE ${EXPORTER} AND $timeFilter GROUP BY "exporter", "ifIndex", "direction"`,
      ),
    ],
    fieldConfig: {
      defaults: {
        links: [
          {
            title: 'Show this interface',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's data-link variables, not JavaScript
            url: '/d/flowcast-capacity/flowcast-capacity-planning?var-exporter=${__data.fields.exporter}&var-ifindex=${__data.fields.ifIndex}&${__url_time_range}',
          },
        ],
      },
      overrides: [
        {
          matcher: { id: 'byName', options: 'days to threshold' },
          properties: [
            { id: 'unit', value: 'd' },
            { id: 'decimals', value: 0 },
          ],
        },
        ...['congestion 7 d', 'congestion 30 d', 'threshold'].map((name) => ({
          matcher: { id: 'byName', options: name },
          properties: [{ id: 'unit', value: 'percentunit' }],
        })),
        { matcher: { id: 'byName', options: 'p95' }, properties: [{ id: 'unit', value: 'bps' }] },
        { matcher: { id: 'byName', options: 'trend per day' }, properties: [{ id: 'unit', value: 'bps' }] },
        { matcher: { id: 'byName', options: 'capacity' }, properties: [{ id: 'unit', value: 'bps' }] },
      ],
    },
    options: { showHeader: true, sortBy: [{ displayName: 'days to threshold', desc: false }] },
    extra: {
      transformations: [
        { id: 'organize', options: { excludeByName: { Time: true } } },
        { id: 'sortBy', options: { sort: [{ field: 'days to threshold', desc: false }] } },
      ],
    },
  });
  l.timeseries({
    title: 'Interface $ifindex: traffic, forecast and capacity',
    description:
      'Measured bits per second in and out, the forecast with its 80 % and 95 % prediction intervals (the truth should fall outside the 80 % band about one time in five, outside the 95 % one about one in twenty), the interface capacity and the utilisation threshold ($threshold % of capacity). The time range reaches into the future so that the forecast shows.',
    w: 24,
    h: 11,
    unit: 'bps',
    targets: [
      influxTarget(rateQuery('traffic', 'bytes', 8, IFINDEX, ['exporter', 'ifName', 'direction']), {
        alias: '$tag_ifName $tag_direction measured',
      }),
      influxTarget(
        'SELECT mean("yhat") AS "forecast", mean("lower80") AS "lower 80 %", mean("upper80") AS "upper 80 %", mean("lower") AS "lower 95 %", mean("upper") AS "upper 95 %" FROM "forecast" WHERE "series" =~ /^traffic\\/$exporter\\/$ifindex\\/(in|out)$/ AND $timeFilter GROUP BY time($__interval), "series" fill(none)',
        { alias: '$tag_series $col' },
        'B',
      ),
      influxTarget(
        `SELECT last("capacityBps") AS "capacity", last("capacityBps") * $threshold / 100 AS "threshold" FROM "capacity" WHERE ${IFINDEX} AND $timeFilter GROUP BY time($__interval), "direction" fill(previous)`,
        { alias: '$tag_direction $col' },
        'C',
      ),
    ],
    extra: { repeat: 'ifindex', repeatDirection: 'v' },
  });
  return dashboard({
    uid: 'flowcast-capacity',
    title: 'flowcast: capacity planning',
    description:
      'Per interface: traffic with its forecast, capacity and threshold; every interface ranked by urgency.',
    time: { from: 'now-30d', to: 'now+30d' },
    variables: [
      rollupVariable,
      {
        name: 'threshold',
        label: 'Utilisation threshold (%)',
        type: 'constant',
        hide: 2,
        // A whole number: Grafana regex-escapes variable values in InfluxQL, so "0.8" would arrive as "0\\.8".
        query: '80',
        description: 'The utilisation threshold the capacity job uses, in per cent of capacity.',
      },
      exporterVariable(),
      queryVariable(
        'ifindex',
        'Interface (ifIndex)',
        `SHOW TAG VALUES FROM "traffic" WITH KEY = "ifIndex" WHERE ${EXPORTER}`,
        'Interfaces by SNMP ifIndex, the key of capacity and forecast results; panels show the interface name.',
      ),
    ],
    panels: l.panels,
  });
}

function anomalies(): Json {
  const l = new Layout();
  const KIND = `"kind" =~ /^$kind$/ AND ${EXPORTER}`;
  l.timeseries({
    title: 'Traffic with detections',
    description:
      'Bits per second in and out per exporter; the red marks are the starts of anomaly and attack episodes.',
    w: 24,
    unit: 'bps',
    targets: [
      influxTarget(rateQuery('traffic', 'bytes', 8, EXPORTER, ['exporter', 'direction']), {
        alias: '$tag_exporter $tag_direction',
      }),
    ],
  });
  l.add('table', {
    title: 'Recent detections',
    description:
      'The latest anomaly and attack points (newest first): kind (series anomaly, scan, syn_flood, ddos, ...), the subject (host or series), exporter, score, episode state (start, update, end) and message.',
    w: 24,
    h: 10,
    targets: [
      tableTarget(
        `SELECT "kind", "subject", "exporter", "score", "state", "value", "expected", "message" FROM "anomaly" WHERE ${KIND} AND $timeFilter ORDER BY time DESC LIMIT 500`,
      ),
    ],
    options: { showHeader: true },
  });
  l.add('barchart', {
    title: 'Episodes started per kind',
    description: 'How many anomaly and attack episodes started in each interval, per kind.',
    w: 24,
    unit: 'short',
    targets: [
      influxTarget(
        `SELECT count("score") FROM "anomaly" WHERE ${KIND} AND "state" = 'start' AND $timeFilter GROUP BY time($__interval), "kind" fill(0)`,
        { alias: '$tag_kind' },
      ),
    ],
    options: {
      stacking: 'normal',
      xTickLabelSpacing: 100,
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
    },
  });
  return dashboard({
    uid: 'flowcast-anomalies',
    title: 'flowcast: anomalies and attacks',
    description:
      'Detections of the anomaly job and of the attack detector: on the traffic, as a list, and counted per kind.',
    time: { from: 'now-24h', to: 'now' },
    variables: [
      rollupVariable,
      exporterVariable(),
      queryVariable(
        'kind',
        'Kind',
        'SHOW TAG VALUES FROM "anomaly" WITH KEY = "kind"',
        'Kinds of detection.',
      ),
    ],
    annotations: [anomalyAnnotation],
    panels: l.panels,
  });
}

function collectorHealth(): Json {
  const l = new Layout();
  l.timeseries({
    title: 'Datagrams per second by exporter and version',
    description:
      'NetFlow/IPFIX datagrams decoded per second, per exporter and protocol version (5, 9, 10 = IPFIX). A line that drops to nothing is an exporter that stopped sending.',
    unit: 'pps',
    targets: [
      influxTarget(rateQuery('collector', 'packets', 1, EXPORTER, ['exporter', 'version']), {
        alias: '$tag_exporter v$tag_version',
      }),
    ],
  });
  l.timeseries({
    title: 'Flow records per second by exporter and version',
    description: 'Flow records decoded per second, per exporter and version.',
    unit: 'short',
    targets: [
      influxTarget(rateQuery('collector', 'records', 1, EXPORTER, ['exporter', 'version']), {
        alias: '$tag_exporter v$tag_version',
      }),
    ],
  });
  l.add('barchart', {
    title: 'Problems per interval by exporter',
    description:
      'Per interval: malformed datagrams (decode errors), data sets that arrived without their template (missing templates), flows lost in transit by sequence numbers (sequence gaps) and datagrams dropped. Anything but zero deserves a look.',
    unit: 'short',
    targets: [
      influxTarget(
        `SELECT sum("decodeErrors") AS "decode errors", sum("missingTemplates") AS "missing templates", sum("sequenceGaps") AS "sequence gaps (lost flows)", sum("dropped") AS "dropped" FROM "collector" WHERE ${EXPORTER} AND $timeFilter GROUP BY time($__interval), "exporter" fill(0)`,
        { alias: '$tag_exporter $col' },
      ),
    ],
    options: {
      stacking: 'normal',
      xTickLabelSpacing: 100,
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
    },
  });
  l.add('table', {
    title: 'Exporters: last report',
    description:
      'When each exporter was last heard from (the time of its latest collector point), and its datagrams in that interval. An exporter silent for 10 minutes raises an alert.',
    targets: [
      tableTarget(
        `SELECT last("packets") AS "datagrams in last interval" FROM "collector" WHERE ${EXPORTER} AND $timeFilter GROUP BY "exporter", "version"`,
      ),
    ],
    options: { showHeader: true },
  });
  l.add('table', {
    title: 'Analytics: last capacity run',
    description:
      'When the capacity job last wrote results, and for how many interface directions. Job status in detail: GET /api/v1/jobs.',
    w: 8,
    targets: [
      tableTarget(
        'SELECT count("capacityBps") AS "interface directions" FROM "capacity" WHERE $timeFilter GROUP BY time(1d) fill(none) ORDER BY time DESC LIMIT 1',
      ),
    ],
    options: { showHeader: true },
  });
  const prom = { datasource: PROMETHEUS };
  l.timeseries({
    ...prom,
    title: 'Decode errors by reason',
    description:
      'Malformed datagrams per second by reason (from /metrics, through Prometheus): bad_length, bad_template, unsupported_version, ...',
    w: 8,
    unit: 'short',
    targets: [
      promTarget(
        'sum by (exporter, reason) (rate(flowcast_decode_errors_total[$__rate_interval]))',
        '{{exporter}} {{reason}}',
      ),
    ],
  });
  l.timeseries({
    ...prom,
    title: 'Receive queue drops',
    description:
      'Datagrams dropped per second because the receive queue was full (the decoder could not keep up), and the queue length.',
    w: 8,
    unit: 'short',
    targets: [
      promTarget('rate(flowcast_queue_dropped_total[$__rate_interval])', 'dropped per second'),
      promTarget('flowcast_queue_length', 'queue length', 'B'),
    ],
  });
  l.timeseries({
    ...prom,
    title: 'Store: spool and write errors',
    description:
      'Points waiting in the on-disk spool while InfluxDB cannot be written to (should return to 0), failed write attempts per second, and points dropped from a full spool.',
    w: 12,
    unit: 'short',
    targets: [
      promTarget('flowcast_store_spool_points', 'spooled points'),
      promTarget('rate(flowcast_store_write_errors_total[$__rate_interval])', 'write errors per second', 'B'),
      promTarget(
        'rate(flowcast_store_spool_dropped_total[$__rate_interval])',
        'spool points dropped per second',
        'C',
      ),
    ],
  });
  l.timeseries({
    ...prom,
    title: 'Templates and exporters',
    description:
      'Templates known per exporter, data dropped because its template never came (per second, all exporters), and exporters refused because the exporter table was full.',
    w: 12,
    unit: 'short',
    targets: [
      promTarget('flowcast_templates', '{{exporter}} templates'),
      // Counted per exporter only once something expired: `or vector(0)` shows the 0 until then.
      promTarget(
        'sum(rate(flowcast_pending_expired_total[$__rate_interval])) or vector(0)',
        'data expired before its template, per second',
        'B',
      ),
      promTarget('rate(flowcast_exporters_rejected_total[$__rate_interval])', 'exporters refused', 'C'),
    ],
  });
  return dashboard({
    uid: 'flowcast-health',
    title: 'flowcast: collector health',
    description:
      'Is every exporter being heard, decoded and stored? Store figures come from InfluxDB; the rest from flowcast /metrics through the Prometheus datasource.',
    variables: [rollupVariable, exporterVariable('collector')],
    panels: l.panels,
  });
}

/** Every dashboard, by file name. */
export function dashboards(): Record<string, Json> {
  return {
    'flowcast-traffic.json': networkOverview(),
    'flowcast-capacity.json': capacityPlanning(),
    'flowcast-anomalies.json': anomalies(),
    'flowcast-health.json': collectorHealth(),
  };
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  const dir = join(import.meta.dirname, 'dashboards');
  for (const [file, json] of Object.entries(dashboards())) {
    writeFileSync(join(dir, file), `${JSON.stringify(json, null, 2)}\n`);
  }
}
