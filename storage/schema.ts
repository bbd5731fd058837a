/**
 * The storage schema of docs/schema.md (a contract): every measurement, its tags, and the type of
 * each of its fields. Both adapters use it: the InfluxDB one to pick a line-protocol type per field
 * (a field's type is fixed forever once InfluxDB has seen it, so it must never depend on the value),
 * the embedded one to pick column types.
 */
import type { StoredValue } from './store.js';

/** How a field is stored: an `i` integer (never `u`), a float, a quoted string or a boolean. */
export type FieldType = 'integer' | 'float' | 'string' | 'boolean';

/** One measurement: its tag keys and the type of each field it is known to carry. */
export interface MeasurementSchema {
  readonly tags: readonly string[];
  readonly fields: Readonly<Record<string, FieldType>>;
}

const COUNTS = { bytes: 'integer', packets: 'integer', flows: 'integer' } as const;

/** The measurements of docs/schema.md, by name. */
export const SCHEMA = {
  traffic: { tags: ['exporter', 'ifIndex', 'ifName', 'direction'], fields: COUNTS },
  traffic_protocol: { tags: ['exporter', 'protocol', 'service'], fields: COUNTS },
  top_talkers: {
    tags: ['exporter', 'side', 'rank'],
    fields: { addr: 'string', bytes: 'integer', packets: 'integer' },
  },
  // Optional sampled flow records: the numeric keys of docs/schema.md are integers, addresses strings.
  flows: {
    tags: ['exporter', 'protocol'],
    fields: {
      srcAddr: 'string',
      dstAddr: 'string',
      nextHop: 'string',
      srcMac: 'string',
      dstMac: 'string',
      srcPort: 'integer',
      dstPort: 'integer',
      bytes: 'integer',
      packets: 'integer',
      tcpFlags: 'integer',
      tos: 'integer',
      srcAs: 'integer',
      dstAs: 'integer',
      inIf: 'integer',
      outIf: 'integer',
      vlan: 'integer',
      samplingRate: 'integer',
    },
  },
  collector: {
    tags: ['exporter', 'version'],
    fields: {
      packets: 'integer',
      records: 'integer',
      decodeErrors: 'integer',
      missingTemplates: 'integer',
      sequenceGaps: 'integer',
      dropped: 'integer',
    },
  },
  forecast: {
    tags: ['series', 'model'],
    /** `lower`/`upper`: the 95 % band; `lower80`/`upper80`: the 80 % band. */
    fields: {
      yhat: 'float',
      lower: 'float',
      upper: 'float',
      lower80: 'float',
      upper80: 'float',
      chosenModel: 'string',
    },
  },
  capacity: {
    tags: ['exporter', 'ifIndex', 'direction'],
    fields: {
      capacityBps: 'float',
      p95Bps: 'float',
      trendBpsPerDay: 'float',
      daysToThreshold: 'float',
      /** The planning threshold the row was computed with, as a fraction of capacity. */
      threshold: 'float',
      /** Within 30 days (`probCongested30d`, kept under its first name too) and within 7 days. */
      probCongested: 'float',
      probCongested30d: 'float',
      probCongested7d: 'float',
      note: 'string',
    },
  },
  anomaly: {
    tags: ['kind', 'exporter', 'series'],
    fields: {
      score: 'float',
      value: 'float',
      expected: 'float',
      message: 'string',
      subject: 'string',
      /** Episode state: `start`, `update` or `end` (one episode, not one point per tick). */
      state: 'string',
    },
  },
} as const satisfies Record<string, MeasurementSchema>;

/** The name of a measurement of docs/schema.md. */
export type MeasurementName = keyof typeof SCHEMA;

/** Whether `name` is a measurement of docs/schema.md. */
export function isMeasurement(name: string): name is MeasurementName {
  return Object.hasOwn(SCHEMA, name);
}

/**
 * The stored type of `field` in `measurement`: the schema's when it names the field; otherwise
 * (a field outside section 4, such as an extra flow key) from the value's JavaScript type, where a
 * `number` is a float because an integer-looking float must not fix the field as an integer.
 */
export function fieldType(measurement: string, field: string, value: StoredValue): FieldType {
  if (isMeasurement(measurement)) {
    const fields: Readonly<Record<string, FieldType>> = SCHEMA[measurement].fields;
    const declared = fields[field];
    if (declared !== undefined) return declared;
  }
  switch (typeof value) {
    case 'bigint':
      return 'integer';
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    default:
      return 'float';
  }
}
