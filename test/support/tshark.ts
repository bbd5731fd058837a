/**
 * Test support: tshark as an independent oracle for NetFlow v5/v9 and IPFIX decoding.
 *
 * {@link tsharkFlows} runs `tshark -T json --no-duplicate-keys` over a capture with the given UDP
 * ports decoded as `cflow` and returns one {@link TsharkRecord} per flow data record (template,
 * options-template and options data records are left out).
 *
 * What tshark 4.0 prints, and how it is normalised here:
 *
 * - Absolute times (`cflow.abstimestart`/`abstimeend` for flowStart/End{Seconds,Milliseconds,
 *   Microseconds,Nanoseconds,DeltaMicroseconds}, `cflow.sys_init_time`) are text like
 *   `Oct 21, 2022 11:07:58.660000000 UTC` (day space-padded: `Jan  1, 2024`). tshark runs with
 *   TZ=UTC and anything not ending in ` UTC` is rejected.
 * - Uptime-based times (v5 First/Last, v9 and IPFIX FIRST_SWITCHED/LAST_SWITCHED, IEs 22/21) are
 *   relative seconds since the exporter booted: `cflow.timestart`/`timeend`, e.g. `86400.660000000`.
 *   They are anchored to the epoch with the message header, as the protocols define:
 *   - v5: boot = `cflow.unix_secs` + `cflow.unix_nsecs` - `cflow.sysuptime`;
 *   - v9: boot = `cflow.unix_secs` - `cflow.sysuptime` (the v9 header has whole seconds only);
 *   - IPFIX: the header has no uptime, so boot = the last `cflow.sys_init_time`
 *     (systemInitTimeMilliseconds, IE 160, sent in options data) seen for the same observation
 *     domain in this or an earlier frame; without one, `start`/`end` stay undefined.
 *   No 32-bit uptime wrap-around is applied.
 * - Quirk (v9 and IPFIX; v5 is printed correctly): tshark chooses the relative form only when the
 *   raw uptime is non-zero; an uptime of 0 is printed as `cflow.abstimestart` =
 *   `Jan  1, 1970 00:00:00.000000000 UTC`. So absolute times
 *   count only when the record's template (looked up through `cflow.template_frame`) has absolute
 *   time elements; otherwise they are read as uptime 0.
 * - Quirk: tshark prints the times only when a record has both a start and an end field, and not
 *   at all for flowStartSeconds = flowEndSeconds = 0 (Telegraf's issue_14370 sample): such records
 *   get `start`/`end` undefined.
 * - A record with several time encodings (e.g. flowStartSeconds and flowStartMilliseconds) gets a
 *   start/end pair for each. Absolute times win over uptime-based ones, and of several absolute
 *   ones the latest is taken: coarser encodings truncate, so the latest is the most precise.
 * - Quirk: NetFlow v9 messages are decoded only up to the header's record count; exporters that
 *   leave templates out of the count (softflowd) have their trailing data flowsets silently
 *   ignored by tshark.
 * - Counters (`cflow.octets`, `cflow.packets`, `cflow.permanent_*`) are decimal text of up to 64
 *   bits; they are returned like {@link Counter}: a number while safe, a bigint above 2^53.
 * - Addresses: IPv6 is re-formatted with the collector's RFC 5952 formatter, so comparisons do not
 *   depend on tshark's text (which, in 4.0, is the same RFC 5952 form).
 * - Duplicate fields: IPFIX biflow records (RFC 5103) carry reverse elements under the same field
 *   name as the forward ones; `--no-duplicate-keys` turns them into arrays in template order and
 *   the typed properties take the first value (the forward one when, as usual, the template lists
 *   forward elements first). Every value is in {@link TsharkRecord.fields}.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { formatIPv6 } from '../../collector/decode/addr.js';
import type { Counter } from '../../collector/decode/flow.js';
import { parseIp, type UdpDatagramSpec, writeUdpPcap } from './pcap-writer.js';
import { findExecutable } from './tools.js';

const run = promisify(execFile);

let availability: boolean | undefined;

/** Whether tshark is installed and runs (`tshark --version` exits 0). Cached. */
export function tsharkAvailable(): boolean {
  if (availability === undefined) {
    const path = findExecutable('tshark');
    availability = path !== undefined && spawnSync(path, ['--version'], { stdio: 'ignore' }).status === 0;
  }
  return availability;
}

