/**
 * Dashboards and alert rules are code, proven against what flowcast really stores.
 *
 * Without a database: the committed dashboards are what grafana/build.ts builds; each validates
 * against the JSON schema derived from `@grafana/schema` (test/support/grafana.ts); the provisioning
 * and alerting files against Grafana's provisioning types; every measurement, tag and field a query
 * names exists in storage/schema.ts.
 *
 * With a real InfluxDB (Debian's influxd 1.6.7):
 * - End to end: a `flowcast serve` child receives IPFIX from two exporters (with interface names,
 *   one of them with the slashes Juniper names have) and writes to influxd; analytics results
 *   (`forecast`, `capacity`, `anomaly`) are written as docs/schema.md describes them. Then every
 *   panel, annotation and variable query runs as Grafana 11 would send it: variables with their real
 *   values (each value alone, two together, All), macros expanded; each must return rows. Every
 *   Prometheus metric a dashboard or alert names must be on that process's /metrics.
 * - Rates: on three hours of 60 s rollup points with known values (some intervals idle), every rate
 *   query of every dashboard is run with `$__interval` 5 s, 1 m, 5 m and 1 h and compared, bucket by
 *   bucket, with the rate computed here from the points written.
 * - Alert rules: their InfluxQL runs over a relative range as Grafana's evaluator sends it, and the
 *   series that fire (after the rule's reduce and threshold) are exactly the ones that should.
 *
 * Prometheus: every PromQL expression of the dashboards and alert rules runs on a real Prometheus
 * (Debian's) scraping the replay's flowcast process.
 *
 * Locally the influxd and prometheus suites skip with a notice when the tool is missing; under
 * CI=true they fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../cli/config.js';
import { dashboards as buildDashboards, rateQuery } from '../grafana/build.js';
import { InfluxStore } from '../storage/influx/influx-store.js';
import { SCHEMA } from '../storage/schema.js';
import type { Point } from '../storage/store.js';
import { ipfixMessage, VARIABLE_LENGTH } from './support/encoder.js';
import { FlowcastProcess, poll, UdpExporter } from './support/flowcast-process.js';
import {
  type AlertRule,
  alertingFile,
  type DashboardJson,
  dashboardSchema,
  dashboardsFile,
  datasourcesFile,
  expandInfluxQL,
  formatRegex,
  influxQueries,
  promExpressions,
  resolveTime,
  type Selection,
  type VariableJson,
} from './support/grafana.js';
import { Influxd, type InfluxQueryResponse, influxdAvailable } from './support/influxd.js';
import { Prometheus, type PromQueryResponse, prometheusAvailable } from './support/prometheus.js';

const hasInfluxd = influxdAvailable();
const hasPrometheus = prometheusAvailable();
const GRAFANA = join(import.meta.dirname, '..', 'grafana');
const DASHBOARDS = join(GRAFANA, 'dashboards');
const MIN = 60_000;

const files = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));
const dashboards: [string, DashboardJson][] = files.map((f) => [
  f,
  JSON.parse(readFileSync(join(DASHBOARDS, f), 'utf8')) as DashboardJson,
]);
const readYaml = (path: string): unknown => parseYaml(readFileSync(join(GRAFANA, path), 'utf8'));
const alerting = alertingFile.parse(readYaml('provisioning/alerting/flowcast.yml'));
const alertRules: AlertRule[] = alerting.groups.flatMap((g) => g.rules);

/** The InfluxQL of an alert rule's datasource queries, with their relative ranges (seconds). */
function alertInfluxQueries(rule: AlertRule): { query: string; from: number; to: number }[] {
  return rule.data.flatMap((d) =>
    d.datasourceUid === 'flowcast-influxql' && 'query' in d.model
      ? [{ query: d.model.query, from: d.relativeTimeRange?.from ?? 600, to: d.relativeTimeRange?.to ?? 0 }]
      : [],
  );
}

/** Every PromQL expression: of dashboard panels (`panel` true) and of alert rules. */
function promExpressionsEverywhere(): { where: string; expr: string; panel: boolean }[] {
  return [
    ...dashboards.flatMap(([, d]) => promExpressions(d).map((e) => ({ ...e, panel: true }))),
    ...alertRules.flatMap((r) =>
      r.data.flatMap((q) => ('expr' in q.model ? [{ where: r.uid, expr: q.model.expr, panel: false }] : [])),
    ),
  ];
}

