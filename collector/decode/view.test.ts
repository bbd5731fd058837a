/**
 * The collector view on a real FlowState fed real v9 and IPFIX datagrams: what it answers (worked
 * out from the datagrams below), that every answer is plain data a worker can post unchanged, and
 * that every list keeps to its limit.
 */
import { describe, expect, it } from 'vitest';
import {
  type FieldSpec,
  ipfixMessage,
  type OptionsTemplate,
  VARIABLE_LENGTH,
  v9Datagram,
} from '../../test/support/encoder.js';
import { type DatagramSource, decodeDatagram } from './decode.js';
import type { DecodedRecord } from './flow.js';
import { ElementRegistry } from './ie/registry.js';
import { FlowState } from './state.js';
import { type CollectorView, localView } from './view.js';

const T0 = Date.UTC(2024, 0, 1);
const SECOND = 1000;
const at = (ms: number) => new Date(ms).toISOString();

/** v9 exporter, default sampling 50 configured. */
const A = '192.0.2.1';
/** IPFIX exporter on two transport ports, stating interface names and sampler rates. */
const B = '198.51.100.2';
/** Sends one datagram of an unsupported version. */
const C = '2001:db8::1';

const V9_FIELDS: FieldSpec[] = [
  { id: 8, length: 4 }, // sourceIPv4Address
  { id: 12, length: 4 }, // destinationIPv4Address
  { id: 1, length: 4 }, // octetDeltaCount
  { id: 2, length: 4 }, // packetDeltaCount
  { id: 10, length: 2 }, // ingressInterface
  { id: 14, length: 2 }, // egressInterface
  { id: 4, length: 1 }, // protocolIdentifier
];
const V9_RECORD = ['10.0.0.1', '10.0.0.2', 1500, 3, 1, 2, 6];
const SHORT: FieldSpec[] = V9_FIELDS.slice(0, 3);

const IPFIX_FIELDS: FieldSpec[] = [
  { id: 8, length: 4 },
  { id: 12, length: 4 },
  { id: 1, length: 8 },
  { id: 42, length: 4, enterprise: 4242 }, // not a known element: named by its enterprise and id
];
const IF_SCOPE: FieldSpec[] = [{ id: 10, length: 4 }]; // ingressInterface
const IF_NAMED: FieldSpec[] = [
  { id: 82, length: VARIABLE_LENGTH }, // interfaceName
  { id: 83, length: VARIABLE_LENGTH }, // interfaceDescription
];
const IF_NAME_ONLY: FieldSpec[] = [{ id: 82, length: VARIABLE_LENGTH }];
const SAMPLER_SCOPE: FieldSpec[] = [{ id: 302, length: 4 }]; // selectorId
const SAMPLER_FIELDS: FieldSpec[] = [{ id: 305, length: 4 }]; // samplingPacketInterval
const OPTIONS: OptionsTemplate[] = [
  { id: 401, scopeFields: IF_SCOPE, fields: IF_NAMED },
  { id: 402, scopeFields: SAMPLER_SCOPE, fields: SAMPLER_FIELDS },
  { id: 403, scopeFields: IF_SCOPE, fields: IF_NAME_ONLY },
];

function collector() {
  const state = new FlowState(new ElementRegistry(), { sampling: new Map([[A, { default: 50 }]]) });
  const out: DecodedRecord[] = [];
  const send = (address: string, port: number, datagram: Uint8Array, now: number) => {
    const source: DatagramSource = { address, port };
    decodeDatagram(state, datagram, source, now, out);
  };
  return { state, view: localView(state), send };
}

