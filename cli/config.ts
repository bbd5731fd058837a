/**
 * flowcast configuration: defaults in code, then the config file (YAML or JSON), then
 * FLOWCAST_* environment variables. Validated once at start-up: an unknown key or a bad value
 * stops start-up with a message that names the key and says what is wrong.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { analyticsSchema } from '../analytics/jobs/config.js';
import { ABSTRACT_TYPES } from '../collector/decode/ie/types.js';
import { cidr, detectionSchema } from './detection-config.js';

/*
 * Every number has a maximum the machine can honour, so that `check-config` refuses what `serve`
 * could not run (a queueSize of 1e12 once passed validation and crashed the service at start).
 */
const port = z.number().int().min(0).max(65535);
/** A duration in seconds, at most `max`. */
const seconds = (max: number) => z.number().positive().max(max);
const DAY = 86_400;
/** One packet in 2^32 (an IPFIX samplingInterval is an unsigned32); see collector/decode/state.ts. */
const samplingRate = z
  .number()
  .min(1)
  .max(2 ** 32);

/** An IPv4 or IPv6 network in CIDR notation (a bare address is a /32 or /128). */
const exporterSchema = z.strictObject({
  /** Rate used when the exporter states none. */
  samplingRate: samplingRate.optional(),
  /** Rate used whatever the exporter states. */
  samplingOverride: samplingRate.optional(),
});

