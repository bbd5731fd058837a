/**
 * Regenerates iana.ts, the table of IANA's IPFIX information elements, from the iespec files of
 * python-ipfix (Debian package python3-ipfix) plus the hand-written CORRECTIONS and SUPPLEMENT below.
 *
 *   npx tsx collector/decode/ie/generate.ts [iespec-directory]   (default: the Debian install path)
 *
 * iana.iespec holds IANA's registry up to id 433 (without 291-293); rfc5103.iespec names the reverse
 * elements (PEN 29305). Every row is checked as it is read, so a changed or corrupt input stops the run
 * instead of producing a quietly different table.
 *
 * Ids IANA lists only as "Assigned for NetFlow v9 compatibility" (65-69, 97, 105-127) are left out:
 * RFC 3954 names none of them and exporters agree on no names for them either.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AbstractType, type IanaElement, isAbstractType, reverseElementName } from './types.js';

const DEFAULT_IESPEC_DIR = '/usr/lib/python3/dist-packages/ipfix';
const OUTPUT = new URL('./iana.ts', import.meta.url);
const REVERSE_PEN = 29305;
/** Line width of the project's formatter (biome.json), which the generated file must satisfy. */
const LINE_WIDTH = 110;
/** python-ipfix's length for variable-length types. */
const VARIABLE_LENGTH = 65535;

/** Encoded size of a full-width value (RFC 7011 section 6.1); types not listed are variable-length. */
const NATURAL_LENGTH: Partial<Record<AbstractType, number>> = {
  unsigned8: 1,
  unsigned16: 2,
  unsigned32: 4,
  unsigned64: 8,
  signed8: 1,
  signed16: 2,
  signed32: 4,
  signed64: 8,
  float32: 4,
  float64: 8,
  boolean: 1,
  macAddress: 6,
  dateTimeSeconds: 4,
  dateTimeMilliseconds: 8,
  dateTimeMicroseconds: 8,
  dateTimeNanoseconds: 8,
  ipv4Address: 4,
  ipv6Address: 16,
};

/** Renames IANA made after iana.iespec was captured; `was` is what the iespec must still say. */
const CORRECTIONS: readonly (IanaElement & { readonly was: string })[] = [
  { id: 278, was: 'connectionCountNew', name: 'newConnectionDeltaCount', type: 'unsigned32' },
];

/**
 * Elements iana.iespec lacks, written from IANA's registry (https://www.iana.org/assignments/ipfix/)
 * and checked against it entry by entry. `length` is given only where the registry fixes a size that
 * the abstract type does not imply.
 *
 * IANA types 515, 520 and 525 as unsigned256 (RFC 9740), which the decoders do not model: they are
 * bit sets, so they are typed octetArray here and keep their full 32-octet size.
 */
