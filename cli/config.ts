/**
 * flowcast configuration: defaults in code, then the config file (YAML or JSON), then
 * FLOWCAST_* environment variables. Validated once at start-up: an unknown key or a bad value
 * stops start-up with a message that names the key and says what is wrong.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ABSTRACT_TYPES } from '../collector/ie/types.js';
import { detectionSchema } from './detection-config.js';

const port = z.number().int().min(0).max(65535);
const seconds = z.number().positive();

const exporterSchema = z.strictObject({
  /** Rate used when the exporter states none. */
  samplingRate: z.number().min(1).optional(),
  /** Rate used whatever the exporter states. */
  samplingOverride: z.number().min(1).optional(),
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
      /** Datagrams waiting for the decoder; beyond this they are dropped and counted. */
      queueSize: z.number().int().min(16).default(65_536),
      /** Socket receive buffer to ask the kernel for (bytes). */
      receiveBuffer: z
        .number()
        .int()
        .min(65_536)
        .default(8 * 1024 * 1024),
      templateLifetime: seconds.default(1800),
      maxTemplatesPerExporter: z.number().int().min(1).default(4096),
      maxExporters: z.number().int().min(1).default(10_000),
      /** How long data that arrived before its template waits for it. */
      pendingLifetime: seconds.default(60),
      pendingMaxSets: z.number().int().min(0).default(256),
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
      bind: z
        .string()
        .refine((s) => isIP(s) !== 0, 'must be an IPv4 or IPv6 address')
        .default('0.0.0.0'),
      port: port.default(8080),
      /** Bearer token the API requires; unset means no authentication. */
      apiToken: z.string().min(1).optional(),
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
      retentionDays: z.number().positive().default(30),
      /** InfluxDB: the most the on-disk spool of unwritten points may hold (MiB). */
      spoolMaxMegabytes: z.number().positive().default(256),
      /** Raw flow records in the `flows` measurement: off by default, one in `sampleOneIn` when on. */
      rawFlows: z
        .strictObject({
          enabled: z.boolean().default(false),
          sampleOneIn: z.number().int().min(1).default(100),
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
  /** Attack detection and alert sinks (docs/detection.md). */
  detection: detectionSchema,
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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
  { name: 'FLOWCAST_HTTP_PORT', path: ['http', 'port'], type: 'number' },
  { name: 'FLOWCAST_API_TOKEN', path: ['http', 'apiToken'], type: 'string' },
  { name: 'FLOWCAST_DATA_DIR', path: ['storage', 'dataDir'], type: 'string' },
  { name: 'FLOWCAST_ROLLUP_INTERVAL', path: ['storage', 'rollupInterval'], type: 'number' },
  { name: 'FLOWCAST_INFLUX_URL', path: ['storage', 'influx', 'url'], type: 'string' },
  { name: 'FLOWCAST_INFLUX_DATABASE', path: ['storage', 'influx', 'database'], type: 'string' },
  { name: 'FLOWCAST_INFLUX_ORG', path: ['storage', 'influx', 'org'], type: 'string' },
  { name: 'FLOWCAST_INFLUX_TOKEN', path: ['storage', 'influx', 'token'], type: 'string' },
  { name: 'FLOWCAST_INFLUX_USERNAME', path: ['storage', 'influx', 'username'], type: 'string' },
  { name: 'FLOWCAST_INFLUX_PASSWORD', path: ['storage', 'influx', 'password'], type: 'string' },
  { name: 'FLOWCAST_LOG_LEVEL', path: ['log', 'level'], type: 'string' },
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
  return parsed.data;
}
