/**
 * The zod schemas of the API: every query and path parameter the routes accept and every JSON body
 * they answer with. Routes validate with them and the OpenAPI document is generated from them
 * (openapi.ts), so the two cannot drift apart.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import 'zod-openapi';
import { MAX_INTERFACE_ROWS } from '../storage/store.js';
import { parseTime, TIME_FORMATS } from './time.js';

/** The most points (samples, rows) one answer may hold. */
export const MAX_POINTS = 10_000;

/** A whole number in a query string, `min`…`max`, documented as an integer. */
export function integer(min: number, max: number, description: string) {
  return z
    .string()
    .regex(/^\d{1,16}$/, { error: `expected a whole number from ${min} to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { error: `expected a whole number from ${min} to ${max}` })
        .max(max, { error: `expected a whole number from ${min} to ${max}` }),
    )
    .meta({
      description,
      override: ({ jsonSchema }) => {
        for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
        Object.assign(jsonSchema, { type: 'integer', minimum: min, maximum: max });
      },
    });
}

/** A time parameter: checked here, turned into milliseconds by the route (relative forms need one `now`). */
export const time = (description: string) =>
  z
    .string()
    .max(64, { error: `expected ${TIME_FORMATS}` })
    .refine((text) => parseTime(text, Date.now()) !== undefined, { error: `expected ${TIME_FORMATS}` })
    .meta({ description: `${description}: ${TIME_FORMATS}.`, examples: ['-24h', '2024-05-01T00:00:00Z'] });

export const address = z
  .string()
  .max(45, { error: 'expected an IPv4 or IPv6 address' })
  .refine((s) => isIP(s) !== 0, { error: 'expected an IPv4 or IPv6 address' })
  .meta({ description: 'Exporter address (its source address)', example: '192.0.2.1' });

export const format = z
  .enum(['json', 'csv'])
  .meta({ description: 'Answer format; also chosen by `Accept: text/csv`.' });

const ifIndex = integer(0, 0xffff_ffff, 'SNMP ifIndex of the interface');
const direction = z.enum(['in', 'out']).meta({ description: 'Traffic direction on the interface' });
const from = time('Start of the range (inclusive)');
const to = time('End of the range (exclusive)');

// ---------- parameters ----------

export const exportersQuery = z.strictObject({
  limit: integer(1, MAX_POINTS, 'Most exporters listed (default 1000), most recently seen first').optional(),
  format: format.optional(),
});

export const exporterPath = z.strictObject({ address });

export const templatesQuery = z.strictObject({
  limit: integer(1, MAX_POINTS, 'Most templates listed (default 1000)').optional(),
});

export const interfacesQuery = z.strictObject({
  exporter: address.optional(),
  from: from.optional(),
  to: to.optional(),
  sort: z
    .enum(['exporter', 'utilisation', 'bps'])
    .meta({
      description: 'Order: by exporter and ifIndex (default), or highest utilisation or bit rate first',
    })
    .optional(),
  limit: integer(
    1,
    MAX_INTERFACE_ROWS,
    'Most interfaces listed (default 1000); `truncated` says when some were left out',
  ).optional(),
  format: format.optional(),
});

export const trafficQuery = z.strictObject({
  exporter: address.optional(),
  ifIndex: ifIndex.optional(),
  direction: direction.optional(),
  from: from.optional(),
  to: to.optional(),
  step: integer(
    1,
    10 * 366 * 86_400,
    `Seconds per sample; at least the rollup interval, and at most ${MAX_POINTS} samples per answer (default: chosen to give at most 1000)`,
  ).optional(),
  format: format.optional(),
});

export const topQuery = z.strictObject({
  side: z
    .enum(['src', 'dst'])
    .meta({ description: 'Source or destination addresses (default src)' })
    .optional(),
  exporter: address.optional(),
  from: from.optional(),
  to: to.optional(),
  limit: integer(1, 1000, 'Most addresses listed (default 10)').optional(),
  format: format.optional(),
});

export const protocolsQuery = z.strictObject({
  exporter: address.optional(),
  from: from.optional(),
  to: to.optional(),
  format: format.optional(),
});

const seriesKey = z
  .string()
  .min(1, { error: 'expected a series key such as traffic/192.0.2.1/1/in' })
  .max(512, { error: 'expected a series key of at most 512 characters' })
  .meta({ description: 'Series key (see /api/v1/series)', example: 'traffic/192.0.2.1/1/in' });

export const forecastsQuery = z.strictObject({
  series: seriesKey,
  from: from.optional(),
  to: to.optional(),
  horizon: z
    .string()
    .regex(/^\d{1,9}(s|m|h|d|w)$/, { error: 'expected a duration such as 7d (units s, m, h, d, w)' })
    .meta({ description: 'From now to now + horizon (instead of from and to)', example: '7d' })
    .optional(),
  format: format.optional(),
});

export const seriesQuery = z.strictObject({ format: format.optional() });

export const capacityQuery = z.strictObject({
  exporter: address.optional(),
  sort: z
    .enum(['daysToThreshold', 'utilisation', 'probCongested', 'exporter'])
    .meta({
      description:
        'Order: soonest to reach the threshold (default; unknown last), highest p95 utilisation, highest congestion probability, or by exporter',
    })
    .optional(),
  limit: integer(1, MAX_POINTS, `Most rows listed (default ${MAX_POINTS})`).optional(),
  format: format.optional(),
});

export const anomaliesQuery = z.strictObject({
  from: from.optional(),
  to: to.optional(),
  kind: z
    .string()
    .regex(/^[a-z0-9_]{1,64}$/, { error: 'expected a kind such as series, scan, syn_flood or ddos' })
    .meta({ description: 'Kind of anomaly', example: 'syn_flood' })
    .optional(),
  exporter: address.optional(),
  limit: integer(1, MAX_POINTS, 'Most anomalies listed, newest first (default 1000)').optional(),
  format: format.optional(),
});

export const jobsQuery = z.strictObject({ format: format.optional() });

export const jobPath = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'expected a job name such as forecast' })
    .meta({ description: 'Job name', example: 'forecast' }),
});

export const noQuery = z.strictObject({});

// ---------- answers ----------

const isoTime = z.iso.datetime().meta({ description: 'RFC 3339 time (UTC)' });
const count = z.number().min(0);

export const errorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable machine-readable code' }),
      message: z.string().meta({ description: 'What went wrong, naming the parameter when one was bad' }),
    }),
  })
  .meta({ id: 'Error' });

const samplingSource = z.enum(['override', 'exporter', 'default', 'none']).meta({
  description:
    'Where the sampling rate comes from: the configured override, the rate the exporter states (options data or header), the configured default, or none (1)',
});

const exporterSummary = z.object({
  address: z.string(),
  live: z.boolean().meta({ description: 'Known to the running collector (false: only in the store)' }),
  versions: z.array(z.number().int()),
  packets: count,
  records: count,
  decodeErrors: count,
  missingTemplates: count,
  templates: count,
  sequenceGaps: count,
  samplingRate: z.number(),
  samplingSource,
  lastSeen: isoTime.nullable(),
});

export const exporterRow = exporterSummary.meta({ id: 'Exporter' });

export const exportersBody = z.object({ exporters: z.array(exporterRow) });

export const exporterDetailBody = exporterSummary
  .extend({
    byVersion: z.array(
      z.object({
        version: z.number().int(),
        packets: count,
        records: count,
        decodeErrors: count,
        missingTemplates: count,
        dropped: count,
        sequenceGaps: count,
      }),
    ),
    errorsByReason: z.record(z.string(), count),
    optionsRecords: count,
    templatesReceived: count,
    templatesChanged: count,
    templatesWithdrawn: count,
    templatesExpired: count,
    pending: z.object({ sets: count, bytes: count, buffered: count, decoded: count, expired: count }),
    samplerRates: z.array(
      z.object({
        domain: z.string(),
        samplerId: z.number().int().nullable(),
        rate: z.number(),
      }),
    ),
    domains: z.array(
      z.object({
        key: z.string(),
        observationDomainId: z.number().int(),
        templates: count,
        sequenceLost: count,
      }),
    ),
    interfaces: count,
  })
  .meta({ id: 'ExporterDetail' });

export const templatesBody = z.object({
  exporter: z.string(),
  templates: z.array(
    z.object({
      domain: z.string().meta({ description: 'Template scope: version/sourceId or 10/port/domain' }),
      observationDomainId: z.number().int(),
      templateId: z.number().int(),
      options: z.boolean(),
      scopeCount: z.number().int(),
      recordLength: z.number().int().meta({ description: 'Bytes per record; -1 when variable' }),
      receivedAt: isoTime,
      fields: z.array(
        z.object({
          id: z.number().int(),
          pen: z.number().int(),
          length: z.number().int().meta({ description: '65535: variable length' }),
          name: z.string(),
        }),
      ),
    }),
  ),
});

const capacitySource = z.enum(['capacity_job', 'name', 'unknown']).meta({
  description:
    'Where the capacity comes from: the capacity job (configured speed), the interface name (GigabitEthernet, xe-, …), or unknown',
});

export const interfaceRow = z
  .object({
    exporter: z.string(),
    ifIndex: z.number().int(),
    ifName: z.string(),
    description: z.string(),
    capacityBps: z.number().nullable(),
    capacitySource,
    inBytes: count,
    outBytes: count,
    inBps: count.meta({ description: 'Mean bits per second in over the range' }),
    outBps: count.meta({ description: 'Mean bits per second out over the range' }),
    utilisation: z
      .number()
      .nullable()
      .meta({ description: 'Mean utilisation of the busier direction (0..1), null without capacity' }),
  })
  .meta({ id: 'Interface' });

export const interfacesBody = z.object({
  from: isoTime,
  to: isoTime,
  interfaces: z.array(interfaceRow),
  truncated: z.boolean().meta({
    description: `True when interfaces were left out: past \`limit\`, or past the most the server considers (the busiest ${MAX_INTERFACE_ROWS.toLocaleString('en-US')} from the store; the quietest are left out, and an interface at that cut may miss its quieter direction). A \`Flowcast-Truncated: true\` header says the same, in CSV too.`,
  }),
});