/** A, B and C as described above; A last heard at T0 + 20 s, B at T0 + 30 s, C at T0 + 25 s. */
function threeExporters() {
  const c = collector();
  // A, source id 7: two templates and one record, then two records and a set of an unknown template.
  c.send(
    A,
    2055,
    v9Datagram({
      sysUptime: 1000,
      sequence: 0,
      sourceId: 7,
      flowsets: [
        {
          kind: 'template',
          templates: [
            { id: 256, fields: V9_FIELDS },
            { id: 258, fields: SHORT },
          ],
        },
        { kind: 'data', id: 256, fields: V9_FIELDS, records: [V9_RECORD] },
      ],
    }),
    T0 + 10 * SECOND,
  );
  c.send(
    A,
    2055,
    v9Datagram({
      sysUptime: 2000,
      sequence: 1,
      sourceId: 7,
      flowsets: [
        { kind: 'data', id: 256, fields: V9_FIELDS, records: [V9_RECORD, V9_RECORD] },
        { kind: 'data', id: 999, fields: V9_FIELDS, records: [V9_RECORD] },
      ],
    }),
    T0 + 20 * SECOND,
  );
  // B, port 4739 domain 5: a template, three options templates, their data and one flow record.
  c.send(
    B,
    4739,
    ipfixMessage({
      observationDomainId: 5,
      sets: [
        { kind: 'template', templates: [{ id: 400, fields: IPFIX_FIELDS }] },
        { kind: 'options', templates: OPTIONS },
        {
          kind: 'data',
          id: 401,
          fields: [...IF_SCOPE, ...IF_NAMED],
          records: [
            [1, 'GigabitEthernet0/0/1', 'uplink'],
            [2, 'xe-0/0/2', 'core'],
            [7, 'eth7', ''],
          ],
        },
        {
          kind: 'data',
          id: 402,
          fields: [...SAMPLER_SCOPE, ...SAMPLER_FIELDS],
          records: [
            [3, 512],
            [4, 1024],
          ],
        },
        { kind: 'data', id: 403, fields: [...IF_SCOPE, ...IF_NAME_ONLY], records: [[9, 'ge-0/0/9']] },
        { kind: 'data', id: 400, fields: IPFIX_FIELDS, records: [['10.0.0.1', '10.0.0.2', 1n, 99]] },
      ],
    }),
    T0 + 15 * SECOND,
  );
  // C: version 3 does not exist.
  c.send(C, 2055, new Uint8Array([0, 3, 0, 0]), T0 + 25 * SECOND);
  // B again, from port 4740, domain 6: the same template in a second scope.
  c.send(
    B,
    4740,
    ipfixMessage({
      observationDomainId: 6,
      sets: [{ kind: 'template', templates: [{ id: 400, fields: IPFIX_FIELDS }] }],
    }),
    T0 + 30 * SECOND,
  );
  return c;
}

/** Fails unless `value` is plain data: primitives, arrays and plain objects, no undefined member. */
function expectPlain(value: unknown, path = 'answer'): void {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) expectPlain(v, `${path}[${i}]`);
    return;
  }
  expect(typeof value, path).toBe('object');
  expect(Object.getPrototypeOf(value), `${path} is a plain object`).toBe(Object.prototype);
  for (const [key, v] of Object.entries(value as object)) {
    expect(v, `${path}.${key}`).not.toBeUndefined();
    expectPlain(v, `${path}.${key}`);
  }
}

/** Every answer of the view, for each exporter and some limits. */
async function everyAnswer(view: CollectorView): Promise<unknown[]> {
  const answers: unknown[] = [
    await view.exporters(),
    await view.exporters(2),
    await view.overview(100),
    await view.overview(1),
    await view.interfaces(undefined, 1000),
    await view.interfaces(B, 2),
  ];
  for (const address of [A, B, C]) {
    answers.push(await view.exporter(address), await view.templates(address, 1000));
  }
  return answers;
}

