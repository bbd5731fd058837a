/**
 * Decoder behaviour on datagrams built by the test-side encoder: what recordings lack (variable
 * length and enterprise fields, reduced sizes, withdrawal, mixed sets, data before template,
 * padding, source-id collisions, counters above 2^53, sampling, sequence gaps, limits, lifetime,
 * persistence). Expected values are the ones written into the datagrams.
 */
import { describe, expect, it } from 'vitest';
import {
  encodeV1,
  encodeV5,
  encodeV7,
  type FieldSpec,
  ipfixMessage,
  VARIABLE_LENGTH,
  v9Datagram,
  withTrailingZeros,
} from '../../test/support/encoder.js';
import { type DatagramSource, decodeDatagram } from './decode.js';
import type { DecodedRecord, FlowRecord, OptionsRecord } from './flow.js';
import { ElementRegistry } from './ie/registry.js';
import { FlowState, type StateOptions } from './state.js';

const EXPORTER: DatagramSource = { address: '192.0.2.1', port: 50000 };
const T0 = 1_700_000_000; // export time, seconds
const NOW = T0 * 1000;

function setup(
  options: Partial<StateOptions> = {},
  enterprise = [] as ConstructorParameters<typeof ElementRegistry>[0],
) {
  const state = new FlowState(new ElementRegistry(enterprise), options);
  const decode = (b: Uint8Array, source: DatagramSource = EXPORTER, now = NOW): DecodedRecord[] => {
    const out: DecodedRecord[] = [];
    decodeDatagram(state, b, source, now, out);
    return out;
  };
  const counters = (address = EXPORTER.address) => state.exporters.get(address)!.counters;
  return { state, decode, counters };
}

const flows = (rs: DecodedRecord[]) => rs.filter((r): r is FlowRecord => r.kind === 'flow');

// A typical v9 template: 4-byte counters (reduced size), addresses, ports, uptimes.
const V9_FIELDS: FieldSpec[] = [
  { id: 8, length: 4 }, // IPV4_SRC_ADDR
  { id: 12, length: 4 }, // IPV4_DST_ADDR
  { id: 7, length: 2 }, // L4_SRC_PORT
  { id: 11, length: 2 }, // L4_DST_PORT
  { id: 4, length: 1 }, // PROTOCOL
  { id: 1, length: 4 }, // IN_BYTES
  { id: 2, length: 4 }, // IN_PKTS
  { id: 22, length: 4 }, // FIRST_SWITCHED
  { id: 21, length: 4 }, // LAST_SWITCHED
  { id: 10, length: 2 }, // INPUT_SNMP
];
const v9Record = (i: number) => ['10.0.0.1', `10.0.1.${i}`, 1000 + i, 443, 6, 1500 * i, i, 5000, 9000, 3];