const SUPPLEMENT: readonly IanaElement[] = [
  // RFC 6313, structured data
  { id: 291, name: 'basicList', type: 'basicList' },
  { id: 292, name: 'subTemplateList', type: 'subTemplateList' },
  { id: 293, name: 'subTemplateMultiList', type: 'subTemplateMultiList' },
  // RFC 8038, MIB objects
  { id: 434, name: 'mibObjectValueInteger', type: 'signed32' },
  { id: 435, name: 'mibObjectValueOctetString', type: 'octetArray' },
  { id: 436, name: 'mibObjectValueOID', type: 'octetArray' },
  { id: 437, name: 'mibObjectValueBits', type: 'octetArray' },
  { id: 438, name: 'mibObjectValueIPAddress', type: 'ipv4Address' },
  { id: 439, name: 'mibObjectValueCounter', type: 'unsigned64' },
  { id: 440, name: 'mibObjectValueGauge', type: 'unsigned32' },
  { id: 441, name: 'mibObjectValueTimeTicks', type: 'unsigned32' },
  { id: 442, name: 'mibObjectValueUnsigned', type: 'unsigned32' },
  { id: 443, name: 'mibObjectValueTable', type: 'subTemplateList' },
  { id: 444, name: 'mibObjectValueRow', type: 'subTemplateList' },
  { id: 445, name: 'mibObjectIdentifier', type: 'octetArray' },
  { id: 446, name: 'mibSubIdentifier', type: 'unsigned32' },
  { id: 447, name: 'mibIndexIndicator', type: 'unsigned64' },
  { id: 448, name: 'mibCaptureTimeSemantics', type: 'unsigned8' },
  { id: 449, name: 'mibContextEngineID', type: 'octetArray' },
  { id: 450, name: 'mibContextName', type: 'string' },
  { id: 451, name: 'mibObjectName', type: 'string' },
  { id: 452, name: 'mibObjectDescription', type: 'string' },
  { id: 453, name: 'mibObjectSyntax', type: 'string' },
  { id: 454, name: 'mibModuleName', type: 'string' },
  // Mobile subscriber and HTTP (expert-review assignments), RFC 8045 port limit
  { id: 455, name: 'mobileIMSI', type: 'string' },
  { id: 456, name: 'mobileMSISDN', type: 'string' },
  { id: 457, name: 'httpStatusCode', type: 'unsigned16' },
  { id: 458, name: 'sourceTransportPortsLimit', type: 'unsigned16' },
  { id: 459, name: 'httpRequestMethod', type: 'string' },
  { id: 460, name: 'httpRequestHost', type: 'string' },
  { id: 461, name: 'httpRequestTarget', type: 'string' },
  { id: 462, name: 'httpMessageVersion', type: 'string' },
  // RFC 8158, NAT logging
  { id: 463, name: 'natInstanceID', type: 'unsigned32' },
  { id: 464, name: 'internalAddressRealm', type: 'octetArray' },
  { id: 465, name: 'externalAddressRealm', type: 'octetArray' },
  { id: 466, name: 'natQuotaExceededEvent', type: 'unsigned32' },
  { id: 467, name: 'natThresholdEvent', type: 'unsigned32' },
  { id: 468, name: 'httpUserAgent', type: 'string' },
  { id: 469, name: 'httpContentType', type: 'string' },
  { id: 470, name: 'httpReasonPhrase', type: 'string' },
  { id: 471, name: 'maxSessionEntries', type: 'unsigned32' },
  { id: 472, name: 'maxBIBEntries', type: 'unsigned32' },
  { id: 473, name: 'maxEntriesPerUser', type: 'unsigned32' },
  { id: 474, name: 'maxSubscribers', type: 'unsigned32' },
  { id: 475, name: 'maxFragmentsPendingReassembly', type: 'unsigned32' },
  { id: 476, name: 'addressPoolHighThreshold', type: 'unsigned32' },
  { id: 477, name: 'addressPoolLowThreshold', type: 'unsigned32' },
  { id: 478, name: 'addressPortMappingHighThreshold', type: 'unsigned32' },
  { id: 479, name: 'addressPortMappingLowThreshold', type: 'unsigned32' },
  { id: 480, name: 'addressPortMappingPerUserHighThreshold', type: 'unsigned32' },
  { id: 481, name: 'globalAddressMappingHighThreshold', type: 'unsigned32' },
  // VPN id (RFC 2685 format, 7 octets); RFC 8549, BGP communities (8- and 12-octet values)
  { id: 482, name: 'vpnIdentifier', type: 'octetArray', length: 7 },
  { id: 483, name: 'bgpCommunity', type: 'unsigned32' },
  { id: 484, name: 'bgpSourceCommunityList', type: 'basicList' },
  { id: 485, name: 'bgpDestinationCommunityList', type: 'basicList' },
  { id: 486, name: 'bgpExtendedCommunity', type: 'octetArray', length: 8 },
  { id: 487, name: 'bgpSourceExtendedCommunityList', type: 'basicList' },
  { id: 488, name: 'bgpDestinationExtendedCommunityList', type: 'basicList' },
  { id: 489, name: 'bgpLargeCommunity', type: 'octetArray', length: 12 },
  { id: 490, name: 'bgpSourceLargeCommunityList', type: 'basicList' },
  { id: 491, name: 'bgpDestinationLargeCommunityList', type: 'basicList' },
  // RFC 9487, SRv6 segment routing header
  { id: 492, name: 'srhFlagsIPv6', type: 'unsigned8' },
  { id: 493, name: 'srhTagIPv6', type: 'unsigned16' },
  { id: 494, name: 'srhSegmentIPv6', type: 'ipv6Address' },
  { id: 495, name: 'srhActiveSegmentIPv6', type: 'ipv6Address' },
  { id: 496, name: 'srhSegmentIPv6BasicList', type: 'basicList' },
  { id: 497, name: 'srhSegmentIPv6ListSection', type: 'octetArray' },
  { id: 498, name: 'srhSegmentsIPv6Left', type: 'unsigned8' },
  { id: 499, name: 'srhIPv6Section', type: 'octetArray' },
  { id: 500, name: 'srhIPv6ActiveSegmentType', type: 'unsigned8' },
  { id: 501, name: 'srhSegmentIPv6LocatorLength', type: 'unsigned8' },
  { id: 502, name: 'srhSegmentIPv6EndpointBehavior', type: 'unsigned16' },
  // Transport checksum and ICMP header section (expert review)
  { id: 503, name: 'transportChecksum', type: 'unsigned16' },
  { id: 504, name: 'icmpHeaderPacketSection', type: 'octetArray' },
  // GTP-U (draft-voyersriram-opsawg-ipfix-gtpu)
  { id: 505, name: 'gtpuFlags', type: 'unsigned8' },
  { id: 506, name: 'gtpuMsgType', type: 'unsigned8' },
  { id: 507, name: 'gtpuTEid', type: 'unsigned32' },
  { id: 508, name: 'gtpuSequenceNum', type: 'unsigned16' },
  { id: 509, name: 'gtpuQFI', type: 'unsigned8' },
  { id: 510, name: 'gtpuPduType', type: 'unsigned8' },
  // BGP AS paths (expert review)
  { id: 511, name: 'bgpSourceAsPathList', type: 'basicList' },
  { id: 512, name: 'bgpDestinationAsPathList', type: 'basicList' },
  // RFC 9740, IPv6 extension headers and TCP options
  { id: 513, name: 'ipv6ExtensionHeaderType', type: 'unsigned8' },
  { id: 514, name: 'ipv6ExtensionHeaderCount', type: 'unsigned8' },
  { id: 515, name: 'ipv6ExtensionHeadersFull', type: 'octetArray', length: 32 },
  { id: 516, name: 'ipv6ExtensionHeaderTypeCountList', type: 'subTemplateList' },
  { id: 517, name: 'ipv6ExtensionHeadersLimit', type: 'boolean' },
  { id: 518, name: 'ipv6ExtensionHeadersChainLength', type: 'unsigned32' },
  { id: 519, name: 'ipv6ExtensionHeaderChainLengthList', type: 'subTemplateList' },
  { id: 520, name: 'tcpOptionsFull', type: 'octetArray', length: 32 },
  { id: 521, name: 'tcpSharedOptionExID16', type: 'unsigned16' },
  { id: 522, name: 'tcpSharedOptionExID32', type: 'unsigned32' },
  { id: 523, name: 'tcpSharedOptionExID16List', type: 'basicList' },
  { id: 524, name: 'tcpSharedOptionExID32List', type: 'basicList' },
  // UDP options (draft-ietf-opsawg-tsvwg-udp-ipfix)
  { id: 525, name: 'udpSafeOptions', type: 'octetArray', length: 32 },
  { id: 526, name: 'udpUnsafeOptions', type: 'unsigned64' },
  { id: 527, name: 'udpExID', type: 'unsigned16' },
  { id: 528, name: 'udpSafeExIDList', type: 'basicList' },
  { id: 529, name: 'udpUnsafeExIDList', type: 'basicList' },
  // RFC 9951, on-path delay
  { id: 530, name: 'pathDelayMeanDeltaMicroseconds', type: 'unsigned32' },
  { id: 531, name: 'pathDelayMinDeltaMicroseconds', type: 'unsigned32' },
  { id: 532, name: 'pathDelayMaxDeltaMicroseconds', type: 'unsigned32' },
  { id: 533, name: 'pathDelaySumDeltaMicroseconds', type: 'unsigned64' },
];

