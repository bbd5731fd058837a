/**
 * NetFlow v9 (RFC 3954): header, template and options template flowsets; data flowsets are read
 * by the shared set walk. Templates are scoped by exporter address and Source ID.
 */
import type { DecodedRecord } from '../flow.js';
import { readU16, readU32 } from '../read.js';
import type { SetContext } from '../records.js';
import { type TemplateSetParser, walkSets } from '../sets.js';
import type { ExporterState, FlowState } from '../state.js';
import type { FieldSpec } from '../template.js';

export const V9_HEADER_LENGTH = 20;

/** Flowset 0 (templates) and 1 (options templates), RFC 3954 sections 5.2 and 6.1. */
const parseTemplates: TemplateSetParser = (ctx, setId, b, start, end, learn) => {
  const e = ctx.exporter;
  let p = start;
  if (setId === 0) {
    while (end - p >= 4) {
      const templateId = readU16(b, p);
      const fieldCount = readU16(b, p + 2);
      if (templateId === 0 && fieldCount === 0) break; // padding
      const recordEnd = p + 4 + fieldCount * 4;
      if (templateId < 256 || fieldCount === 0 || recordEnd > end) {
        e.counters.error('bad_template');
        return;
      }
      learn({ templateId, fields: readFields(b, p + 4, fieldCount), scopeCount: 0, options: false });
      p = recordEnd;
    }
    return;
  }
  while (end - p >= 6) {
    const templateId = readU16(b, p);
    const scopeLength = readU16(b, p + 2);
    const optionLength = readU16(b, p + 4);
    if (templateId === 0) break; // padding
    const recordEnd = p + 6 + scopeLength + optionLength;
    if (templateId < 256 || scopeLength % 4 !== 0 || optionLength % 4 !== 0 || recordEnd > end) {
      e.counters.error('bad_template');
      return;
    }
    const scopeCount = scopeLength / 4;
    const fields = readFields(b, p + 6, scopeCount + optionLength / 4);
    learn({ templateId, fields, scopeCount, options: true });
    p = recordEnd;
  }
};

function readFields(b: Uint8Array, at: number, count: number): FieldSpec[] {
  const fields: FieldSpec[] = new Array(count);
  for (let i = 0; i < count; i++) {
    fields[i] = { id: readU16(b, at + i * 4), length: readU16(b, at + i * 4 + 2), pen: 0 };
  }
  return fields;
}

const isTemplateSet = (setId: number): boolean => setId === 0 || setId === 1;

/** Decodes one v9 export packet; the caller has checked the version and counted the packet. */
export function decodeV9(
  state: FlowState,
  e: ExporterState,
  b: Uint8Array,
  now: number,
  out: DecodedRecord[],
): number {
  if (b.length < V9_HEADER_LENGTH) {
    e.counters.error('short_header');
    return 0;
  }
  const sysUptime = readU32(b, 4);
  const unixSecs = readU32(b, 8);
  const sequence = readU32(b, 12);
  const sourceId = readU32(b, 16);
  const domain = state.domain(e, `9/${sourceId}`, sourceId, 9);
  if (domain === undefined) return 0;
  const ctx: SetContext = {
    state,
    exporter: e,
    domain,
    header: { version: 9, exportMs: unixSecs * 1000, sysUptime },
    registry: state.registry,
    out,
    overran: false,
  };
  // v9 sequence numbers count export packets (RFC 3954 section 5.1).
  domain.observeUptime(sysUptime);
  domain.sequence.observe(sequence, 1);
  return walkSets(ctx, b, V9_HEADER_LENGTH, b.length, now, isTemplateSet, parseTemplates).records;
}