describe('NetFlow v1/v5/v7', () => {
  it('v5: fields, absolute times from sysUptime and unix time, sampling from the header', () => {
    const { decode } = setup();
    const b = encodeV5({
      sysUptime: 100_000,
      unixSecs: T0,
      unixNsecs: 500_000_000,
      flowSequence: 42,
      samplingInterval: (1 << 14) | 100, // mode 1, 1-in-100
      records: [
        {
          srcAddr: '198.51.100.7',
          dstAddr: '203.0.113.9',
          nextHop: '192.0.2.254',
          input: 3,
          output: 4,
          packets: 10,
          bytes: 12_345,
          first: 40_000,
          last: 99_000,
          srcPort: 51000,
          dstPort: 53,
          tcpFlags: 0x12,
          protocol: 17,
          tos: 0xb8,
          srcAs: 64500,
          dstAs: 64501,
          srcMask: 24,
          dstMask: 16,
        },
      ],
    });
    const [r] = flows(decode(b));
    expect(r).toMatchObject({
      version: 5,
      srcAddr: '198.51.100.7',
      dstAddr: '203.0.113.9',
      nextHop: '192.0.2.254',
      inIf: 3,
      outIf: 4,
      packets: 10,
      bytes: 12_345,
      srcPort: 51000,
      dstPort: 53,
      tcpFlags: 0x12,
      protocol: 17,
      tos: 0xb8,
      srcAs: 64500,
      dstAs: 64501,
      samplingRate: 100,
    });
    // export time T0.5 s; first was 60 s before the header's uptime.
    expect(r!.start).toBe(NOW + 500 - 60_000);
    expect(r!.end).toBe(NOW + 500 - 1_000);
    expect(r!.fields).toMatchObject({ sourceIPv4PrefixLength: 24, destinationIPv4PrefixLength: 16 });
  });

  it('v1 and v7 use their own layouts', () => {
    const { decode } = setup();
    const rec = {
      srcAddr: '10.1.1.1',
      dstAddr: '10.2.2.2',
      protocol: 6,
      tos: 4,
      tcpFlags: 2,
      packets: 3,
      bytes: 180,
    };
    const [v1] = flows(decode(encodeV1({ unixSecs: T0, records: [rec] })));
    const [v7] = flows(decode(encodeV7({ unixSecs: T0, records: [{ ...rec, srcAs: 7 }] })));
    for (const r of [v1!, v7!])
      expect(r).toMatchObject({ protocol: 6, tos: 4, tcpFlags: 2, packets: 3, bytes: 180 });
    expect(v1!.version).toBe(1);
    expect(v7!.srcAs).toBe(7);
  });

  it('a header count larger than the datagram holds decodes what is there and counts it', () => {
    const { decode, counters } = setup();
    const b = encodeV5({ unixSecs: T0, count: 5, records: [{ bytes: 1 }, { bytes: 2 }] });
    expect(flows(decode(b)).map((r) => r.bytes)).toEqual([1, 2]);
    expect(counters().errorsByReason.get('bad_length')).toBe(1);
  });

  it('v5 flow sequence gaps are counted in flows', () => {
    const { decode, state } = setup();
    decode(encodeV5({ unixSecs: T0, flowSequence: 0, records: [{}, {}] }));
    decode(encodeV5({ unixSecs: T0, flowSequence: 2, records: [{}] }));
    decode(encodeV5({ unixSecs: T0, flowSequence: 10, records: [{}] })); // 7 flows missing
    // Enough later traffic to move past the reorder window.
    decode(encodeV5({ unixSecs: T0, flowSequence: 11 + 5000, records: [{}] })); // 5000 missing
    const e = state.exporters.get(EXPORTER.address)!;
    const tracker = [...e.domains.values()][0]!.sequence;
    // The first hole is more than the reorder window behind: lost. The second may still arrive.
    expect(e.sequenceGaps).toBe(7);
    expect(tracker.pending).toBe(5000);
  });
});