/** One flow data record as tshark decoded it. */
export interface TsharkRecord {
  /** Frame number in the capture, from 1. */
  frame: number;
  /** 5, 9 or 10. */
  version: number;
  /** v9 source ID or IPFIX observation domain ID; undefined for v5. */
  observationDomainId: number | undefined;
  /** The template of the data set; undefined for v5. */
  templateId: number | undefined;
  srcAddr: string | undefined;
  dstAddr: string | undefined;
  srcPort: number | undefined;
  dstPort: number | undefined;
  protocol: number | undefined;
  /** octetDeltaCount (IE 1, v5 dOctets). */
  bytes: Counter | undefined;
  /** packetDeltaCount (IE 2, v5 dPkts). */
  packets: Counter | undefined;
  /** octetTotalCount (IE 85). */
  totalBytes: Counter | undefined;
  /** packetTotalCount (IE 86). */
  totalPackets: Counter | undefined;
  /** Flow start, ms since the epoch (see the module comment for how it is derived). */
  start: number | undefined;
  /** Flow end, ms since the epoch. */
  end: number | undefined;
  /** Every `cflow.*` field of the record, flattened, as tshark printed it (in template order). */
  fields: Record<string, string[]>;
}

/**
 * Decodes `pcapPath` with tshark, treating UDP `ports` as NetFlow/IPFIX, and returns the flow data
 * records in frame and record order. Templates are carried across frames, as tshark does, so the
 * template datagrams must be in the same capture. Rejects when tshark fails.
 */
export async function tsharkFlows(pcapPath: string, ports: readonly number[]): Promise<TsharkRecord[]> {
  const args = ['-r', pcapPath, '-n', '-o', 'cflow.max_template_fields:0'];
  for (const port of ports) args.push('-d', `udp.port==${port},cflow`);
  args.push('-T', 'json', '--no-duplicate-keys', '-J', 'frame cflow');
  const { stdout } = await run(findExecutable('tshark') ?? 'tshark', args, {
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
    maxBuffer: 1 << 30,
  });
  return recordsFromJson(JSON.parse(stdout) as unknown);
}

type Json = string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a template (v9 or IPFIX) tells about the records that use it. */
interface TemplateInfo {
  options: boolean;
  /** Whether it has absolute start/end elements (IEs 150-159) rather than only uptime-based ones. */
  absoluteTimes: boolean;
}

/** The v5 "template": fixed uptime-based First/Last. */
const V5_TEMPLATE: TemplateInfo = { options: false, absoluteTimes: false };

/** Decoding state carried across frames, as tshark carries templates. */
interface DecodeState {
  /** Templates by `${defining frame}:${template ID}`, the way data sets refer to them. */
  templates: Map<string, TemplateInfo>;
  /** Last systemInitTimeMilliseconds (ms since the epoch) by IPFIX observation domain. */
  systemInitTimes: Map<number, number>;
  records: TsharkRecord[];
}

/** Turns tshark's `-T json` packet array into flow records. */
function recordsFromJson(packets: unknown): TsharkRecord[] {
  if (!Array.isArray(packets)) throw new Error('tshark -T json did not print an array');
  const state: DecodeState = { templates: new Map(), systemInitTimes: new Map(), records: [] };
  for (const packet of packets as Json[]) {
    const layers = isObject(packet) && isObject(packet['_source']) ? packet['_source']['layers'] : undefined;
    if (!isObject(layers)) continue;
    const frameLayer = layers['frame'];
    const frame = isObject(frameLayer) ? Number(first(frameLayer['frame.number'])) : Number.NaN;
    const cflowLayer = layers['cflow'];
    // Several NetFlow PDUs in one frame (TCP transport) give an array of layers.
    const messages = Array.isArray(cflowLayer) ? cflowLayer : cflowLayer === undefined ? [] : [cflowLayer];
    for (const message of messages) {
      if (isObject(message)) decodeMessage(message, frame, state);
    }
  }
  return state.records;
}

/** IEs 150-159: flowStart/End Seconds, Milliseconds, Microseconds, Nanoseconds, DeltaMicroseconds. */
function isAbsoluteTimeElement(type: string): boolean {
  const id = Number(type);
  return id >= 150 && id <= 159;
}