describe('localView', () => {
  it('answers only plain data, which structuredClone (postMessage) copies unchanged', async () => {
    const { view } = threeExporters();
    const answers = await everyAnswer(view);
    for (const answer of answers) {
      expect(answer).toBeDefined();
      expectPlain(answer);
      expect(structuredClone(answer)).toStrictEqual(answer);
    }
  });

  it('summarises each exporter from what it sent', async () => {
    const { view } = threeExporters();
    expect(await view.exporters()).toEqual([
      {
        address: B,
        live: true,
        versions: [10],
        packets: 2,
        records: 1,
        decodeErrors: 0,
        missingTemplates: 0,
        templates: 5, // 400, 401, 402, 403 on port 4739 and 400 on port 4740
        sequenceGaps: 0,
        samplingRate: 512, // the first sampler B stated (no rate without an id)
        samplingSource: 'exporter',
        lastSeen: at(T0 + 30 * SECOND),
      },
      {
        address: C,
        live: true,
        versions: [0], // an unsupported version is counted under 0
        packets: 1,
        records: 0,
        decodeErrors: 1,
        missingTemplates: 0,
        templates: 0,
        sequenceGaps: 0,
        samplingRate: 1,
        samplingSource: 'none',
        lastSeen: at(T0 + 25 * SECOND),
      },
      {
        address: A,
        live: true,
        versions: [9],
        packets: 2,
        records: 3,
        decodeErrors: 0,
        missingTemplates: 1, // the set of template 999
        templates: 2,
        sequenceGaps: 0,
        samplingRate: 50, // configured default: A states none
        samplingSource: 'default',
        lastSeen: at(T0 + 20 * SECOND),
      },
    ]);
  });

  it("details an exporter's counters, buffer, samplers and scopes", async () => {
    const { view } = threeExporters();
    expect(await view.exporter(A)).toMatchObject({
      address: A,
      byVersion: [
        {
          version: 9,
          packets: 2,
          records: 3,
          decodeErrors: 0,
          missingTemplates: 1,
          dropped: 0,
          sequenceGaps: 0,
        },
      ],
      errorsByReason: {},
      optionsRecords: 0,
      templatesReceived: 2,
      // One 21-byte record, padded to 24 in its flowset, waits for template 999.
      pending: { sets: 1, bytes: 24, buffered: 1, decoded: 0, expired: 0 },
      samplerRates: [],
      domains: [{ key: '9/7', observationDomainId: 7, templates: 2, sequenceLost: 0 }],
      interfaces: 0,
    });
    const b = await view.exporter(B);
    expect(b).toMatchObject({
      optionsRecords: 6, // 3 interface records, 2 sampler records, 1 name-only record
      templatesReceived: 5,
      samplerRates: [
        { domain: '10/4739/5', samplerId: 3, rate: 512 },
        { domain: '10/4739/5', samplerId: 4, rate: 1024 },
      ],
      domains: [
        { key: '10/4739/5', observationDomainId: 5, templates: 4, sequenceLost: 0 },
        { key: '10/4740/6', observationDomainId: 6, templates: 1, sequenceLost: 0 },
      ],
      interfaces: 4,
    });
    expect(await view.exporter(C)).toMatchObject({
      versions: [0],
      errorsByReason: { unsupported_version: 1 },
      byVersion: [{ version: 0, packets: 1, records: 0, decodeErrors: 1 }],
    });
  });

  it("lists an exporter's templates per scope, by id, with the elements' names", async () => {
    const { view } = threeExporters();
    const all = await view.templates(B, 1000);
    expect(all?.exporter).toBe(B);
    expect(all?.templates.map((t) => [t.domain, t.templateId])).toEqual([
      ['10/4739/5', 400],
      ['10/4739/5', 401],
      ['10/4739/5', 402],
      ['10/4739/5', 403],
      ['10/4740/6', 400],
    ]);
    expect(all?.templates[0]).toEqual({
      domain: '10/4739/5',
      observationDomainId: 5,
      templateId: 400,
      options: false,
      scopeCount: 0,
      recordLength: 20, // 4 + 4 + 8 + 4
      receivedAt: at(T0 + 15 * SECOND),
      fields: [
        { id: 8, pen: 0, length: 4, name: 'sourceIPv4Address' },
        { id: 12, pen: 0, length: 4, name: 'destinationIPv4Address' },
        { id: 1, pen: 0, length: 8, name: 'octetDeltaCount' },
        { id: 42, pen: 4242, length: 4, name: 'enterprise:4242:42' },
      ],
    });
    expect(all?.templates[1]).toMatchObject({
      options: true,
      scopeCount: 1,
      recordLength: -1, // variable-length names
      fields: [
        { id: 10, name: 'ingressInterface' },
        { id: 82, name: 'interfaceName' },
        { id: 83, name: 'interfaceDescription' },
      ],
    });
    expect(all?.templates[4]?.receivedAt).toBe(at(T0 + 30 * SECOND));
  });

  it('lists interface names and descriptions as stated, for one exporter or all', async () => {
    const { view } = threeExporters();
    const named = [
      { exporter: B, ifIndex: 1, name: 'GigabitEthernet0/0/1', description: 'uplink' },
      { exporter: B, ifIndex: 2, name: 'xe-0/0/2', description: 'core' },
      { exporter: B, ifIndex: 7, name: 'eth7', description: '' },
      { exporter: B, ifIndex: 9, name: 'ge-0/0/9' },
    ];
    expect(await view.interfaces(undefined, 1000)).toStrictEqual(named);
    expect(await view.interfaces(B, 1000)).toStrictEqual(named);
    expect(await view.interfaces(A, 1000)).toEqual([]);
  });

  it('knows which exporters it has; an unknown exporter has no detail, templates or interfaces', async () => {
    const { view } = threeExporters();
    expect(await view.has(A)).toBe(true);
    expect(await view.has(C)).toBe(true);
    const unknown = '203.0.113.50';
    expect(await view.has(unknown)).toBe(false);
    expect(await view.known([C, unknown, A])).toEqual([true, false, true]);
    expect(await view.exporter(unknown)).toBeUndefined();
    expect(await view.templates(unknown, 1000)).toBeUndefined();
    expect(await view.interfaces(unknown, 1000)).toEqual([]);
  });

  it('overview counts every exporter and lists the most recently heard first, up to `recent`', async () => {
    const { view } = threeExporters();
    expect(await view.overview(100)).toEqual({
      count: 3,
      lastDatagram: [
        { exporter: B, lastSeen: at(T0 + 30 * SECOND) },
        { exporter: C, lastSeen: at(T0 + 25 * SECOND) },
        { exporter: A, lastSeen: at(T0 + 20 * SECOND) },
      ],
    });
    expect(await view.overview(2)).toEqual({
      count: 3,
      lastDatagram: [
        { exporter: B, lastSeen: at(T0 + 30 * SECOND) },
        { exporter: C, lastSeen: at(T0 + 25 * SECOND) },
      ],
    });
    expect(await view.overview(0)).toEqual({ count: 3, lastDatagram: [] });
  });

  describe('limits', () => {
    /** 12 v9 exporters 10.1.0.0-11, each heard once; 10.1.0.i at T0 + i s, except .10 and .11 at T0 + 3 s. */
    function twelve() {
      const c = collector();
      const heard = (i: number) => (i >= 10 ? 3 : i);
      // Sent in a shuffled order: the answers order by time, not by arrival.
      for (const i of [5, 11, 0, 9, 3, 7, 10, 1, 8, 2, 6, 4]) {
        const datagram = v9Datagram({ sourceId: i, flowsets: [] });
        c.send(`10.1.0.${i}`, 2055, datagram, T0 + heard(i) * SECOND);
      }
      return c;
    }

    it('exporters: at most `limit`, the most recently seen first, ties by address', async () => {
      const { view } = twelve();
      const addresses = async (limit?: number) => (await view.exporters(limit)).map((e) => e.address);
      expect(await addresses(5)).toEqual(['10.1.0.9', '10.1.0.8', '10.1.0.7', '10.1.0.6', '10.1.0.5']);
      // 10.1.0.3, .10 and .11 were all heard at T0 + 3 s.
      expect(await addresses(9)).toEqual([
        '10.1.0.9',
        '10.1.0.8',
        '10.1.0.7',
        '10.1.0.6',
        '10.1.0.5',
        '10.1.0.4',
        '10.1.0.10',
        '10.1.0.11',
        '10.1.0.3',
      ]);
      expect(await addresses()).toHaveLength(12);
      expect(await addresses(100)).toHaveLength(12);
      expect(await addresses(0)).toEqual([]);
      expect((await view.overview(3)).lastDatagram.map((e) => e.exporter)).toEqual([
        '10.1.0.9',
        '10.1.0.8',
        '10.1.0.7',
      ]);
      expect((await view.overview(3)).count).toBe(12);
    });

    it('templates: at most `limit`, across scopes', async () => {
      const { view } = threeExporters();
      const ids = async (limit: number) =>
        (await view.templates(B, limit))?.templates.map((t) => `${t.domain}#${t.templateId}`);
      expect(await ids(2)).toEqual(['10/4739/5#400', '10/4739/5#401']);
      expect(await ids(4)).toHaveLength(4);
      expect(await ids(5)).toEqual([
        '10/4739/5#400',
        '10/4739/5#401',
        '10/4739/5#402',
        '10/4739/5#403',
        '10/4740/6#400',
      ]);
      expect(await ids(0)).toEqual([]);
    });

    it('interfaces: at most `limit` rows', async () => {
      const { view } = threeExporters();
      expect((await view.interfaces(undefined, 2)).map((i) => i.ifIndex)).toEqual([1, 2]);
      expect((await view.interfaces(B, 3)).map((i) => i.ifIndex)).toEqual([1, 2, 7]);
      expect(await view.interfaces(B, 0)).toEqual([]);
    });

    it('an exporter lists at most 1000 sampler rates and 1000 template scopes', async () => {
      const c = collector();
      const address = '192.0.2.77';
      // 600 samplers in each of two IPFIX domains: 1200 rates, of which 1000 are listed.
      for (const domain of [1, 2]) {
        c.send(
          address,
          4739,
          ipfixMessage({
            observationDomainId: domain,
            sets: [
              { kind: 'options', templates: [OPTIONS[1]!] },
              {
                kind: 'data',
                id: 402,
                fields: [...SAMPLER_SCOPE, ...SAMPLER_FIELDS],
                records: Array.from({ length: 600 }, (_, i) => [i, 100 + i]),
              },
            ],
          }),
          T0,
        );
      }
      // 1010 more scopes: v9 Source IDs 0-1009, one datagram each.
      for (let sourceId = 0; sourceId < 1010; sourceId++) {
        c.send(address, 2055, v9Datagram({ sourceId, flowsets: [] }), T0 + SECOND);
      }
      const detail = await c.view.exporter(address);
      expect(detail?.samplerRates).toHaveLength(1000);
      expect(detail?.samplerRates[0]).toEqual({ domain: '10/4739/1', samplerId: 0, rate: 100 });
      expect(detail?.samplerRates[999]).toEqual({ domain: '10/4739/2', samplerId: 399, rate: 499 });
      // 2 IPFIX scopes and 1010 v9 ones: the first 1000 in the order first seen.
      expect(detail?.domains).toHaveLength(1000);
      expect(detail?.domains[1]?.key).toBe('10/4739/2');
      expect(detail?.domains[999]?.key).toBe('9/997');
      expect(structuredClone(detail)).toStrictEqual(detail);
    });
  });
});