describe('NetFlow v9', () => {
  it('templates and data in one datagram, several templates per flowset, reduced-size counters', () => {
    const { decode, counters } = setup();
    const other: FieldSpec[] = [
      { id: 27, length: 16 },
      { id: 28, length: 16 },
      { id: 1, length: 8 },
    ];
    const b = v9Datagram({
      sysUptime: 10_000,
      unixSecs: T0,
      sourceId: 7,
      flowsets: [
        {
          kind: 'template',
          templates: [
            { id: 256, fields: V9_FIELDS },
            { id: 257, fields: other },
          ],
        },
        { kind: 'data', id: 256, fields: V9_FIELDS, records: [v9Record(1), v9Record(2)] },
        { kind: 'data', id: 257, fields: other, records: [['2001:db8::1', '2001:db8:0:0:1::', 9n]] },
      ],
    });
    const rs = flows(decode(b));
    expect(rs).toHaveLength(3);
    expect(rs[0]).toMatchObject({
      srcAddr: '10.0.0.1',
      dstAddr: '10.0.1.1',
      srcPort: 1001,
      dstPort: 443,
      bytes: 1500,
      packets: 1,
      inIf: 3,
    });
    expect(rs[0]!.start).toBe(NOW - 5000);
    expect(rs[0]!.end).toBe(NOW - 1000);
    expect(rs[0]!.observationDomainId).toBe(7);
    expect(rs[2]).toMatchObject({ srcAddr: '2001:db8::1', dstAddr: '2001:db8:0:0:1::', bytes: 9 });
    expect(counters().templatesReceived).toBe(2);
  });

  it('data before its template is kept and decoded when the template arrives', () => {
    const { decode, counters } = setup();
    const data = v9Datagram({
      unixSecs: T0,
      flowsets: [{ kind: 'data', id: 300, fields: V9_FIELDS, records: [v9Record(5)] }],
    });
    expect(decode(data)).toEqual([]);
    expect(counters().missingTemplates).toBe(1);
    const tpl = v9Datagram({
      unixSecs: T0,
      flowsets: [{ kind: 'template', templates: [{ id: 300, fields: V9_FIELDS }] }],
    });
    const rs = flows(decode(tpl));
    expect(rs).toHaveLength(1);
    expect(rs[0]).toMatchObject({ dstAddr: '10.0.1.5', bytes: 7500 });
    expect(counters().pendingDecoded).toBe(1);
    expect(counters().records).toBe(1);
  });

  it('buffered data that never sees its template expires, counted', () => {
    const { decode, counters, state } = setup({ pendingLifetimeMs: 1000 });
    decode(
      v9Datagram({
        unixSecs: T0,
        flowsets: [{ kind: 'data', id: 300, fields: V9_FIELDS, records: [v9Record(1)] }],
      }),
    );
    state.sweep(NOW + 5000);
    expect(counters().pendingExpired).toBe(1);
    const tpl = v9Datagram({
      unixSecs: T0,
      flowsets: [{ kind: 'template', templates: [{ id: 300, fields: V9_FIELDS }] }],
    });
    expect(decode(tpl, EXPORTER, NOW + 6000)).toEqual([]);
  });

  it('the pending buffer is bounded: the oldest sets are dropped and counted', () => {
    const { decode, counters, state } = setup({ pendingMaxSets: 3 });
    for (let i = 0; i < 10; i++) {
      decode(
        v9Datagram({
          unixSecs: T0,
          flowsets: [{ kind: 'data', id: 300 + i, fields: V9_FIELDS, records: [v9Record(i)] }],
        }),
      );
    }
    expect(state.exporters.get(EXPORTER.address)!.pending).toHaveLength(3);
    expect(counters().pendingExpired).toBe(7);
  });

  it('templates are scoped by Source ID: the same id means different layouts in two domains', () => {
    const { decode } = setup();
    const small: FieldSpec[] = [{ id: 1, length: 4 }];
    decode(
      v9Datagram({
        unixSecs: T0,
        sourceId: 1,
        flowsets: [{ kind: 'template', templates: [{ id: 256, fields: V9_FIELDS }] }],
      }),
    );
    decode(
      v9Datagram({
        unixSecs: T0,
        sourceId: 2,
        flowsets: [{ kind: 'template', templates: [{ id: 256, fields: small }] }],
      }),
    );
    const a = flows(
      decode(
        v9Datagram({
          unixSecs: T0,
          sourceId: 1,
          flowsets: [{ kind: 'data', id: 256, fields: V9_FIELDS, records: [v9Record(1)] }],
        }),
      ),
    );
    const b = flows(
      decode(
        v9Datagram({
          unixSecs: T0,
          sourceId: 2,
          flowsets: [{ kind: 'data', id: 256, fields: small, records: [[77]] }],
        }),
      ),
    );
    expect(a[0]).toMatchObject({ dstAddr: '10.0.1.1', bytes: 1500 });
    expect(b[0]).toMatchObject({ bytes: 77, observationDomainId: 2 });
    expect(b[0]!.dstAddr).toBeUndefined();
  });

  it('a template id re-used with a new layout replaces the old one', () => {
    const { decode, counters } = setup();
    const second: FieldSpec[] = [{ id: 2, length: 4 }];
    decode(
      v9Datagram({
        unixSecs: T0,
        flowsets: [{ kind: 'template', templates: [{ id: 256, fields: V9_FIELDS }] }],
      }),
    );
    decode(
      v9Datagram({
        unixSecs: T0,
        flowsets: [{ kind: 'template', templates: [{ id: 256, fields: second }] }],
      }),
    );
    const [r] = flows(
      decode(
        v9Datagram({ unixSecs: T0, flowsets: [{ kind: 'data', id: 256, fields: second, records: [[5]] }] }),
      ),
    );
    expect(r).toMatchObject({ packets: 5 });
    expect(counters().templatesChanged).toBe(1);
  });

  it('counters above 2^53 are exact bigints', () => {
    const { decode } = setup();
    const fields: FieldSpec[] = [
      { id: 1, length: 8 },
      { id: 2, length: 8 },
    ];
    const big = 2n ** 60n + 3n;
    const b = v9Datagram({
      unixSecs: T0,
      flowsets: [
        { kind: 'template', templates: [{ id: 256, fields }] },
        { kind: 'data', id: 256, fields, records: [[big, 2n ** 53n - 1n]] },
      ],
    });
    const [r] = flows(decode(b));
    expect(r!.bytes).toBe(big);
    expect(r!.packets).toBe(Number(2n ** 53n - 1n));
  });

  it('zero-length flowsets, bad lengths and trailing zeros: no hang, counted, trailing padding quiet', () => {
    const { decode, counters } = setup();
    const good = v9Datagram({
      unixSecs: T0,
      flowsets: [
        { kind: 'template', templates: [{ id: 256, fields: V9_FIELDS }] },
        { kind: 'data', id: 256, fields: V9_FIELDS, records: [v9Record(1)] },
      ],
    });
    // A valid packet followed by zero padding (as some firewalls send): records, no error.
    expect(flows(decode(withTrailingZeros(good, 64)))).toHaveLength(1);
    expect(counters().decodeErrors).toBe(0);
    // A zero-length flowset header followed by garbage: counted, no hang.
    const zeroLength = Uint8Array.from([...good, 0x01, 0x00, 0x00, 0x00, 0xff, 0xff]);
    expect(flows(decode(zeroLength))).toHaveLength(1);
    expect(counters().errorsByReason.get('bad_set_length')).toBe(1);
  });

  it('options data sets sampler rates, applied to records by FLOW_SAMPLER_ID', () => {
    const { decode } = setup();
    const withSampler: FieldSpec[] = [...V9_FIELDS, { id: 48, length: 1 }];
    const b = v9Datagram({
      unixSecs: T0,
      flowsets: [
        {
          kind: 'options',
          templates: [
            {
              id: 260,
              scopeFields: [{ id: 1, length: 4 }],
              fields: [
                { id: 48, length: 1 },
                { id: 49, length: 1 },
                { id: 50, length: 4 },
              ],
            },
          ],
        },
        { kind: 'template', templates: [{ id: 256, fields: withSampler }] },
        {
          kind: 'data',
          id: 260,
          fields: [
            { id: 1, length: 4 },
            { id: 48, length: 1 },
            { id: 49, length: 1 },
            { id: 50, length: 4 },
          ],
          records: [
            [0, 3, 2, 512],
            [0, 4, 2, 64],
          ],
        },
        {
          kind: 'data',
          id: 256,
          fields: withSampler,
          records: [
            [...v9Record(1), 3],
            [...v9Record(2), 4],
            [...v9Record(3), 9],
          ],
        },
      ],
    });
    const rs = decode(b);
    const options = rs.filter((r): r is OptionsRecord => r.kind === 'options');
    expect(options).toHaveLength(2);
    expect(options[0]!.scope).toEqual({ scopeSystem: 0 });
    expect(flows(rs).map((r) => r.samplingRate)).toEqual([512, 64, 1]);
  });

  it('configuration: a default rate when the exporter states none, an override always', () => {
    const sampling = new Map([
      ['192.0.2.1', { default: 10 }],
      ['192.0.2.2', { override: 1000 }],
    ]);
    const { decode } = setup({ sampling });
    const b = encodeV5({ unixSecs: T0, samplingInterval: (1 << 14) | 100, records: [{}] });
    const plain = encodeV5({ unixSecs: T0, records: [{}] });
    expect(flows(decode(plain))[0]!.samplingRate).toBe(10);
    expect(flows(decode(b))[0]!.samplingRate).toBe(100);
    expect(flows(decode(b, { address: '192.0.2.2', port: 1 }))[0]!.samplingRate).toBe(1000);
  });

  it('packet sequence gaps are counted; small reordering is tolerated', () => {
    const { decode, state } = setup();
    const send = (sequence: number) => decode(v9Datagram({ unixSecs: T0, sequence, flowsets: [] }));
    for (const s of [1, 2, 4, 3, 5, 9]) send(s); // 3 late but arrives; 6, 7, 8 lost
    for (let s = 10; s < 100; s++) send(s);
    const e = state.exporters.get(EXPORTER.address)!;
    expect(e.sequenceGaps).toBe(3);
    expect([...e.domains.values()][0]!.sequence.reordered).toBe(1);
  });
});