interface IespecRow {
  readonly pen: number;
  readonly id: number;
  readonly name: string;
  readonly type: AbstractType;
}

/** Lines look like `octetDeltaCount(1)<unsigned64>[8]`, or `name(29305/1)<...>[...]` with a PEN. */
const IESPEC_LINE = /^(\w+)\((?:(\d+)\/)?(\d+)\)<(\w+)>\[(\d+)\]$/;

function parseIespec(path: string): IespecRow[] {
  const rows: IespecRow[] = [];
  for (const [index, raw] of readFileSync(path, 'utf8').split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const where = `${path}:${index + 1}`;
    const match = IESPEC_LINE.exec(line);
    if (!match) throw new Error(`${where}: unrecognised line ${JSON.stringify(line)}`);
    const [, name = '', pen = '0', id = '', type = '', length = ''] = match;
    if (!isAbstractType(type)) throw new Error(`${where}: unknown abstract type ${type}`);
    // The iespec length carries no information beyond the type; checking it catches a changed format.
    const expected = NATURAL_LENGTH[type] ?? VARIABLE_LENGTH;
    if (Number(length) !== expected) throw new Error(`${where}: length ${length}, expected ${expected}`);
    rows.push({ pen: Number(pen), id: Number(id), name, type });
  }
  return rows;
}