export const trafficBody = z.object({
  from: isoTime,
  to: isoTime,
  step: z.number().int().meta({ description: 'Seconds per sample' }),
  samples: z.array(
    z.object({
      time: isoTime.meta({ description: 'Start of the sample (aligned to the step since the Unix epoch)' }),
      bytes: count,
      packets: count,
      flows: count,
      bps: count.meta({ description: 'Bits per second over the sample' }),
      pps: count.meta({ description: 'Packets per second over the sample' }),
    }),
  ),
});

export const topBody = z.object({
  side: z.enum(['src', 'dst']),
  from: isoTime,
  to: isoTime,
  talkers: z.array(
    z.object({ rank: z.number().int(), addr: z.string(), bytes: count, packets: count, bps: count }),
  ),
});

export const protocolsBody = z.object({
  from: isoTime,
  to: isoTime,
  protocols: z.array(
    z.object({
      protocol: z.string(),
      service: z.string(),
      bytes: count,
      packets: count,
      flows: count,
      share: z.number().meta({ description: 'Fraction of all bytes in the range (0..1)' }),
    }),
  ),
});

export const forecastsBody = z.object({
  series: z.string(),
  forecast: z.array(
    z.object({
      time: isoTime,
      yhat: z.number(),
      lower: z.number().meta({ description: 'Lower bound of the 95 % prediction interval' }),
      upper: z.number().meta({ description: 'Upper bound of the 95 % prediction interval' }),
      lower80: z.number().nullable().meta({
        description: 'Lower bound of the 80 % prediction interval (null on points stored before it was)',
      }),
      upper80: z.number().nullable().meta({ description: 'Upper bound of the 80 % prediction interval' }),
    }),
  ),
});

