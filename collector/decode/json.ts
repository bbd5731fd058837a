/**
 * The JSON-lines form of decoded records (docs/schema.md, a contract for `flowcast decode`):
 * normalised keys present only when the exporter sent them, times as ISO-8601, counters above
 * 2^53 as exact JSON integers.
 */
import type { DecodedRecord, FieldValue } from './flow.js';
import { isoTime } from './read.js';

const FLOW_KEYS = [
  'exporter',
  'version',
  'observationDomainId',
  'templateId',
  'start',
  'end',
  'srcAddr',
  'dstAddr',
  'srcPort',
  'dstPort',
  'protocol',
  'tcpFlags',
  'tos',
  'bytes',
  'packets',
  'samplingRate',
  'inIf',
  'outIf',
  'srcAs',
  'dstAs',
  'nextHop',
  'direction',
  'vlan',
  'srcMac',
  'dstMac',
] as const;

function value(v: FieldValue | undefined): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && !Number.isFinite(v)) return 'null';
  return JSON.stringify(v);
}

function object(o: Record<string, FieldValue>): string {
  const parts: string[] = [];
  for (const k of Object.keys(o)) parts.push(`${JSON.stringify(k)}:${value(o[k])}`);
  return `{${parts.join(',')}}`;
}

/** One record as one line of JSON (no trailing newline). */
export function recordToJson(r: DecodedRecord): string {
  if (r.kind === 'options') {
    return `{"kind":"options","exporter":${JSON.stringify(r.exporter)},"version":${r.version},"observationDomainId":${r.observationDomainId},"templateId":${r.templateId},"scope":${object(r.scope)},"fields":${object(r.fields)}}`;
  }
  const parts: string[] = [];
  for (const k of FLOW_KEYS) {
    const v = r[k];
    if (v === undefined) continue;
    const text =
      (k === 'start' || k === 'end') && typeof v === 'number' ? JSON.stringify(isoTime(v)) : value(v);
    parts.push(`"${k}":${text}`);
  }
  const fields = r.fields;
  if (fields !== undefined && Object.keys(fields).length > 0) parts.push(`"fields":${object(fields)}`);
  return `{${parts.join(',')}}`;
}