/** One NetFlow/IPFIX message: header fields, template sets and data sets. */
function decodeMessage(message: JsonObject, frame: number, state: DecodeState): void {
  const version = Number(first(message['cflow.version']));
  const header = flatten(message, false);
  const domainText = first(header.get(version === 10 ? 'cflow.od_id' : 'cflow.source_id'));
  const observationDomainId = domainText === undefined ? undefined : Number(domainText);

  // Template sets register their templates; data sets (those tshark found a template for) are
  // collected and classified once every template of the message is known.
  const dataSets: { templateId: number; template: TemplateInfo | undefined; records: JsonObject[] }[] = [];
  for (const [key, set] of Object.entries(message)) {
    if (!/^(FlowSet|Set) \d+ \[id=\d+\]/.test(key) || !isObject(set)) continue;
    for (const [childKey, child] of Object.entries(set)) {
      const template = /^(Options )?Template \(Id = (\d+)/.exec(childKey);
      if (!template || !isObject(child)) continue;
      const elements = flatten(child, true);
      const types = [
        ...(elements.get('cflow.template_field_type') ?? []),
        ...(elements.get('cflow.template_ipfix_field_type') ?? []),
      ];
      state.templates.set(`${frame}:${template[2]}`, {
        options: template[1] !== undefined,
        absoluteTimes: types.some(isAbsoluteTimeElement),
      });
    }
    const templateFrame = first(set['cflow.template_frame']);
    if (templateFrame === undefined) continue;
    const templateId = Number(first(set['cflow.flowset_id']));
    const records = Object.entries(set)
      .filter(([childKey, child]) => /^Flow \d+$/.test(childKey) && isObject(child))
      .map(([, child]) => child as JsonObject);
    dataSets.push({ templateId, template: state.templates.get(`${templateFrame}:${templateId}`), records });
  }

  // Options data: remember systemInitTimeMilliseconds for the IPFIX uptime-based times.
  for (const set of dataSets) {
    if (set.template?.options !== true || observationDomainId === undefined) continue;
    for (const record of set.records) {
      const initTime = first(flatten(record, true).get('cflow.sys_init_time'));
      if (initTime !== undefined) state.systemInitTimes.set(observationDomainId, parseAbsoluteTime(initTime));
    }
  }

  let bootTime: number | undefined;
  if (version === 5 || version === 9) {
    const seconds = first(header.get('cflow.unix_secs'));
    const nanoseconds = first(header.get('cflow.unix_nsecs')) ?? '0';
    const uptime = first(header.get('cflow.sysuptime'));
    if (seconds !== undefined && uptime !== undefined) {
      bootTime = Number(seconds) * 1000 + Number(nanoseconds) / 1e6 - parseRelativeTime(uptime);
    }
  } else if (observationDomainId !== undefined) {
    bootTime = state.systemInitTimes.get(observationDomainId);
  }

  const context = { frame, version, observationDomainId, bootTime };
  if (version === 5) {
    for (const [key, record] of Object.entries(message)) {
      if (/^pdu \d+\/\d+$/.test(key) && isObject(record)) {
        state.records.push(toRecord(record, undefined, V5_TEMPLATE, context));
      }
    }
    return;
  }
  for (const set of dataSets) {
    if (set.template === undefined || set.template.options) continue;
    for (const record of set.records) {
      state.records.push(toRecord(record, set.templateId, set.template, context));
    }
  }
}

interface MessageContext {
  frame: number;
  version: number;
  observationDomainId: number | undefined;
  /** Exporter boot time, ms since the epoch, for uptime-based times. */
  bootTime: number | undefined;
}

function toRecord(
  record: JsonObject,
  templateId: number | undefined,
  template: TemplateInfo,
  context: MessageContext,
): TsharkRecord {
  const fields = flatten(record, true);
  const text = (name: string): string | undefined => first(fields.get(name));
  const number = (name: string): number | undefined => {
    const value = text(name);
    return value === undefined ? undefined : Number(value);
  };
  const address = (v4: string, v6: string): string | undefined => {
    const value = text(v6);
    return value !== undefined ? formatIPv6(parseIp(value), 0) : text(v4);
  };
  const time = (relative: string, absolute: string): number | undefined => {
    const absolutes = (fields.get(absolute) ?? []).map(parseAbsoluteTime);
    const uptimes = (fields.get(relative) ?? []).map(parseRelativeTime);
    if (template.absoluteTimes && absolutes.length > 0) return Math.max(...absolutes);
    // Without absolute elements an absolute time can only be tshark's rendering of uptime 0.
    const uptime = uptimes[0] ?? (absolutes.length > 0 ? 0 : undefined);
    return uptime === undefined || context.bootTime === undefined ? undefined : context.bootTime + uptime;
  };
  const counter = (name: string): Counter | undefined => {
    const value = text(name);
    return value === undefined ? undefined : toCounter(value);
  };
  return {
    frame: context.frame,
    version: context.version,
    observationDomainId: context.observationDomainId,
    templateId,
    srcAddr: address('cflow.srcaddr', 'cflow.srcaddrv6'),
    dstAddr: address('cflow.dstaddr', 'cflow.dstaddrv6'),
    srcPort: number('cflow.srcport'),
    dstPort: number('cflow.dstport'),
    protocol: number('cflow.protocol'),
    bytes: counter('cflow.octets'),
    packets: counter('cflow.packets'),
    totalBytes: counter('cflow.permanent_octets'),
    totalPackets: counter('cflow.permanent_packets'),
    start: time('cflow.timestart', 'cflow.abstimestart'),
    end: time('cflow.timeend', 'cflow.abstimeend'),
    fields: Object.fromEntries(fields),
  };
}

/**
 * Collects the `cflow.*` string fields of `object`, descending into subtrees (`*_tree`, "Forwarding
 * Status", ...) when `deep`, but never into nested sets or records.
 */
function flatten(object: JsonObject, deep: boolean): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  const visit = (node: JsonObject): void => {
    for (const [key, value] of Object.entries(node)) {
      const values = Array.isArray(value) ? value : [value];
      for (const item of values) {
        if (typeof item === 'string') {
          if (key.startsWith('cflow.')) fields.set(key, [...(fields.get(key) ?? []), item]);
        } else if (isObject(item) && (deep || key.endsWith('_tree'))) {
          visit(item);
        }
      }
    }
  };
  visit(object);
  return fields;
}