// -------------------------------------------------------------------------------------------------
// Checks without a database
// -------------------------------------------------------------------------------------------------

describe('Grafana dashboards and provisioning files', () => {
  it('the four dashboards are there, with stable uids', () => {
    expect(dashboards.map(([, d]) => d.uid).sort()).toEqual([
      'flowcast-anomalies',
      'flowcast-capacity',
      'flowcast-health',
      'flowcast-traffic',
    ]);
  });

  it('each committed dashboard is what grafana/build.ts builds (run `npx tsx grafana/build.ts`)', () => {
    const built = buildDashboards();
    expect(Object.keys(built).sort()).toEqual([...files].sort());
    for (const [file, d] of dashboards) expect(d, file).toEqual(built[file]);
  });

  it.each(dashboards)('%s validates against the schema derived from @grafana/schema', (_file, d) => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(dashboardSchema());
    const ok = validate(d);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 1)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema rejects what Grafana would not understand (it can fail)', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(dashboardSchema());
    const [, sample] = dashboards[0]!;
    const broken = structuredClone(sample) as unknown as { panels: Record<string, unknown>[] };
    broken.panels[0]!['gridPos'] = { x: 0, y: 0, w: 12, height: 9 };
    expect(validate(broken)).toBe(false);
    const typo = structuredClone(sample) as unknown as { panels: { targets: Record<string, unknown>[] }[] };
    typo.panels[0]!.targets[0]!['querry'] = 'SELECT 1';
    expect(validate(typo)).toBe(false);
  });

  it.each(dashboards)('%s uses the schema version of the pinned Grafana', async (_file, d) => {
    const raw = (await import(
      '@grafana/schema/dist/esm/raw/dashboard/x/dashboard_types.gen.js' as string
    )) as { defaultDashboard: { schemaVersion: number } };
    expect(d.schemaVersion).toBe(raw.defaultDashboard.schemaVersion);
  });

  it.each(dashboards)('%s: every panel has a description, a unit and a minimum interval', (_file, d) => {
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels) {
      expect(p.description?.length ?? 0, p.title).toBeGreaterThan(40);
      if (p.type === 'timeseries' || p.type === 'barchart') {
        expect(p.interval, p.title).toBe('1m');
        expect(p.fieldConfig?.defaults?.unit, p.title).toBeDefined();
      }
      // Bits per second everywhere a panel shows bytes as a rate: never bytes per interval.
      for (const t of p.targets) {
        if (t.query?.includes('sum("bytes")') === true && p.type === 'timeseries') {
          expect(p.fieldConfig?.defaults?.unit, p.title).toBe('bps');
          expect(t.query, p.title).toContain('* 8.0 / $rollup');
        }
      }
    }
  });

  it("the dashboards' rollup constant and the datasource's minimum interval match flowcast's default rollup interval", () => {
    const seconds = loadConfig(undefined, {}).storage.rollupInterval;
    for (const [, d] of dashboards) {
      const rollup = d.templating.list.find((v) => v.name === 'rollup');
      expect(rollup?.type, d.uid).toBe('constant');
      expect(rollup?.query, d.uid).toBe(String(seconds));
    }
    const ds = datasourcesFile.parse(readYaml('provisioning/datasources/flowcast.yml'));
    expect(ds.datasources.find((d) => d.uid === 'flowcast-influxql')?.jsonData?.['timeInterval']).toBe(
      `${seconds}s`,
    );
  });

  it('every measurement, tag and field a query names is in storage/schema.ts', () => {
    const queries = [
      ...dashboards.flatMap(([, d]) => influxQueries(d)),
      ...alertRules.flatMap((r) => alertInfluxQueries(r).map((q) => ({ where: r.uid, query: q.query }))),
    ];
    expect(queries.length).toBeGreaterThan(30);
    for (const { where, query } of queries) {
      const measurements = [...query.matchAll(/FROM "(\w+)"/g)].map((m) => m[1]!);
      expect(measurements.length, where).toBeGreaterThan(0);
      const known = new Set<string>();
      for (const m of measurements) {
        expect(Object.keys(SCHEMA), `${where}: measurement ${m}`).toContain(m);
        const schema = SCHEMA[m as keyof typeof SCHEMA];
        for (const name of [...schema.tags, ...Object.keys(schema.fields)]) known.add(name);
      }
      const aliases = new Set([...query.matchAll(/ AS "([^"]+)"/g)].map((m) => m[1]!));
      for (const [, name] of query.matchAll(/"([^"]+)"/g)) {
        if (measurements.includes(name!) || aliases.has(name!)) continue;
        expect(known, `${where}: "${name}" is no tag or field of ${measurements.join(', ')}`).toContain(name);
      }
      for (const [, key] of query.matchAll(/WITH KEY = "(\w+)"/g)) {
        const tags: readonly string[] = SCHEMA[measurements[0] as keyof typeof SCHEMA].tags;
        expect(tags, `${where}: ${key} must be a tag`).toContain(key);
      }
    }
  });

  it('the datasource, dashboard and alerting provisioning files match Grafana provisioning types', () => {
    const ds = datasourcesFile.parse(readYaml('provisioning/datasources/flowcast.yml'));
    const providers = dashboardsFile.parse(readYaml('provisioning/dashboards/flowcast.yml'));
    expect(providers.providers[0]?.options.path).toBe('/var/lib/grafana/dashboards');
    const uids = new Set(ds.datasources.map((d) => d.uid));
    // Every datasource a dashboard or rule refers to is provisioned.
    for (const [, d] of dashboards) {
      for (const p of d.panels) {
        for (const ref of [p.datasource, ...p.targets.map((t) => t.datasource)]) {
          if (ref !== undefined) expect(uids, `${d.uid}: ${p.title}`).toContain(ref.uid);
        }
      }
    }
    const influx = ds.datasources.find((d) => d.uid === 'flowcast-influxql');
    expect(influx?.jsonData?.['timeInterval']).toBe('60s');
    for (const rule of alertRules) {
      const refIds = rule.data.map((d) => d.refId);
      expect(refIds, rule.uid).toContain(rule.condition);
      for (const d of rule.data) {
        if (d.datasourceUid === '__expr__') {
          expect('expression' in d.model && refIds.includes(d.model.expression), rule.uid).toBe(true);
        } else {
          expect(uids, rule.uid).toContain(d.datasourceUid);
        }
      }
    }
    expect(alertRules.map((r) => r.uid).sort()).toEqual([
      'flowcast-attack-episode',
      'flowcast-days-to-threshold',
      'flowcast-exporter-silent',
      'flowcast-spool-growing',
    ]);
    // The strict schemas catch a typo.
    const typo = structuredClone(readYaml('provisioning/alerting/flowcast.yml')) as {
      groups: { rules: Record<string, unknown>[] }[];
    };
    typo.groups[0]!.rules[0]!['noDataStat'] = 'OK';
    expect(alertingFile.safeParse(typo).success).toBe(false);
  });
});

