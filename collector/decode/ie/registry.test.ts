/**
 * Tests of the information-element table and registry. Expected names and types are written out here
 * from RFC 7012 / RFC 6313 / RFC 5103 and IANA's registry, not read back from the table under test.
 */

import { describe, expect, it } from 'vitest';
import { IANA_ELEMENTS } from './iana.js';
import { ElementRegistry, NTOP_ELEMENTS, NTOP_PEN, REVERSE_PEN } from './registry.js';

/** RFC 7012 section 3.1 plus RFC 6313's structured types, spelled as IANA spells them. */
const ALLOWED_TYPES = new Set([
  'unsigned8',
  'unsigned16',
  'unsigned32',
  'unsigned64',
  'signed8',
  'signed16',
  'signed32',
  'signed64',
  'float32',
  'float64',
  'boolean',
  'macAddress',
  'octetArray',
  'string',
  'dateTimeSeconds',
  'dateTimeMilliseconds',
  'dateTimeMicroseconds',
  'dateTimeNanoseconds',
  'ipv4Address',
  'ipv6Address',
  'basicList',
  'subTemplateList',
  'subTemplateMultiList',
]);

const registry = new ElementRegistry();

describe('IANA elements', () => {
  it.each([
    [1, 'octetDeltaCount', 'unsigned64'],
    [2, 'packetDeltaCount', 'unsigned64'],
    [4, 'protocolIdentifier', 'unsigned8'],
    [7, 'sourceTransportPort', 'unsigned16'],
    [8, 'sourceIPv4Address', 'ipv4Address'],
    [27, 'sourceIPv6Address', 'ipv6Address'],
    [56, 'sourceMacAddress', 'macAddress'],
    [82, 'interfaceName', 'string'],
    [150, 'flowStartSeconds', 'dateTimeSeconds'],
    [152, 'flowStartMilliseconds', 'dateTimeMilliseconds'],
    [154, 'flowStartMicroseconds', 'dateTimeMicroseconds'],
    [156, 'flowStartNanoseconds', 'dateTimeNanoseconds'],
    [278, 'newConnectionDeltaCount', 'unsigned32'],
    [291, 'basicList', 'basicList'],
    [292, 'subTemplateList', 'subTemplateList'],
    [293, 'subTemplateMultiList', 'subTemplateMultiList'],
    [313, 'ipHeaderPacketSection', 'octetArray'],
    [434, 'mibObjectValueInteger', 'signed32'],
    [483, 'bgpCommunity', 'unsigned32'],
    [496, 'srhSegmentIPv6BasicList', 'basicList'],
    [507, 'gtpuTEid', 'unsigned32'],
    [529, 'udpUnsafeExIDList', 'basicList'],
  ])('names id %i %s, typed %s', (id, name, type) => {
    expect(registry.lookup(0, id)).toEqual({ name, type });
    expect(registry.nameOf(0, id)).toBe(name);
  });

  it('covers the whole registry, not a hand-picked few', () => {
    expect(IANA_ELEMENTS.length).toBeGreaterThan(450);
  });

  it('lists each id and each name once, in ascending id order', () => {
    const ids = IANA_ELEMENTS.map((element) => element.id);
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    expect(new Set(IANA_ELEMENTS.map((element) => element.name)).size).toBe(IANA_ELEMENTS.length);
  });

  it('uses only abstract data types of RFC 7012 and RFC 6313', () => {
    const unknown = IANA_ELEMENTS.filter((element) => !ALLOWED_TYPES.has(element.type));
    expect(unknown).toEqual([]);
  });

  it('gives full-width lengths of fixed-size types and none for variable-length ones', () => {
    const byId = new Map(IANA_ELEMENTS.map((element) => [element.id, element]));
    expect(byId.get(1)?.length).toBe(8);
    expect(byId.get(27)?.length).toBe(16);
    expect(byId.get(56)?.length).toBe(6);
    expect(byId.get(150)?.length).toBe(4);
    expect(byId.get(82)?.length).toBeUndefined();
    expect(byId.get(292)?.length).toBeUndefined();
  });

  it('leaves out ids that are reserved or only "assigned for NetFlow v9 compatibility"', () => {
    for (const id of [0, 65, 69, 97, 105, 127]) expect(registry.lookup(0, id)).toBeUndefined();
    expect(registry.nameOf(0, 105)).toBe('unknown:105');
  });
});