function first(value: Json | string[] | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const item = value[0];
    return typeof item === 'string' ? item : undefined;
  }
  return undefined;
}

/** A decimal counter as a number while it is a safe integer, else a bigint. */
export function toCounter(text: string): Counter {
  const value = BigInt(text);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** tshark's absolute time text (`Oct 21, 2022 11:07:58.660000000 UTC`) as ms since the epoch. */
export function parseAbsoluteTime(text: string): number {
  const match = /^([A-Z][a-z]{2}) +(\d{1,2}), (\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? UTC$/.exec(
    text,
  );
  const month = match ? MONTHS.indexOf(match[1]!) : -1;
  if (!match || month < 0) throw new Error(`unexpected tshark absolute time: ${JSON.stringify(text)}`);
  const seconds = Date.UTC(
    Number(match[3]),
    month,
    Number(match[2]),
    Number(match[4]),
    Number(match[5]),
    Number(match[6]),
  );
  return seconds + Number((match[7] ?? '0').padEnd(9, '0')) / 1e6;
}

/** tshark's relative time text (`86400.660000000`, seconds) as milliseconds. */
export function parseRelativeTime(text: string): number {
  const match = /^(-?)(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (!match) throw new Error(`unexpected tshark relative time: ${JSON.stringify(text)}`);
  const ms = Number(match[2]) * 1000 + Number((match[3] ?? '0').padEnd(9, '0')) / 1e6;
  return match[1] ? -ms : ms;
}

/**
 * Writes datagrams as a capture for {@link tsharkFlows}. tshark stops reading a NetFlow v9 packet
 * at the header's record count, which some exporters (softflowd) set to the data records only,
 * leaving their templates out; the copies written here have the count raised so that tshark reads
 * every flowset. Give the collector the original datagrams.
 */
export async function writeTsharkCapture(path: string, datagrams: readonly UdpDatagramSpec[]): Promise<void> {
  await writeUdpPcap(
    path,
    datagrams.map((d) => {
      const payload = Uint8Array.from(d.payload);
      if (payload.length >= 4 && payload[0] === 0 && payload[1] === 9) payload.set([0xff, 0xff], 2);
      return { ...d, payload };
    }),
  );
}