export const seriesBody = z.object({
  series: z.array(
    z.object({
      series: z.string(),
      exporter: z.string().nullable(),
      ifIndex: z.string().nullable().meta({ description: 'ifIndex, or "total"' }),
      direction: z.string().nullable(),
    }),
  ),
});

export const capacityRow = z
  .object({
    time: isoTime.meta({ description: 'When the capacity job computed this row' }),
    exporter: z.string(),
    ifIndex: z.string(),
    ifName: z.string(),
    direction: z.string(),
    capacityBps: z.number().nullable(),
    p95Bps: z.number().nullable(),
    utilisation: z.number().nullable().meta({ description: 'p95Bps / capacityBps' }),
    trendBpsPerDay: z.number().nullable(),
    thresholdPercent: z
      .number()
      .nullable()
      .meta({ description: 'The planning threshold this row was computed with, in per cent of capacity' }),
    thresholdBps: z
      .number()
      .nullable()
      .meta({ description: 'The planning threshold in bits per second (null without capacity)' }),
    daysToThreshold: z
      .number()
      .nullable()
      .meta({ description: "Days until the forecast's upper 95 % band reaches the threshold" }),
    probCongested: z.number().nullable().meta({ description: 'Same as probCongested30d' }),
    probCongested7d: z
      .number()
      .nullable()
      .meta({ description: 'Probability (0..1) of reaching the congested state within 7 days' }),
    probCongested30d: z
      .number()
      .nullable()
      .meta({ description: 'Probability (0..1) of reaching the congested state within 30 days' }),
    note: z.string().meta({ description: 'Where the capacity comes from, and why a figure is missing' }),
  })
  .meta({ id: 'CapacityRow' });