describe('IPFIX', () => {
  const fields: FieldSpec[] = [
    { id: 8, length: 4 },
    { id: 12, length: 4 },
    { id: 1, length: 8 },
    { id: 2, length: 4 },
    { id: 152, length: 8 }, // flowStartMilliseconds
    { id: 153, length: 8 },
    { id: 82, length: VARIABLE_LENGTH }, // interfaceName
    { id: 42, length: 4, enterprise: 4242 }, // unknown enterprise element
    { id: 2, length: 4, enterprise: 29305 }, // RFC 5103 reverse element (reversePacketDeltaCount)
  ];

  it('variable-length (short and 3-byte) and enterprise elements', () => {
    const { decode } = setup();
    const long = 'x'.repeat(300);
    const b = ipfixMessage({
      exportTime: T0,
      observationDomainId: 5,
      sets: [
        { kind: 'template', templates: [{ id: 400, fields }] },
        {
          kind: 'data',
          id: 400,
          fields,
          records: [
            ['10.9.9.9', '10.8.8.8', 2n ** 40n, 3, NOW - 2000, NOW - 1000, 'eth0', 99, 1234],
            ['10.9.9.9', '10.8.8.8', 1, 1, NOW, NOW, { longForm: 'ge-0/0/1' }, 1, 1],
            ['10.9.9.9', '10.8.8.8', 1, 1, NOW, NOW, long, 1, 1],
          ],
        },
      ],
    });
    const rs = flows(decode(b));
    expect(rs).toHaveLength(3);
    expect(rs[0]).toMatchObject({
      version: 10,
      observationDomainId: 5,
      templateId: 400,
      bytes: 2 ** 40,
      packets: 3,
      start: NOW - 2000,
      end: NOW - 1000,
    });
    expect(rs[0]!.fields).toEqual({
      interfaceName: 'eth0',
      'enterprise:4242:42': '00000063',
      reversePacketDeltaCount: 1234,
    });
    expect(rs[1]!.fields?.['interfaceName']).toBe('ge-0/0/1');
    expect(rs[2]!.fields?.['interfaceName']).toBe(long);
  });

  it('configured enterprise elements are named and typed', () => {
    const { decode } = setup({}, [{ pen: 4242, id: 42, name: 'acmeWidgets', type: 'unsigned32' }]);
    const b = ipfixMessage({
      exportTime: T0,
      sets: [
        { kind: 'template', templates: [{ id: 400, fields }] },
        { kind: 'data', id: 400, fields, records: [['1.1.1.1', '2.2.2.2', 1, 1, 0, 0, '', 99, 1]] },
      ],
    });
    expect(flows(decode(b))[0]!.fields?.['acmeWidgets']).toBe(99);
  });

  it('a variable-length field that overruns its set is counted; earlier records kept', () => {
    const { decode, counters } = setup();
    const tpl = ipfixMessage({
      exportTime: T0,
      sets: [{ kind: 'template', templates: [{ id: 400, fields }] }],
    });
    decode(tpl);
    const good = ipfixMessage({
      exportTime: T0,
      sets: [
        {
          kind: 'data',
          id: 400,
          fields,
          records: [
            ['1.1.1.1', '2.2.2.2', 1, 1, 0, 0, 'a', 1, 1],
            ['1.1.1.1', '2.2.2.2', 2, 1, 0, 0, 'b', 1, 1],
          ],
        },
      ],
    });
    // Claim 200 bytes for the second record's interfaceName (offset of its length byte: end - 9 - 1).
    const bad = Uint8Array.from(good);
    bad[bad.length - 10] = 200;
    expect(flows(decode(bad)).map((r) => r.bytes)).toEqual([1]);
    expect(counters().errorsByReason.get('bad_variable_length')).toBe(1);
  });

  it('template withdrawal: one template, then all', () => {
    const { decode, counters, state } = setup();
    const f1: FieldSpec[] = [{ id: 1, length: 4 }];
    decode(
      ipfixMessage({
        exportTime: T0,
        sets: [
          {
            kind: 'template',
            templates: [
              { id: 256, fields: f1 },
              { id: 257, fields: f1 },
              { id: 258, fields: f1 },
            ],
          },
        ],
      }),
    );
    decode(ipfixMessage({ exportTime: T0, sets: [{ kind: 'withdrawal', templateIds: [256] }] }));
    expect(
      flows(
        decode(
          ipfixMessage({ exportTime: T0, sets: [{ kind: 'data', id: 256, fields: f1, records: [[1]] }] }),
        ),
      ),
    ).toHaveLength(0);
    expect(
      flows(
        decode(
          ipfixMessage({ exportTime: T0, sets: [{ kind: 'data', id: 257, fields: f1, records: [[1]] }] }),
        ),
      ),
    ).toHaveLength(1);
    decode(ipfixMessage({ exportTime: T0, sets: [{ kind: 'withdrawal', setId: 2, templateIds: [2] }] }));
    expect(counters().templatesWithdrawn).toBe(3);
    expect(state.exporters.get(EXPORTER.address)!.templateCount).toBe(0);
  });

  it('templates are scoped by transport session: same domain from two source ports', () => {
    const { decode } = setup();
    const f1: FieldSpec[] = [{ id: 1, length: 4 }];
    decode(
      ipfixMessage({ exportTime: T0, sets: [{ kind: 'template', templates: [{ id: 256, fields: f1 }] }] }),
      { address: EXPORTER.address, port: 1 },
    );
    const data = ipfixMessage({
      exportTime: T0,
      sets: [{ kind: 'data', id: 256, fields: f1, records: [[1]] }],
    });
    expect(flows(decode(data, { address: EXPORTER.address, port: 2 }))).toHaveLength(0);
    expect(flows(decode(data, { address: EXPORTER.address, port: 1 }))).toHaveLength(1);
  });

  it('every time encoding: seconds, micro/nanoseconds (NTP), deltas, uptimes with systemInitTime', () => {
    const { decode } = setup();
    const ntp = (ms: number) => {
      const secs = Math.floor(ms / 1000);
      const frac = Math.round(((ms % 1000) / 1000) * 2 ** 32);
      return (BigInt(secs + 2_208_988_800) << 32n) | BigInt(frac);
    };
    const cases: Array<{ fields: FieldSpec[]; values: (number | bigint)[]; start: number; end: number }> = [
      {
        fields: [
          { id: 150, length: 4 },
          { id: 151, length: 4 },
        ],
        values: [T0 - 10, T0 - 5],
        start: NOW - 10_000,
        end: NOW - 5_000,
      },
      {
        fields: [
          { id: 154, length: 8 },
          { id: 155, length: 8 },
        ],
        values: [ntp(NOW - 250), ntp(NOW - 125)],
        start: NOW - 250,
        end: NOW - 125,
      },
      {
        fields: [
          { id: 156, length: 8 },
          { id: 157, length: 8 },
        ],
        values: [ntp(NOW - 500), ntp(NOW)],
        start: NOW - 500,
        end: NOW,
      },
      {
        fields: [
          { id: 158, length: 4 },
          { id: 159, length: 4 },
        ],
        values: [3_000_000, 1_000_000],
        start: NOW - 3000,
        end: NOW - 1000,
      },
      {
        fields: [
          { id: 160, length: 8 },
          { id: 22, length: 4 },
          { id: 21, length: 4 },
        ],
        values: [NOW - 100_000, 1000, 2000],
        start: NOW - 99_000,
        end: NOW - 98_000,
      },
      {
        fields: [
          { id: 152, length: 8 },
          { id: 161, length: 4 },
        ],
        values: [NOW - 700, 200],
        start: NOW - 700,
        end: NOW - 500,
      },
    ];
    cases.forEach((c, i) => {
      const id = 256 + i;
      const [r] = flows(
        decode(
          ipfixMessage({
            exportTime: T0,
            sets: [
              { kind: 'template', templates: [{ id, fields: c.fields }] },
              { kind: 'data', id, fields: c.fields, records: [c.values] },
            ],
          }),
        ),
      );
      expect(r!.start, `case ${i}`).toBeCloseTo(c.start, 3);
      expect(r!.end, `case ${i}`).toBeCloseTo(c.end, 3);
    });
  });

  it('uptimes: from the domain systemInitTime in options data, else raw under fields; any length', () => {
    // 4-byte uptimes take the decoder's inline path, 8-byte ones its field readers: same records.
    for (const length of [4, 8]) {
      const { decode } = setup();
      const f: FieldSpec[] = [
        { id: 1, length: 4 },
        { id: 22, length },
        { id: 21, length },
      ];
      const scope: FieldSpec[] = [{ id: 149, length: 4 }];
      const opt: FieldSpec[] = [{ id: 160, length: 8 }];
      const data = (records: number[][]) =>
        ipfixMessage({ exportTime: T0, sets: [{ kind: 'data', id: 256, fields: f, records }] });
      const before = flows(
        decode(
          ipfixMessage({
            exportTime: T0,
            sets: [
              { kind: 'template', templates: [{ id: 256, fields: f }] },
              { kind: 'data', id: 256, fields: f, records: [[10, 1000, 2000]] },
            ],
          }),
        ),
      );
      const partial = flows(decode(data([[10, 0, 3000]])));
      decode(
        ipfixMessage({
          exportTime: T0,
          sets: [
            { kind: 'options', templates: [{ id: 300, scopeFields: scope, fields: opt }] },
            { kind: 'data', id: 300, fields: [...scope, ...opt], records: [[0, NOW - 100_000]] },
          ],
        }),
      );
      const after = flows(decode(data([[10, 1000, 2000]])));
      expect(before[0]!.start, `length ${length}`).toBeUndefined();
      expect(before[0]!.fields, `length ${length}`).toEqual({
        flowStartSysUpTime: 1000,
        flowEndSysUpTime: 2000,
      });
      expect(partial[0]!.fields, `length ${length}`).toEqual({
        flowStartSysUpTime: 0,
        flowEndSysUpTime: 3000,
      });
      expect(after[0]!.start, `length ${length}`).toBe(NOW - 99_000);
      expect(after[0]!.end, `length ${length}`).toBe(NOW - 98_000);
      expect(after[0]!.fields, `length ${length}`).toBeUndefined();
    }
  });

  it('sampling stated in the data record (PSAMP interval and space)', () => {
    const { decode } = setup();
    const f: FieldSpec[] = [
      { id: 1, length: 4 },
      { id: 305, length: 4 },
      { id: 306, length: 4 },
    ];
    const [r] = flows(
      decode(
        ipfixMessage({
          exportTime: T0,
          sets: [
            { kind: 'template', templates: [{ id: 256, fields: f }] },
            { kind: 'data', id: 256, fields: f, records: [[10, 1, 99]] },
          ],
        }),
      ),
    );
    expect(r!.samplingRate).toBe(100);
  });

  it('sampling from options data with no selector id applies to the whole domain', () => {
    const { decode } = setup();
    const f: FieldSpec[] = [{ id: 1, length: 4 }];
    const scope: FieldSpec[] = [{ id: 149, length: 4 }];
    const opt: FieldSpec[] = [{ id: 34, length: 4 }];
    const rs = decode(
      ipfixMessage({
        exportTime: T0,
        sets: [
          { kind: 'options', templates: [{ id: 300, scopeFields: scope, fields: opt }] },
          { kind: 'template', templates: [{ id: 256, fields: f }] },
          { kind: 'data', id: 300, fields: [...scope, ...opt], records: [[0, 2000]] },
          { kind: 'data', id: 256, fields: f, records: [[1]] },
        ],
      }),
    );
    expect(flows(rs)[0]!.samplingRate).toBe(2000);
  });

  it('sequence numbers count data records', () => {
    const { decode, state } = setup();
    const f: FieldSpec[] = [{ id: 1, length: 4 }];
    decode(
      ipfixMessage({
        exportTime: T0,
        sequence: 0,
        sets: [
          { kind: 'template', templates: [{ id: 256, fields: f }] },
          { kind: 'data', id: 256, fields: f, records: [[1], [2], [3]] },
        ],
      }),
    );
    decode(
      ipfixMessage({
        exportTime: T0,
        sequence: 3,
        sets: [{ kind: 'data', id: 256, fields: f, records: [[1]] }],
      }),
    );
    decode(
      ipfixMessage({
        exportTime: T0,
        sequence: 14,
        sets: [{ kind: 'data', id: 256, fields: f, records: [[1]] }],
      }),
    ); // 10 lost
    decode(
      ipfixMessage({
        exportTime: T0,
        sequence: 10_000,
        sets: [{ kind: 'data', id: 256, fields: f, records: [[1]] }],
      }),
    );
    const e = state.exporters.get(EXPORTER.address)!;
    // The 10-record hole is now past the reorder window: lost. The newest may still fill.
    expect(e.sequenceGaps).toBe(10);
    expect([...e.domains.values()][0]!.sequence.pending).toBe(10_000 - 15);
  });

  it('a message whose length field exceeds the datagram is refused, counted', () => {
    const { decode, counters } = setup();
    const b = ipfixMessage({ exportTime: T0, length: 500, sets: [] });
    expect(decode(b)).toEqual([]);
    expect(counters().errorsByReason.get('bad_length')).toBe(1);
  });
});

