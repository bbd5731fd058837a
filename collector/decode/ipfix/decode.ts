/**
 * IPFIX (RFC 7011): message header, template and options template sets with enterprise elements,
 * and template withdrawal; data sets are read by the shared set walk. Templates are scoped by
 * transport session (exporter address and port) and observation domain.
 */
import type { DecodedRecord } from '../flow.js';
import { readU16, readU32 } from '../read.js';
import type { SetContext } from '../records.js';
import { type TemplateSetParser, walkSets } from '../sets.js';
import type { ExporterState, FlowState } from '../state.js';
import type { FieldSpec } from '../template.js';

export const IPFIX_HEADER_LENGTH = 16;
const TEMPLATE_SET = 2;
const OPTIONS_TEMPLATE_SET = 3;

/**
 * Reads `count` field specifiers from `at` (RFC 7011 section 3.2): the enterprise bit adds a 4-byte
 * PEN. Returns the fields and the end offset, or undefined when they overrun `end`.
 */
function readFields(
  b: Uint8Array,
  at: number,
  count: number,
  end: number,
): { fields: FieldSpec[]; end: number } | undefined {
  const fields: FieldSpec[] = [];
  let p = at;
  for (let i = 0; i < count; i++) {
    if (p + 4 > end) return undefined;
    const raw = readU16(b, p);
    const length = readU16(b, p + 2);
    if (raw & 0x8000) {
      if (p + 8 > end) return undefined;
      fields.push({ id: raw & 0x7fff, length, pen: readU32(b, p + 4) });
      p += 8;
    } else {
      fields.push({ id: raw, length, pen: 0 });
      p += 4;
    }
  }
  return { fields, end: p };
}

/** Template sets (2) and options template sets (3), RFC 7011 sections 3.4.1, 3.4.2 and 8.1. */
const parseTemplates: TemplateSetParser = (ctx, setId, b, start, end, learn) => {
  const { exporter: e, domain: d } = ctx;
  const options = setId === OPTIONS_TEMPLATE_SET;
  let p = start;
  while (end - p >= 4) {
    const templateId = readU16(b, p);
    const fieldCount = readU16(b, p + 2);
    if (fieldCount === 0) {
      // Withdrawal: a template id, or the set id itself for "all templates of this kind".
      if (templateId === 0) break; // padding
      if (templateId === setId) ctx.state.withdraw(e, d, undefined, options);
      else if (templateId >= 256) ctx.state.withdraw(e, d, templateId, options);
      else e.counters.error('bad_template');
      p += 4;
      continue;
    }
    let scopeCount = 0;
    let fieldsAt = p + 4;
    if (options) {
      if (end - p < 6) break;
      scopeCount = readU16(b, p + 4);
      fieldsAt = p + 6;
    }
    const parsed = readFields(b, fieldsAt, fieldCount, end);
    if (
      templateId < 256 ||
      parsed === undefined ||
      (options && (scopeCount === 0 || scopeCount > fieldCount))
    ) {
      e.counters.error('bad_template');
      return;
    }
    learn({ templateId, fields: parsed.fields, scopeCount, options });
    p = parsed.end;
  }
};

const isTemplateSet = (setId: number): boolean => setId === TEMPLATE_SET || setId === OPTIONS_TEMPLATE_SET;

/**
 * Decodes one IPFIX message; the caller has checked the version and counted the packet. `port` is
 * the exporter's source port: part of the transport session that scopes templates.
 */
export function decodeIpfix(
  state: FlowState,
  e: ExporterState,
  port: number,
  b: Uint8Array,
  now: number,
  out: DecodedRecord[],
): number {
  if (b.length < IPFIX_HEADER_LENGTH) {
    e.counters.error('short_header');
    return 0;
  }
  const length = readU16(b, 2);
  if (length < IPFIX_HEADER_LENGTH || length > b.length) {
    e.counters.error('bad_length');
    return 0;
  }
  const exportTime = readU32(b, 4);
  const sequence = readU32(b, 8);
  const domainId = readU32(b, 12);
  const domain = state.domain(e, `10/${port}/${domainId}`, domainId, 10);
  if (domain === undefined) return 0;
  const ctx: SetContext = {
    state,
    exporter: e,
    domain,
    header: { version: 10, exportMs: exportTime * 1000, sysUptime: -1 },
    registry: state.registry,
    out,
    overran: false,
  };
  const result = walkSets(ctx, b, IPFIX_HEADER_LENGTH, length, now, isTemplateSet, parseTemplates);
  // IPFIX sequence numbers count data records (RFC 7011 section 3.1); when a set could not be
  // counted, the next message's number cannot be checked against this one.
  if (result.countKnown) domain.sequence.observe(sequence, result.records);
  else domain.sequence.resync();
  return result.records;
}