function buildElements(iespec: readonly IespecRow[]): IanaElement[] {
  const byId = new Map<number, IanaElement>();
  for (const row of iespec) {
    if (row.pen !== 0) throw new Error(`iana.iespec: ${row.name} has PEN ${row.pen}`);
    if (byId.has(row.id)) throw new Error(`iana.iespec: id ${row.id} appears twice`);
    byId.set(row.id, withLength({ id: row.id, name: row.name, type: row.type }));
  }
  for (const { was, ...element } of CORRECTIONS) {
    const current = byId.get(element.id);
    if (current?.name !== was) {
      throw new Error(`correction for ${element.id} expects ${was}, iespec has ${current?.name}`);
    }
    byId.set(element.id, withLength(element));
  }
  for (const element of SUPPLEMENT) {
    const clash = byId.get(element.id);
    if (clash) throw new Error(`supplement id ${element.id} is already ${clash.name}`);
    byId.set(element.id, withLength(element));
  }
  const elements = [...byId.values()].sort((a, b) => a.id - b.id);
  const names = new Set(elements.map((element) => element.name));
  if (names.size !== elements.length) throw new Error('two elements share a name');
  return elements;
}

function withLength(element: IanaElement): IanaElement {
  const length = element.length ?? NATURAL_LENGTH[element.type];
  return length === undefined ? element : { ...element, length };
}

/** Ids of the reverse elements, each checked to be `reverse` + the forward name with the same type. */
function reversibleIds(reverse: readonly IespecRow[], forward: readonly IespecRow[]): number[] {
  const forwardById = new Map(forward.map((row) => [row.id, row]));
  return reverse
    .map((row) => {
      const base = forwardById.get(row.id);
      if (
        row.pen !== REVERSE_PEN ||
        !base ||
        row.name !== reverseElementName(base.name) ||
        row.type !== base.type
      ) {
        throw new Error(`rfc5103.iespec: ${row.name}(${row.pen}/${row.id}) does not mirror an IANA element`);
      }
      return row.id;
    })
    .sort((a, b) => a - b);
}

/** Lays items out as the formatter does for a long array of numbers: as many per line as fit. */
function fill(items: readonly string[]): string[] {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    const next = line === '' ? `  ${item},` : `${line} ${item},`;
    if (next.length > LINE_WIDTH && line !== '') {
      lines.push(line);
      line = `  ${item},`;
    } else {
      line = next;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

function render(elements: readonly IanaElement[], reversible: readonly number[]): string {
  const rows = elements.map(({ id, name, type, length }) => {
    const size = length === undefined ? '' : `, length: ${length}`;
    return `  { id: ${id}, name: '${name}', type: '${type}'${size} },`;
  });
  return `/**
 * IANA's IPFIX information elements (PEN 0), which NetFlow v9 field types 1-127 share (RFC 7012 section 4).
 *
 * GENERATED by collector/decode/ie/generate.ts; do not edit. Regenerate with \`npx tsx collector/decode/ie/generate.ts\`.
 *
 * Sources: iana.iespec and rfc5103.iespec from Debian's python3-ipfix (/usr/lib/python3/dist-packages/ipfix),
 * whose tables are taken from IANA's "IP Flow Information Export (IPFIX) Entities" registry,
 * https://www.iana.org/assignments/ipfix/ (ipfix.txt), and used under IANA's terms: attribution with
 * this URL, use in context, no implied ICANN endorsement. Ids 291-293 and 434 onwards, and renames made
 * since, come from the supplement in generate.ts, written from the same registry. IANA types 515, 520 and
 * 525 unsigned256 (RFC 9740); they appear here as 32-octet octetArray bit sets.
 */

import type { IanaElement } from './types.js';

/** Every named element, ascending by id; \`length\` is the full-width encoded size where fixed. */
export const IANA_ELEMENTS: readonly IanaElement[] = [
${rows.join('\n')}
];

/** Ids whose reverse element (PEN 29305, \`reverse\` + capitalised name, RFC 5103) rfc5103.iespec defines. */
export const REVERSIBLE_IDS: readonly number[] = [
${fill(reversible.map(String)).join('\n')}
];
`;
}

const sourceDir = process.argv[2] ?? DEFAULT_IESPEC_DIR;
const forward = parseIespec(join(sourceDir, 'iana.iespec'));
const reverse = parseIespec(join(sourceDir, 'rfc5103.iespec'));
const elements = buildElements(forward);
writeFileSync(OUTPUT, render(elements, reversibleIds(reverse, forward)));
console.log(`wrote ${elements.length} elements to ${OUTPUT.pathname}`);