export const capacityBody = z.object({ capacity: z.array(capacityRow) });

export const anomalyRow = z
  .object({
    time: isoTime,
    kind: z.string(),
    exporter: z.string().nullable(),
    series: z.string().nullable(),
    subject: z.string().nullable(),
    state: z.string().nullable().meta({ description: 'Episode state: start, update or end' }),
    score: z.number().nullable(),
    value: z.number().nullable(),
    expected: z.number().nullable(),
    message: z.string().nullable(),
  })
  .meta({ id: 'Anomaly' });

export const anomaliesBody = z.object({ from: isoTime, to: isoTime, anomalies: z.array(anomalyRow) });

export const jobRow = z
  .object({
    name: z.string(),
    schedule: z.string(),
    enabled: z.boolean(),
    running: z.boolean(),
    lastStart: isoTime.nullable(),
    lastDurationMs: z.number().nullable(),
    lastResult: z.enum(['ok', 'error']).nullable(),
    lastError: z.string().nullable(),
    seriesProcessed: z.number().nullable(),
    lastSuccess: isoTime.nullable(),
    nextRun: isoTime.nullable(),
  })
  .meta({ id: 'Job' });

export const jobsBody = z.object({ jobs: z.array(jobRow) });

export const jobRunBody = z.object({ job: z.string(), status: z.literal('started') });

export const healthBody = z.object({
  status: z.enum(['ok', 'degraded', 'unavailable']).meta({
    description:
      'ok: the store answers; degraded: it does not, but writes are kept (spooled) without loss; unavailable (503): writes are being lost',
  }),
  store: z.object({
    reachable: z.boolean(),
    error: z.string().optional(),
    pointsWritten: count,
    writeErrors: count,
    spoolPoints: count,
    spoolDropped: count,
    rejected: count,
  }),
  exporters: z.object({
    count: count,
    lastDatagram: z
      .array(z.object({ exporter: z.string(), lastSeen: isoTime }))
      .meta({ description: 'Most recently heard exporters first (at most 100)' }),
  }),
  jobs: z.array(jobRow),
  collector: z.record(z.string(), z.unknown()).optional(),
});