describe('reverse elements (RFC 5103)', () => {
  it('names PEN 29305 elements after their forward element', () => {
    expect(registry.lookup(REVERSE_PEN, 1)).toEqual({ name: 'reverseOctetDeltaCount', type: 'unsigned64' });
    expect(registry.nameOf(29305, 152)).toBe('reverseFlowStartMilliseconds');
    expect(registry.lookup(29305, 278)).toEqual({
      name: 'reverseNewConnectionDeltaCount',
      type: 'unsigned32',
    });
  });
});

describe('enterprise elements', () => {
  it('names unknown enterprise elements enterprise:<PEN>:<id>', () => {
    expect(registry.lookup(9, 12345)).toBeUndefined();
    expect(registry.nameOf(9, 12345)).toBe('enterprise:9:12345');
    expect(registry.nameOf(4294967295, 32767)).toBe('enterprise:4294967295:32767');
  });

  it('finds configured elements and lets them override built-in ones', () => {
    const configured = new ElementRegistry([
      { pen: 6876, id: 880, name: 'tenantProtocol', type: 'unsigned8' },
      { pen: NTOP_PEN, id: 118, name: 'ndpiProtocol', type: 'unsigned16' },
      { pen: 0, id: 40001, name: 'ciscoVendorField', type: 'octetArray' },
    ]);
    expect(configured.lookup(6876, 880)).toEqual({ name: 'tenantProtocol', type: 'unsigned8' });
    expect(configured.nameOf(NTOP_PEN, 118)).toBe('ndpiProtocol');
    expect(configured.nameOf(0, 40001)).toBe('ciscoVendorField');
    expect(configured.nameOf(0, 1)).toBe('octetDeltaCount');
    expect(registry.nameOf(6876, 880)).toBe('enterprise:6876:880');
  });

  it.each([
    [{ pen: -1, id: 1, name: 'x', type: 'string' as const }],
    [{ pen: 2 ** 32, id: 1, name: 'x', type: 'string' as const }],
    [{ pen: 9, id: 65536, name: 'x', type: 'string' as const }],
    [{ pen: 9, id: 1.5, name: 'x', type: 'string' as const }],
    [{ pen: 9, id: 1, name: '', type: 'string' as const }],
  ])('rejects the malformed configured element %j', (element) => {
    expect(() => new ElementRegistry([element])).toThrow(RangeError);
  });

  it('rejects a configured type that is not an abstract data type', () => {
    const element = JSON.parse('{"pen":9,"id":1,"name":"x","type":"uint"}');
    expect(() => new ElementRegistry([element])).toThrow(/unknown type "uint"/);
  });
});

describe('built-in ntop elements (PEN 35632)', () => {
  // Telegraf's netflow_mapping.csv: nProbe's NetFlow v9 field types, 57472 + the IPFIX element id.
  const NTOP_V9_BASE = 57472;
  it.each([
    [58500, 'protocolNtop', 'string'],
    [58503, 'l4SrcPortName', 'string'],
    [58507, 'l4DstPortName', 'string'],
    [58508, 'l4SrvPort', 'unsigned64'],
    [58509, 'l4SrvPortName', 'string'],
    [57552, 'srcFragments', 'unsigned64'],
    [57553, 'dstFragments', 'unsigned64'],
  ])('names v9 field %i as %s', (v9Type, name, type) => {
    expect(registry.lookup(NTOP_PEN, v9Type - NTOP_V9_BASE)).toEqual({ name, type });
  });

  it('names the ntop elements of the shared nProbe capture', () => {
    expect(registry.nameOf(NTOP_PEN, 123)).toBe('clientNwLatencyMs');
    expect(registry.nameOf(NTOP_PEN, 188)).toBe('sslServerName');
    expect(registry.nameOf(NTOP_PEN, 489)).toBe('ja3cHash');
  });

  it('uses camelCase names that clash with no IANA name', () => {
    const iana = new Set(IANA_ELEMENTS.map((element) => element.name));
    for (const { name } of NTOP_ELEMENTS) {
      expect(name).toMatch(/^[a-z][a-zA-Z0-9]*$/);
      expect(iana.has(name)).toBe(false);
    }
  });
});
