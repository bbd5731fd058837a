/**
 * The set walk shared by NetFlow v9 and IPFIX: split a message into sets, hand template sets to
 * the version's template parser, decode data sets against their template, and keep data whose
 * template has not arrived yet until it does.
 */

import type { DecodedRecord } from './flow.js';
import { readU16 } from './read.js';
import { decodeDataSet, recordsEnd, type SetContext } from './records.js';
import type { ExporterState, FlowState } from './state.js';
import type { TemplateSpec } from './template.js';

/**
 * Buffered records one template may release within the datagram that brought it; the rest is
 * decoded by `releasePending` in later turns, a bounded number of records at a time. One MiB
 * released at once made 1,048,240 records in one call (911 ms, +290 MB).
 */
export const RELEASE_PER_DATAGRAM = 4096;

/** Parses the template records of one template set; `learn` is called for each valid one. */
export type TemplateSetParser = (
  ctx: SetContext,
  setId: number,
  b: Uint8Array,
  start: number,
  end: number,
  learn: (spec: TemplateSpec) => void,
) => void;

export interface SetWalkResult {
  /** Data records decoded, options records included. */
  records: number;
  /** False when a data set could not be counted (no template, or an overrun record). */
  countKnown: boolean;
}

function allZero(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Walks the sets of `b[start..end)`. Set ids below `firstDataSetId` other than the template ids go
 * to `parseTemplates`; reserved ids are counted and skipped. Trailing zero bytes (some devices pad
 * datagrams) end the walk quietly; any other malformed set length is counted.
 */
export function walkSets(
  ctx: SetContext,
  b: Uint8Array,
  start: number,
  end: number,
  now: number,
  isTemplateSet: (setId: number) => boolean,
  parseTemplates: TemplateSetParser,
): SetWalkResult {
  const { state, exporter: e, domain: d } = ctx;
  let records = 0;
  let countKnown = true;
  let off = start;
  // Made only for a message that carries templates: most carry data alone. Made per datagram it
  // was 0.9 % of the decode worker's profile (tsx's `__name` wrapper, as `flowcast serve` runs
  // under tsx too); bench/pipeline.bench.ts `worker` went from a median of 0.77 M to 0.87 M records
  // per CPU second (x1.13, x0.99 to x1.28 over 4 interleaved pairs at load 1.6-2.2: mostly noise,
  // the closure's own share is about 1 %).
  let learn: ((spec: TemplateSpec) => void) | undefined;
  while (off < end) {
    if (end - off < 4) {
      if (!allZero(b, off, end)) e.counters.error('bad_set_length');
      break;
    }
    const setId = readU16(b, off);
    const setLength = readU16(b, off + 2);
    if (setLength < 4) {
      if (!allZero(b, off, end)) e.counters.error('bad_set_length');
      break;
    }
    // A set that overruns the message is counted, and the whole records inside the message are
    // still read: they are intact, and dropping them would lose flows (seen from real exporters
    // whose message length is short by a few bytes).
    const overruns = off + setLength > end;
    if (overruns) e.counters.error('bad_set_length');
    const body = off + 4;
    const setEnd = overruns ? end : off + setLength;
    if (isTemplateSet(setId)) {
      learn ??= (spec: TemplateSpec): void => {
        const t = state.learn(e, d, spec, now);
        if (t === undefined || e.pending.length === 0) return;
        state.releasable.add(e);
        // Records released here are counted with the datagram's own by decodeDatagram.
        releaseExporter(state, e, now, ctx.out, RELEASE_PER_DATAGRAM, false);
      };
      parseTemplates(ctx, setId, b, body, setEnd, learn);
    } else if (setId >= 256) {
      const t = state.template(e, d, setId, now);
      if (t === undefined) {
        e.counters.missingTemplates++;
        countKnown = false;
        state.buffer(e, {
          domainKey: d.key,
          templateId: setId,
          bytes: b.slice(body, setEnd),
          header: ctx.header,
          receivedAt: now,
          offset: 0,
        });
      } else {
        ctx.overran = false;
        records += decodeDataSet(ctx, t, b, body, setEnd);
        if (ctx.overran) countKnown = false;
      }
    } else {
      e.counters.error('bad_set_id');
    }
    if (overruns) break;
    off = setEnd;
  }
  return { records, countKnown };
}

/**
 * Decodes buffered data whose template has arrived, at most about `maxRecords` records (a set is
 * cut between records, and resumes there next time), appending them to `out` and counting them on
 * their exporters as `decodeDatagram` counts its own. Exporters with nothing more to release leave
 * `state.releasable`. Returns the records decoded.
 */
export function releasePending(
  state: FlowState,
  now: number,
  out: DecodedRecord[],
  maxRecords: number,
): number {
  let total = 0;
  for (const e of [...state.releasable]) {
    if (total >= maxRecords) break;
    total += releaseExporter(state, e, now, out, maxRecords - total, true);
  }
  return total;
}

/** `releasePending` for one exporter; `count` false when the caller counts the records itself. */
function releaseExporter(
  state: FlowState,
  e: ExporterState,
  now: number,
  out: DecodedRecord[],
  maxRecords: number,
  count: boolean,
): number {
  let total = 0;
  let kept = 0;
  let more = false;
  const pending = e.pending;
  for (const p of pending) {
    const d = e.domains.get(p.domainKey);
    const t = d === undefined ? undefined : state.template(e, d, p.templateId, now);
    if (d === undefined || t === undefined) {
      pending[kept++] = p;
      continue;
    }
    if (total >= maxRecords) {
      more = true;
      pending[kept++] = p;
      continue;
    }
    const end = p.bytes.length;
    const cut = recordsEnd(t, p.bytes, p.offset, end, maxRecords - total);
    const before = out.length;
    const ctx: SetContext = {
      state,
      exporter: e,
      domain: d,
      header: p.header,
      registry: state.registry,
      out,
      overran: false,
    };
    decodeDataSet(ctx, t, p.bytes, p.offset, cut);
    const decoded = out.length - before;
    total += decoded;
    if (count) {
      let flows = 0;
      for (let i = before; i < out.length; i++) if (out[i]!.kind === 'flow') flows++;
      e.counters.records += flows;
      e.counters.optionsRecords += decoded - flows;
      e.counters.version(p.header.version).records += flows;
      if (flows > 0) state.proven(e);
    }
    if (cut < end && !ctx.overran) {
      p.offset = cut;
      pending[kept++] = p;
      more = true;
    } else {
      state.unbuffer(e, p);
      e.counters.pendingDecoded++;
    }
  }
  pending.length = kept;
  if (!more) state.releasable.delete(e);
  return total;
}