// -------------------------------------------------------------------------------------------------
// Against a real InfluxDB
// -------------------------------------------------------------------------------------------------

/** Runs `query`; throws with the query when InfluxDB reports an error. */
async function run(influxd: Influxd, db: string, query: string): Promise<InfluxQueryResponse> {
  const answer = await influxd.query(db, query);
  const error = answer.error ?? answer.results?.[0]?.error;
  if (error !== undefined) throw new Error(`${error}\nquery: ${query}`);
  return answer;
}

const rows = (a: InfluxQueryResponse): number =>
  (a.results?.[0]?.series ?? []).reduce((n, s) => n + s.values.length, 0);

async function writePoints(url: string, database: string, points: Point[]): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'flowcast-dashboards-'));
  const store = new InfluxStore({ url, database, dataDir, log: pino({ level: 'silent' }) });
  await store.start();
  store.write(points);
  await store.flush();
  await store.stop();
  await rm(dataDir, { recursive: true, force: true });
  expect(store.stats.rejected).toBe(0);
}

describe.skipIf(!hasInfluxd)('dashboards against a real InfluxDB', () => {
  let influxd: Influxd;
  beforeAll(async () => {
    influxd = await Influxd.launch();
  });
  afterAll(async () => {
    await influxd?.destroy();
  });

  // ---------------------------------------------------------------------------------------------
  describe('after an end-to-end replay and analytics results', () => {
    const DB = 'flowcast';
    /** The deployment's rollup interval: the dashboards' $rollup constant is set to match it. */
    const ROLLUP_SECONDS = 1;
    const EXPORTERS = ['127.0.0.21', '127.0.0.22'];
    const NAMES: Record<number, string> = { 1: 'xe-0/0/1', 2: 'xe-0/0/2', 3: 'ae0.100' };
    let metricNames = new Set<string>();
    /** Every PromQL expression's answer from a real Prometheus scraping the flowcast process. */
    const promAnswers = new Map<string, PromQueryResponse>();
    let now = 0;

    beforeAll(async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'flowcast-dashboards-e2e-'));
      const flowcast = await FlowcastProcess.start({
        dataDir,
        rollupInterval: ROLLUP_SECONDS,
        influxUrl: influxd.url,
        influxDatabase: DB,
      });
      try {
        const t = Date.now();
        for (const [e, address] of EXPORTERS.entries()) {
          const exporter = await UdpExporter.open(address);
          await exporter.send([ipfixExport(t, e)], flowcast.ipfixPort);
          exporter.close();
        }
        await flowcast.waitForMetrics(
          'records from both exporters',
          (m) => EXPORTERS.every((e) => m.value('flowcast_records_decoded_total', { exporter: e }) >= 24),
          20_000,
        );
        // One malformed datagram, so that decode errors by reason have a series.
        const broken = await UdpExporter.open(EXPORTERS[0]!);
        await broken.send([new Uint8Array([0, 10, 0, 5])], flowcast.ipfixPort);
        broken.close();
        await flowcast.waitForMetrics(
          'the decode error',
          (m) => m.value('flowcast_decode_errors_total', { exporter: EXPORTERS[0]! }) >= 1,
          10_000,
        );
        const text = await (await fetch(`http://127.0.0.1:${flowcast.httpPort}/metrics`)).text();
        metricNames = new Set([...text.matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1]!));
        if (hasPrometheus) await askPrometheus(flowcast.httpPort);
      } finally {
        await flowcast.stop();
        await rm(dataDir, { recursive: true, force: true });
      }
      await poll(
        'traffic of both exporters in InfluxDB',
        async () => {
          const a = await influxd.query(DB, 'SHOW TAG VALUES FROM "traffic" WITH KEY = "exporter"');
          return (a.results?.[0]?.series?.[0]?.values.length ?? 0) === 2 ? true : undefined;
        },
        { timeoutMs: 10_000 },
      );
      now = Date.now();
      await writePoints(influxd.url, DB, await analyticsPoints(influxd, DB, now));
      // The rate queries leave out the last two rollup intervals (not written yet in a live system).
      await new Promise((r) => setTimeout(r, 2500));
      now = Date.now();
    }, 90_000);

    /**
     * Scrapes the running flowcast with a real Prometheus (every second, until it has four scrapes)
     * and asks it every PromQL expression of the dashboards and alert rules, `$__rate_interval` as
     * Grafana computes it for a one-minute `$__interval` and the datasource's 15 s scrape interval.
     */
    async function askPrometheus(httpPort: number): Promise<void> {
      const prometheus = await Prometheus.launch(`127.0.0.1:${httpPort}`);
      try {
        await poll(
          'four scrapes of flowcast',
          async () => {
            const a = await prometheus.query('count_over_time(up{job="flowcast"}[1m])');
            return Number(a.data?.result[0]?.value?.[1] ?? 0) >= 4 ? true : undefined;
          },
          { timeoutMs: 30_000, everyMs: 250 },
        );
        for (const { expr } of promExpressionsEverywhere()) {
          promAnswers.set(expr, await prometheus.query(expr.replaceAll('$__rate_interval', '75s')));
        }
      } finally {
        await prometheus.destroy();
      }
    }

    /** IPFIX: interface names (options) and 24 flows ending at `t` from exporter number `e`. */
    function ipfixExport(t: number, e: number): Uint8Array {
      const optionFields = [
        { id: 10, length: 4 },
        { id: 82, length: VARIABLE_LENGTH },
      ];
      const flowFields = [
        { id: 8, length: 4 },
        { id: 12, length: 4 },
        { id: 7, length: 2 },
        { id: 11, length: 2 },
        { id: 4, length: 1 },
        { id: 10, length: 4 },
        { id: 14, length: 4 },
        { id: 1, length: 8 },
        { id: 2, length: 8 },
        { id: 152, length: 8 },
        { id: 153, length: 8 },
      ];
      const flows = Array.from({ length: 24 }, (_, i) => [
        `10.${e}.0.${1 + (i % 6)}`,
        `198.51.100.${1 + (i % 4)}`,
        40_000 + i,
        [443, 53, 22][i % 3]!,
        i % 3 === 1 ? 17 : 6,
        1 + (i % 3),
        1 + ((i + 1) % 3),
        BigInt(1500 * (i + 1)),
        BigInt(1 + i),
        BigInt(t - 500),
        BigInt(t - 100),
      ]);
      return ipfixMessage({
        exportTime: Math.floor(t / 1000),
        sequence: 0,
        observationDomainId: 1,
        sets: [
          {
            kind: 'options',
            templates: [{ id: 256, scopeFields: [optionFields[0]!], fields: [optionFields[1]!] }],
          },
          { kind: 'data', id: 256, fields: optionFields, records: [1, 2, 3].map((i) => [i, NAMES[i]!]) },
          { kind: 'template', templates: [{ id: 300, fields: flowFields }] },
          { kind: 'data', id: 300, fields: flowFields, records: flows },
        ],
      });
    }

    /** What the analytics jobs and the detector write, for every interface the replay created. */
    async function analyticsPoints(server: Influxd, db: string, t: number): Promise<Point[]> {
      const answer = await run(
        server,
        db,
        'SELECT last("bytes") FROM "traffic" GROUP BY "exporter", "ifIndex", "direction"',
      );
      const points: Point[] = [];
      for (const s of answer.results?.[0]?.series ?? []) {
        const { exporter = '', ifIndex = '', direction = '' } = s.tags ?? {};
        const series = `traffic/${exporter}/${ifIndex}/${direction}`;
        for (let k = -6; k <= 12; k++) {
          points.push({
            measurement: 'forecast',
            tags: { series, model: 'holt-winters' },
            fields: { yhat: 1e6 + k * 1e3, lower: 8e5, upper: 1.2e6, lower80: 9e5, upper80: 1.1e6 },
            time: t + k * 5 * MIN,
          });
        }
        points.push({
          measurement: 'capacity',
          tags: { exporter, ifIndex, direction },
          fields: {
            capacityBps: 1e9,
            p95Bps: 6e8,
            trendBpsPerDay: 4e6,
            daysToThreshold: ifIndex === '1' ? 12 : 200,
            threshold: 0.8,
            probCongested: 0.05,
            probCongested30d: 0.05,
            probCongested7d: 0.01,
          },
          time: t - 30 * MIN,
        });
      }
      for (const exporter of EXPORTERS) {
        for (const [kind, state, ago] of [
          ['scan', 'start', 8],
          ['scan', 'update', 4],
          ['syn_flood', 'start', 50],
          ['syn_flood', 'end', 6],
          ['series', 'start', 3],
        ] as const) {
          points.push({
            measurement: 'anomaly',
            tags: { kind, exporter, series: kind === 'series' ? `traffic/${exporter}/1/in` : 'dst' },
            fields: {
              score: 0.9,
              value: 5000,
              expected: 100,
              message: `${kind} towards 198.51.100.1`,
              subject: '198.51.100.1',
              state,
            },
            time: t - ago * MIN,
          });
        }
      }
      return points;
    }

    /** Every variable's values, as its own query returns them with the others at All. */
    async function variableValues(
      d: DashboardJson,
      base: Record<string, string>,
    ): Promise<Map<string, string[]>> {
      const values = new Map<string, string[]>();
      for (const v of d.templating.list) {
        if (v.type !== 'query' || v.query === undefined) continue;
        const answer = await run(influxd, DB, expandInfluxQL(v.query, expansion(d, base, MIN)));
        values.set(
          v.name,
          (answer.results?.[0]?.series ?? []).flatMap((s) => s.values.map((row) => String(row[1]))),
        );
      }
      return values;
    }

    /** The sweep's time range: one hour back (and one ahead, for forecasts) at `now`. */
    function expansion(d: DashboardJson, variables: Record<string, string>, intervalMs: number) {
      const future = resolveTime(d.time.to, now) > now;
      return { variables, fromMs: now - 60 * MIN, toMs: future ? now + 60 * MIN : now, intervalMs };
    }

    /** The formatted value of every variable for a selection (constants as they are). */
    function formatAll(d: DashboardJson, selections: Record<string, Selection>): Record<string, string> {
      const out: Record<string, string> = {};
      for (const v of d.templating.list) {
        if (v.type === 'constant')
          out[v.name] = v.name === 'rollup' ? String(ROLLUP_SECONDS) : (v.query ?? '');
        else out[v.name] = formatRegex(v, selections[v.name] ?? 'All');
      }
      return out;
    }

    it.each(dashboards)('%s: every query returns rows for every variable value', async (_file, d) => {
      const allVars = formatAll(d, {});
      const values = await variableValues(d, allVars);
      const queryVars = d.templating.list.filter((v): v is VariableJson => v.type === 'query');
      for (const v of queryVars)
        expect(values.get(v.name)?.length ?? 0, `$${v.name} has values`).toBeGreaterThan(0);
      // The exporter and interface values the replay created.
      if (d.uid === 'flowcast-traffic') {
        expect(values.get('exporter')?.sort()).toEqual(EXPORTERS);
        expect(values.get('interface')?.sort()).toEqual(Object.values(NAMES).sort());
      }
      const selections: Record<string, Selection>[] = [{}];
      for (const v of queryVars) {
        const vals = values.get(v.name) ?? [];
        for (const value of vals) selections.push({ [v.name]: [value] });
        if (vals.length >= 2) selections.push({ [v.name]: vals.slice(0, 2) });
      }
      let ran = 0;
      for (const selection of selections) {
        const variables = formatAll(d, selection);
        for (const q of influxQueries(d)) {
          if (q.kind === 'variable') continue;
          const intervals = Object.keys(selection).length === 0 ? [5000, MIN, 5 * MIN, 60 * MIN] : [MIN];
          for (const intervalMs of intervals) {
            const text = expandInfluxQL(q.query, expansion(d, variables, intervalMs));
            const answer = await run(influxd, DB, text);
            expect(
              rows(answer),
              `${q.where} with ${JSON.stringify(selection)}, $__interval ${intervalMs} ms:\n${text}`,
            ).toBeGreaterThan(0);
            ran += 1;
          }
        }
      }
      expect(ran).toBeGreaterThan(10);
    });

    it('every Prometheus metric a dashboard or an alert rule names is on flowcast /metrics', () => {
      const expressions = promExpressionsEverywhere();
      expect(expressions.length).toBeGreaterThan(5);
      expect(metricNames.size).toBeGreaterThan(20);
      for (const { where, expr } of expressions) {
        const names = [...expr.matchAll(/\bflowcast_\w+/g)].map((m) => m[0]);
        expect(names.length, where).toBeGreaterThan(0);
        for (const name of names) expect(metricNames, `${where}: ${name}`).toContain(name);
      }
    });

    it.skipIf(!hasPrometheus)(
      'every PromQL expression runs on a real Prometheus; every panel one returns series',
      () => {
        for (const { where, expr, panel } of promExpressionsEverywhere()) {
          const answer = promAnswers.get(expr);
          expect(answer?.status, `${where}: ${expr}\n${answer?.error ?? ''}`).toBe('success');
          // Panels show something; the spool alert must stay quiet while nothing is spooled.
          if (panel) expect(answer?.data?.result.length ?? 0, `${where}: ${expr}`).toBeGreaterThan(0);
          else expect(answer?.data?.result ?? [], `${where}: ${expr}`).toEqual([]);
        }
      },
    );

    it('alert rules fire for exactly the series that should', async () => {
      /** The label sets of the series that fire: the rule's query, then its reduce (last) and threshold. */
      const firing = async (uid: string): Promise<Record<string, string>[]> => {
        const rule = alertRules.find((r) => r.uid === uid)!;
        const [q] = alertInfluxQueries(rule);
        const answer = await run(
          influxd,
          DB,
          expandInfluxQL(q!.query, {
            variables: {},
            fromMs: now - q!.from * 1000,
            toMs: now - q!.to * 1000,
            intervalMs: MIN,
          }),
        );
        const threshold = rule.data.find((d) => 'type' in d.model && d.model.type === 'threshold')!.model as {
          conditions: { evaluator: { type: 'gt' | 'lt'; params: number[] } }[];
        };
        const { type, params } = threshold.conditions[0]!.evaluator;
        const out: Record<string, string>[] = [];
        for (const s of answer.results?.[0]?.series ?? []) {
          const last = s.values
            .map((row) => row[1])
            .filter((v): v is number => typeof v === 'number')
            .at(-1);
          if (last === undefined) continue;
          if (type === 'gt' ? last > params[0]! : last < params[0]!) out.push(s.tags ?? {});
        }
        return out;
      };
      // ifIndex 1 has 12 days to its threshold, the others 200: both directions of ifIndex 1 of both exporters.
      const days = await firing('flowcast-days-to-threshold');
      expect(days.map((t) => `${t['exporter']} ${t['ifIndex']} ${t['direction']}`).sort()).toEqual(
        EXPORTERS.flatMap((e) => [`${e} 1 in`, `${e} 1 out`]),
      );
      // scan: started 8 min ago, updated 4 min ago; syn_flood ended; "series" is no attack.
      const attacks = await firing('flowcast-attack-episode');
      expect(attacks.map((t) => `${t['kind']} ${t['exporter']}`).sort()).toEqual(
        EXPORTERS.map((e) => `scan ${e}`),
      );
      // Exporter silence: history written below makes 127.0.0.23 silent for 20 minutes.
      const history: Point[] = [];
      for (let m = 40; m >= 3; m--) {
        for (const exporter of ['127.0.0.23', '127.0.0.24']) {
          if (exporter === '127.0.0.23' && m < 20) continue;
          history.push({
            measurement: 'collector',
            tags: { exporter, version: '10' },
            fields: {
              packets: 10,
              records: 100,
              decodeErrors: 0,
              missingTemplates: 0,
              sequenceGaps: 0,
              dropped: 0,
            },
            time: Math.floor((now - m * MIN) / MIN) * MIN,
          });
        }
      }
      await writePoints(influxd.url, DB, history);
      const silent = (await firing('flowcast-exporter-silent')).map((t) => t['exporter']);
      expect(silent).toContain('127.0.0.23');
      expect(silent).not.toContain('127.0.0.24');
      // The replay's exporters sent their only datagrams moments ago: not silent for 10 minutes yet,
      // but they have no history here either, so the rule has no series for them at all.
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('rates against stored truth at every zoom', () => {
    const DB = 'truth';
    const HOUR = 60 * MIN;
    // Three whole hours of 60 s points, well in the past so that every interval is written.
    const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    const start = end - 3 * HOUR;
    const written: Point[] = [];

    beforeAll(async () => {
      let seed = 7;
      const next = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return seed;
      };
      for (let t = start; t < end; t += MIN) {
        for (const exporter of ['192.0.2.1', '192.0.2.2']) {
          for (const [ifIndex, ifName] of [
            ['1', 'xe-0/0/1'],
            ['2', 'xe-0/0/2'],
          ] as const) {
            for (const direction of ['in', 'out']) {
              if (next() % 10 === 0) continue; // an idle interval: no point at all
              written.push({
                measurement: 'traffic',
                tags: { exporter, ifIndex, ifName, direction },
                fields: { bytes: next() % 50_000_000, packets: next() % 40_000, flows: next() % 900 },
                time: t,
              });
            }
          }
          for (const [protocol, service] of [
            ['tcp', 'https'],
            ['udp', 'dns'],
          ] as const) {
            if (next() % 10 === 0) continue;
            written.push({
              measurement: 'traffic_protocol',
              tags: { exporter, protocol, service },
              fields: { bytes: next() % 50_000_000, packets: next() % 40_000, flows: next() % 900 },
              time: t,
            });
          }
          if (next() % 10 !== 0) {
            written.push({
              measurement: 'collector',
              tags: { exporter, version: '9' },
              fields: {
                packets: next() % 3000,
                records: next() % 90_000,
                decodeErrors: 0,
                missingTemplates: 0,
                sequenceGaps: 0,
                dropped: 0,
              },
              time: t,
            });
          }
        }
      }
      await writePoints(influxd.url, DB, written);
    }, 60_000);

    /** Every rate query of every dashboard, parsed back into what it computes. */
    const rateTargets = dashboards.flatMap(([, d]) =>
      influxQueries(d)
        .filter((q) => q.query.startsWith('SELECT mean("rate") FROM ('))
        .map((q) => {
          const m =
            /^SELECT mean\("rate"\) FROM \(SELECT sum\("(\w+)"\) \* (\d+)\.0 \/ \$rollup AS "rate" FROM "(\w+)" WHERE (.*) AND \$timeFilter AND time < now\(\) - \$\{rollup\}s - \$\{rollup\}s GROUP BY time\(\$\{rollup\}s\)((?:, "\w+")*) fill\(0\)\) WHERE \$timeFilter GROUP BY time\(\$__interval\)((?:, "\w+")*) fill\(none\)$/.exec(
              q.query,
            );
          if (m === null) throw new Error(`${q.where}: not the rate form of grafana/build.ts:\n${q.query}`);
          const [, field, multiplier, measurement, where, innerTags, outerTags] = m;
          if (innerTags !== outerTags) throw new Error(`${q.where}: inner and outer GROUP BY differ`);
          const tags = [...innerTags!.matchAll(/"(\w+)"/g)].map((t) => t[1]!);
          const direction = /"direction" = '(in|out)'/.exec(where!)?.[1];
          // The query is exactly what rateQuery builds from these parts (the parse is not lenient).
          expect(q.query).toBe(rateQuery(measurement!, field!, Number(multiplier ?? 1), where!, tags));
          return {
            d,
            where: q.where,
            query: q.query,
            field: field!,
            multiplier: Number(multiplier ?? 1),
            measurement: measurement!,
            tags,
            direction,
          };
        }),
    );

    it('there are rate queries on every dashboard that shows traffic', () => {
      expect(new Set(rateTargets.map((r) => r.d.uid))).toEqual(
        new Set(['flowcast-traffic', 'flowcast-capacity', 'flowcast-anomalies', 'flowcast-health']),
      );
    });

    /** The rate per bucket computed from the points written: what each row must show. */
    function truth(r: (typeof rateTargets)[number], bucketMs: number): Map<string, number> {
      const perInterval = new Map<string, Map<number, number>>();
      for (const p of written) {
        if (p.measurement !== r.measurement) continue;
        if (r.direction !== undefined && p.tags['direction'] !== r.direction) continue;
        const key = r.tags.map((t) => p.tags[t]).join(' ');
        const series = perInterval.get(key) ?? new Map<number, number>();
        perInterval.set(key, series);
        series.set(p.time, (series.get(p.time) ?? 0) + (p.fields[r.field] as number));
      }
      const expected = new Map<string, number>();
      for (const [key, series] of perInterval) {
        for (let b = start; b < end; b += bucketMs) {
          // The rollup intervals whose start lies in the bucket; an interval with no point is 0.
          const starts: number[] = [];
          for (let t = Math.ceil(b / MIN) * MIN; t < b + bucketMs; t += MIN) starts.push(t);
          if (starts.length === 0) continue;
          const bits = starts.reduce((sum, t) => sum + (series.get(t) ?? 0) * r.multiplier, 0);
          expected.set(`${key}@${b}`, bits / (starts.length * 60));
        }
      }
      return expected;
    }

    it.each([5000, MIN, 5 * MIN, 60 * MIN])(
      'every rate query is right with $__interval = %i ms',
      async (bucketMs) => {
        expect(rateTargets.length).toBeGreaterThan(8);
        for (const r of rateTargets) {
          const variables: Record<string, string> = {};
          for (const v of r.d.templating.list)
            variables[v.name] = v.type === 'constant' ? (v.query ?? '') : formatRegex(v, 'All');
          const text = expandInfluxQL(r.query, {
            variables,
            fromMs: start,
            toMs: end - 1,
            intervalMs: bucketMs,
          });
          const answer = await run(influxd, DB, text);
          const got = new Map<string, number>();
          for (const s of answer.results?.[0]?.series ?? []) {
            const key = r.tags.map((t) => s.tags?.[t]).join(' ');
            for (const [time, value] of s.values) got.set(`${key}@${time}`, value as number);
          }
          const expected = truth(r, bucketMs);
          expect([...got.keys()].sort(), r.where).toEqual([...expected.keys()].sort());
          for (const [k, v] of expected) expect(got.get(k), `${r.where} ${k}`).toBeCloseTo(v, 3);
        }
      },
    );

    it('the usual sum / $__interval would be 12 times too high at 5 s: what the rate form avoids', async () => {
      const naive = `SELECT sum("bytes") * 8000 / 5000 FROM "traffic" WHERE "direction" = 'in' AND time >= ${start}ms AND time < ${end}ms GROUP BY time(5s), "exporter", "ifName" fill(none)`;
      const r = rateTargets.find((t) => t.where.includes('Inbound traffic by interface'))!;
      const expected = truth(r, 5000);
      const answer = await run(influxd, DB, naive);
      const s = answer.results?.[0]?.series?.[0];
      const [time, value] = s!.values[0]!;
      const key = `${s!.tags?.['exporter']} ${s!.tags?.['ifName']}@${time}`;
      expect((value as number) / expected.get(key)!).toBeCloseTo(12, 6);
    });
  });
});