describe('template cache', () => {
  const f: FieldSpec[] = [{ id: 1, length: 4 }];
  const tpl = (id: number) =>
    ipfixMessage({ exportTime: T0, sets: [{ kind: 'template', templates: [{ id, fields: f }] }] });
  const data = (id: number) =>
    ipfixMessage({ exportTime: T0, sets: [{ kind: 'data', id, fields: f, records: [[1]] }] });

  it('templates expire after their lifetime without refresh', () => {
    const { decode, counters } = setup({ templateLifetimeMs: 60_000 });
    decode(tpl(256));
    expect(flows(decode(data(256), EXPORTER, NOW + 30_000))).toHaveLength(1);
    expect(flows(decode(data(256), EXPORTER, NOW + 61_000))).toHaveLength(0);
    expect(counters().templatesExpired).toBe(1);
  });

  it('limits templates per exporter and exporters, counted', () => {
    const { decode, counters, state } = setup({ maxTemplatesPerExporter: 2, maxExporters: 1 });
    decode(tpl(256));
    decode(tpl(257));
    decode(tpl(258));
    expect(counters().errorsByReason.get('template_limit')).toBe(1);
    // The exporter has produced a flow record: a newcomer cannot take its place.
    expect(flows(decode(data(256)))).toHaveLength(1);
    expect(decode(tpl(256), { address: '192.0.2.99', port: 1 })).toEqual([]);
    expect(state.exportersRejected).toBe(1);
    expect(state.exporters.has('192.0.2.99')).toBe(false);
  });

  it('a full table makes room by forgetting the oldest exporter that never produced a flow record', () => {
    const { decode, state } = setup({ maxExporters: 2 });
    decode(tpl(256), { address: '192.0.2.1', port: 1 });
    decode(tpl(256), { address: '192.0.2.2', port: 1 });
    expect(flows(decode(data(256), { address: '192.0.2.1', port: 1 }))).toHaveLength(1);
    // 192.0.2.2 only sent a template: it makes room for the newcomer; 192.0.2.1 stays.
    expect(flows(decode(tpl(256), { address: '192.0.2.3', port: 1 }))).toHaveLength(0);
    expect([...state.exporters.keys()].sort()).toEqual(['192.0.2.1', '192.0.2.3']);
    expect(state.exportersEvicted).toBe(1);
    expect(state.exportersRejected).toBe(0);
    expect(flows(decode(data(256), { address: '192.0.2.1', port: 1 }))).toHaveLength(1);
  });

  it('persists and restores templates (JSON round trip), dropping expired ones', () => {
    const a = setup();
    a.decode(tpl(256));
    a.decode(
      v9Datagram({
        unixSecs: T0,
        sourceId: 3,
        flowsets: [{ kind: 'template', templates: [{ id: 300, fields: V9_FIELDS }] }],
      }),
    );
    // Only exporters that produced flow records are persisted: junk sources' templates are not.
    expect(a.state.snapshot().exporters).toHaveLength(0);
    expect(flows(a.decode(data(256)))).toHaveLength(1);
    const saved = JSON.parse(JSON.stringify(a.state.snapshot()));
    const b = setup();
    expect(b.state.restore(saved, NOW + 1000)).toBe(2);
    // A restored exporter keeps its standing: junk arriving later does not evict it.
    expect(b.state.isUnproven(b.state.exporters.get(EXPORTER.address)!)).toBe(false);
    expect(flows(b.decode(data(256)))).toHaveLength(1);
    expect(
      flows(
        b.decode(
          v9Datagram({
            unixSecs: T0,
            sourceId: 3,
            flowsets: [{ kind: 'data', id: 300, fields: V9_FIELDS, records: [v9Record(4)] }],
          }),
        ),
      )[0]!.bytes,
    ).toBe(6000);
    const c = setup({ templateLifetimeMs: 500 });
    expect(c.state.restore(saved, NOW + 1000)).toBe(0);
    expect(setup().state.restore({ format: 1, exporters: 'nope' }, NOW)).toBe(0);
  });
});

describe('robustness', () => {
  it('unsupported versions and short datagrams are counted, not thrown', () => {
    const { decode, counters } = setup();
    expect(decode(Uint8Array.of(0x00, 0x06, 1, 2, 3))).toEqual([]);
    expect(decode(Uint8Array.of(0x00))).toEqual([]);
    expect(decode(Uint8Array.of(0x00, 0x09, 0))).toEqual([]);
    expect(counters().errorsByReason.get('unsupported_version')).toBe(1);
    expect(counters().errorsByReason.get('short_header')).toBe(2);
  });
});