export const configSchema = z.strictObject({
  collector: z
    .strictObject({
      bind: z
        .string()
        .refine((s) => isIP(s) !== 0, 'must be an IPv4 or IPv6 address')
        .default('0.0.0.0'),
      netflowPort: port.default(2055),
      ipfixPort: port.default(4739),
      /**
       * Decode workers (threads that decode, roll up and detect; the main thread only receives).
       * Unset: one per core less one for receiving, at least one.
       */
      workers: z.number().int().min(1).max(256).optional(),
      /** Datagrams waiting to be decoded (shared by the workers); beyond this they are dropped and counted. */
      queueSize: z
        .number()
        .int()
        .min(16)
        .max(1 << 20)
        .default(65_536),
      /** Bytes of datagrams waiting to be decoded (MiB, shared by the workers); beyond this they are dropped and counted. */
      queueMaxMegabytes: z.number().int().min(1).max(4096).default(64),
      /** Socket receive buffer to ask the kernel for (bytes); the kernel caps it at net.core.rmem_max. */
      receiveBuffer: z
        .number()
        .int()
        .min(65_536)
        .max(1 << 30)
        .default(32 * 1024 * 1024),
      templateLifetime: seconds(7 * DAY).default(1800),
      maxTemplatesPerExporter: z.number().int().min(1).max(65_536).default(4096),
      maxExporters: z.number().int().min(1).max(1_000_000).default(10_000),
      /** How long data that arrived before its template waits for it. */
      pendingLifetime: seconds(3600).default(60),
      pendingMaxSets: z.number().int().min(0).max(65_536).default(256),
      /**
       * The memory budget (MiB) for all decoder state: templates, data waiting for its template,
       * interface and sampler tables. What would exceed it is refused and counted.
       */
      stateMemoryMegabytes: z.number().int().min(1).max(65_536).default(128),
      /** The most one exporter's state may take of that budget (MiB). */
      exporterMemoryMegabytes: z.number().int().min(1).max(65_536).default(16),
      /** Exporter networks accepted (CIDR); empty accepts every source. Others are dropped and counted. */
      allowedExporters: z.array(cidr).max(10_000).default([]),
      /** Exporters with metric labels of their own (the busiest); the rest are summed as exporter="other". */
      metricsMaxExporters: z.number().int().min(1).max(10_000).default(100),
      exporters: z
        .record(
          z.string().refine((s) => isIP(s) !== 0, 'exporter keys must be IP addresses'),
          exporterSchema,
        )
        .default({}),
      enterpriseElements: z
        .array(
          z.strictObject({
            pen: z.number().int().min(1).max(0xffff_ffff),
            id: z.number().int().min(0).max(0x7fff),
            name: z.string().min(1),
            type: z.enum(ABSTRACT_TYPES),
          }),
        )
        .default([]),
    })
    .prefault({}),
  http: z
    .strictObject({
      /** Unset: the collector's bind address (collector.bind). */
      bind: z
        .string()
        .refine((s) => isIP(s) !== 0, 'must be an IPv4 or IPv6 address')
        .optional(),
      port: port.default(8080),
      /** Bearer token the API requires; unset means no authentication. */
      apiToken: z.string().min(1).optional(),
      /** API section (api/app.ts, api/server.ts): what may go without the token, CORS, limits, timeouts. */
      publicMetrics: z.boolean().default(false),
      publicDocs: z.boolean().default(false),
      corsOrigins: z
        .array(
          z.string().regex(/^https?:\/\/[^/\s]+$/, 'must be an origin such as https://grafana.example.com'),
        )
        .max(100)
        .default([]),
      rateLimit: z.number().int().min(0).max(1_000_000).default(600),
      maxBodyBytes: z.number().int().min(1024).max(1_048_576).default(16_384),
      headersTimeout: z.number().min(1).max(600).default(10),
      requestTimeout: z.number().min(1).max(3600).default(30),
      keepAliveTimeout: z.number().min(0.1).max(600).default(5),
    })
    .prefault({}),
  storage: z
    .strictObject({
      dataDir: z.string().min(1).default('./data'),
      /** Rollup interval in seconds. */
      rollupInterval: z.number().int().min(1).max(3600).default(60),
      /** Ranks written to top_talkers per exporter, side and interval. */
      topTalkers: z.number().int().min(1).max(1000).default(10),
      /** Embedded store: days of data kept. */
      retentionDays: z.number().positive().max(36_500).default(30),
      /**
       * Embedded store: DuckDB's threads. One leaves the cores to the collector (see
       * storage/embedded/embedded-store.ts); more speed up long queries on a machine with cores to spare.
       */
      embeddedThreads: z.number().int().min(1).max(256).default(1),
      /** InfluxDB: the most the on-disk spool of unwritten points may hold (MiB). */
      spoolMaxMegabytes: z
        .number()
        .positive()
        .max(1 << 20)
        .default(256),
      /** Raw flow records in the `flows` measurement: off by default, one in `sampleOneIn` when on. */
      rawFlows: z
        .strictObject({
          enabled: z.boolean().default(false),
          sampleOneIn: z.number().int().min(1).max(1_000_000_000).default(100),
        })
        .prefault({}),
      influx: z
        .strictObject({
          url: z.url().optional(),
          database: z.string().min(1).default('flowcast'),
          /** InfluxDB 2.x organisation (needed by /api/v2/write with a token; not used by 1.x and 3.x). */
          org: z.string().min(1).optional(),
          token: z.string().min(1).optional(),
          username: z.string().min(1).optional(),
          password: z.string().min(1).optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  analytics: analyticsSchema,
  /** Attack detection and alert sinks (docs/detection.md). */
  detection: detectionSchema,
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /** `auto`: readable lines on a terminal, JSON otherwise; `pretty` or `json` to choose. */
      format: z.enum(['auto', 'pretty', 'json']).default('auto'),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;

/** Environment variables and the config key each one sets. */
export const ENVIRONMENT: ReadonlyArray<{
  name: string;
  path: readonly string[];
  type: 'number' | 'string';
}> = [
  { name: 'FLOWCAST_NETFLOW_PORT', path: ['collector', 'netflowPort'], type: 'number' },
  { name: 'FLOWCAST_IPFIX_PORT', path: ['collector', 'ipfixPort'], type: 'number' },
  { name: 'FLOWCAST_BIND', path: ['collector', 'bind'], type: 'string' },
  { name: 'FLOWCAST_WORKERS', path: ['collector', 'workers'], type: 'number' },
  { name: 'FLOWCAST_HTTP_PORT', path: ['http', 'port'], type: 'number' },
  { name: 'FLOWCAST_API_TOKEN', path: ['http', 'apiToken'], type: 'string' },
  { name: 'FLOWCAST_HTTP_BIND', path: ['http', 'bind'], type: 'string' },
  { name: 'FLOWCAST_DATA_DIR', path: ['storage', 'dataDir'], type: 'string' },
  { name: 'FLOWCAST_ROLLUP_INTERVAL', path: ['storage', 'rollupInterval'], type: 'number' },
  { name: 'FLOWCAST_INFLUX_URL', path: ['storage', 'influx', 'url'], type: 'string' },
  { name: 'FLOWCAST_INFLUX_DATABASE', path: ['storage', 'influx', 'database'], type: 'string' },
  { name: 'FLOWCAST_INFLUX_ORG', path: ['storage', 'influx', 'org'], type: 'string' },
  { name: 'FLOWCAST_INFLUX_TOKEN', path: ['storage', 'influx', 'token'], type: 'string' },
  { name: 'FLOWCAST_INFLUX_USERNAME', path: ['storage', 'influx', 'username'], type: 'string' },
  { name: 'FLOWCAST_INFLUX_PASSWORD', path: ['storage', 'influx', 'password'], type: 'string' },
  { name: 'FLOWCAST_LOG_LEVEL', path: ['log', 'level'], type: 'string' },
  { name: 'FLOWCAST_LOG_FORMAT', path: ['log', 'format'], type: 'string' },
];

/** A configuration that cannot be used; the message names the key (or variable) and the reason. */
export class ConfigError extends Error {
  readonly code = 'FLOWCAST_CONFIG';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/**
 * Loads and validates the configuration. `file` may be undefined (defaults and environment only).
 * Throws ConfigError naming the offending key.
 */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  let raw: unknown = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      throw new ConfigError(`config file ${file} is not valid YAML/JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ConfigError(
        `config file ${file} must hold a mapping of sections (collector, http, storage, log)`,
      );
    }
  }
  const merged = structuredClone(raw) as Record<string, unknown>;
  for (const v of ENVIRONMENT) {
    const text = env[v.name];
    if (text === undefined || text === '') continue;
    let value: unknown = text;
    if (v.type === 'number') {
      value = Number(text);
      if (!Number.isFinite(value)) throw new ConfigError(`${v.name}: expected a number, got "${text}"`);
    }
    setPath(merged, v.path, value);
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((k) => `${[...issue.path, k].join('.')}: unknown key`);
      }
      const key = issue.path.join('.');
      const fromEnv = ENVIRONMENT.find((v) => v.path.join('.') === key && env[v.name]);
      const where = fromEnv ? `${key} (from ${fromEnv.name})` : key || '(top level)';
      return `${where}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}:\n  ${problems.join('\n  ')}`);
  }
  // The API listens where the collector does unless told otherwise (shown so by check-config).
  parsed.data.http.bind ??= parsed.data.collector.bind;
  return parsed.data;
}
