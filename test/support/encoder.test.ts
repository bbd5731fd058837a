/**
 * Tests of the test-side NetFlow/IPFIX encoder against hand-computed bytes, independent of the
 * encoder's own logic, and, when tshark is installed, against Wireshark's dissector.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  concat,
  encodeV1,
  encodeV5,
  encodeV7,
  type FieldSpec,
  type FieldValue,
  ipfixMessage,
  VARIABLE_LENGTH,
  v9Datagram,
  withTrailingZeros,
} from './encoder.js';

/** Bytes from hex text; whitespace is ignored and `#` starts a comment running to the end of the line. */
function hex(text: string): Uint8Array {
  const digits = text.replace(/#.*$/gm, '').replace(/\s+/g, '');
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

/** 1700000000 = 0x6553f100, used as the export time throughout. */
const EPOCH = 1_700_000_000;

describe('NetFlow v1/v5/v7', () => {
  const record = {
    srcAddr: '10.0.0.1',
    dstAddr: '192.168.1.2',
    nextHop: '10.0.0.254',
    input: 3,
    output: 4,
    packets: 10,
    bytes: 1500,
    first: 1000,
    last: 2000,
    srcPort: 12345,
    dstPort: 443,
    tcpFlags: 0x1b,
    protocol: 6,
    tos: 0x10,
    srcAs: 64512,
    dstAs: 15169,
    srcMask: 24,
    dstMask: 16,
  };
  /** The 36 bytes all three record layouts share. */
  const recordStart = `
    0a000001 c0a80102 0a0000fe   # src 10.0.0.1, dst 192.168.1.2, next hop 10.0.0.254
    0003 0004                    # input 3, output 4
    0000000a 000005dc            # packets 10, bytes 1500
    000003e8 000007d0            # first 1000, last 2000
    3039 01bb                    # ports 12345 -> 443
  `;

  it('encodes a v5 datagram with one record', () => {
    const datagram = encodeV5({
      sysUptime: 0x01020304,
      unixSecs: EPOCH,
      unixNsecs: 5,
      flowSequence: 42,
      engineType: 1,
      engineId: 2,
      samplingInterval: 0x4064,
      records: [record],
    });
    expect(datagram).toEqual(
      hex(`
        0005 0001              # version 5, count 1
        01020304 6553f100      # sysUptime, unix secs
        00000005 0000002a      # unix nsecs, flow sequence 42
        01 02 4064             # engine type 1, engine id 2, sampling mode 1 interval 100
        ${recordStart}
        00 1b 06 10            # pad1, tcp flags, protocol 6, tos
        fc00 3b41 18 10        # src AS 64512, dst AS 15169, masks /24 /16
        0000                   # pad2
      `),
    );
    expect(datagram.length).toBe(24 + 48);
  });

  it('encodes a v1 datagram with one record', () => {
    const datagram = encodeV1({ sysUptime: 0x01020304, unixSecs: EPOCH, unixNsecs: 5, records: [record] });
    expect(datagram).toEqual(
      hex(`
        0001 0001 01020304 6553f100 00000005   # version 1, count 1, sysUptime, secs, nsecs
        ${recordStart}
        0000 06 10 1b          # pad1, protocol, tos, tcp flags
        000000 00000000        # pad2, pad3, reserved
      `),
    );
    expect(datagram.length).toBe(16 + 48);
  });

  it('encodes a v7 datagram with one record', () => {
    const datagram = encodeV7({
      sysUptime: 0x01020304,
      unixSecs: EPOCH,
      unixNsecs: 5,
      flowSequence: 42,
      records: [{ ...record, flags1: 0x80, flags2: 0x0102, routerSc: '172.16.0.1' }],
    });
    expect(datagram).toEqual(
      hex(`
        0007 0001 01020304 6553f100 00000005 0000002a 00000000   # ..., flow sequence, reserved
        ${recordStart}
        80 1b 06 10            # flags1, tcp flags, protocol, tos
        fc00 3b41 18 10        # AS numbers, masks
        0102 ac100001          # flags2, router_sc 172.16.0.1
      `),
    );
    expect(datagram.length).toBe(24 + 52);
  });

  it('defaults every field to zero and honours a count override', () => {
    expect(encodeV5({ records: [{}, {}] })).toEqual(concat(hex('0005 0002'), new Uint8Array(20 + 2 * 48)));
    expect(encodeV5({ count: 30, records: [] })).toEqual(concat(hex('0005 001e'), new Uint8Array(20)));
  });
});

describe('NetFlow v9', () => {
  const fields: FieldSpec[] = [
    { id: 8, length: 4 }, // IPV4_SRC_ADDR
    { id: 12, length: 4 }, // IPV4_DST_ADDR
    { id: 2, length: 4 }, // IN_PKTS
    { id: 1, length: 4 }, // IN_BYTES
    { id: 7, length: 2 }, // L4_SRC_PORT
    { id: 4, length: 1 }, // PROTOCOL
  ];
  const header = '0009 0002 000003e8 6553f100 00000007 00000102'; // count 2, uptime 1000, secs, seq 7, source 0x102

  it('encodes one template and one data record', () => {
    const datagram = v9Datagram({
      sysUptime: 1000,
      unixSecs: EPOCH,
      sequence: 7,
      sourceId: 0x102,
      flowsets: [
        { kind: 'template', templates: [{ id: 256, fields }] },
        { kind: 'data', id: 256, fields, records: [['10.0.0.1', '10.0.0.2', 5, 400, 80, 17]] },
      ],
    });
    expect(datagram).toEqual(
      hex(`
        ${header}
        0000 0020 0100 0006    # template flowset, length 32; template 256, 6 fields
        0008 0004 000c 0004 0002 0004 0001 0004 0007 0002 0004 0001
        0100 0018              # data flowset 256, length 24 (19 bytes of record + 1 padding)
        0a000001 0a000002 00000005 00000190 0050 11
        00                     # padding
      `),
    );
  });

  it('pads data flowsets as asked', () => {
    const data = (padding: 'align' | number) =>
      v9Datagram({
        flowsets: [{ kind: 'data', id: 300, fields: [{ id: 4, length: 1 }], records: [[6]], padding }],
      });
    const header0 = '0009 0001 00000000 00000000 00000000 00000000';
    expect(data('align')).toEqual(hex(`${header0} 012c 0008 06 000000`));
    expect(data(0)).toEqual(hex(`${header0} 012c 0005 06`));
    expect(data(5)).toEqual(hex(`${header0} 012c 000a 06 0000000000`));
  });

  it('encodes an options template with scope lengths in bytes', () => {
    const datagram = v9Datagram({
      flowsets: [
        {
          kind: 'options',
          templates: [
            {
              id: 257,
              scopeFields: [{ id: 1, length: 4 }],
              fields: [
                { id: 34, length: 4 },
                { id: 35, length: 1 },
              ],
            },
          ],
        },
      ],
    });
    expect(datagram).toEqual(
      hex(`
        0009 0001 00000000 00000000 00000000 00000000
        0001 0018              # options template flowset, length 24
        0101 0004 0008         # template 257, scope length 4, option length 8
        0001 0004              # scope: system, 4 bytes
        0022 0004 0023 0001    # SAMPLING_INTERVAL 4, SAMPLING_ALGORITHM 1
        0000                   # padding
      `),
    );
  });

  it('counts template, options template and data records in the header', () => {
    const small: FieldSpec[] = [{ id: 4, length: 1 }];
    const datagram = v9Datagram({
      flowsets: [
        {
          kind: 'template',
          templates: [
            { id: 256, fields: small },
            { id: 257, fields: small },
          ],
        },
        { kind: 'options', templates: [{ id: 258, scopeFields: [{ id: 1, length: 4 }], fields: small }] },
        { kind: 'data', id: 256, fields: small, records: [[1], [2], [3]] },
      ],
    });
    expect(datagram.subarray(0, 4)).toEqual(hex('0009 0006'));
    expect(v9Datagram({ count: 99, flowsets: [] })).toEqual(
      hex('0009 0063 00000000 00000000 00000000 00000000'),
    );
  });

  it('writes raw flowsets as given and rejects what v9 cannot express', () => {
    expect(v9Datagram({ flowsets: [{ kind: 'raw', id: 2, body: hex('010203') }] }).subarray(20)).toEqual(
      hex('0002 0008 010203 00'),
    );
    expect(() =>
      v9Datagram({
        flowsets: [
          { kind: 'template', templates: [{ id: 256, fields: [{ id: 1, length: 4, enterprise: 9 }] }] },
        ],
      }),
    ).toThrow(/enterprise/);
    expect(() =>
      v9Datagram({
        flowsets: [
          { kind: 'data', id: 256, fields: [{ id: 82, length: VARIABLE_LENGTH }], records: [['x']] },
        ],
      }),
    ).toThrow(/variable-length/);
  });
});

describe('IPFIX', () => {
  const fields: FieldSpec[] = [
    { id: 8, length: 4 }, // sourceIPv4Address
    { id: 82, length: VARIABLE_LENGTH }, // interfaceName
    { id: 1, length: 4, enterprise: 29305 }, // reverse octetDeltaCount (RFC 5103), reduced size
  ];

  it('encodes a template with an enterprise field and variable-length strings', () => {
    const message = ipfixMessage({
      exportTime: EPOCH,
      sequence: 1,
      observationDomainId: 5,
      sets: [
        { kind: 'template', templates: [{ id: 300, fields }] },
        {
          kind: 'data',
          id: 300,
          fields,
          records: [
            ['192.0.2.1', 'eth0', 7n],
            ['192.0.2.2', { longForm: 'ge-0/0/1' }, 9],
          ],
        },
      ],
    });
    expect(message).toEqual(
      hex(`
        000a 004c 6553f100 00000001 00000005   # version 10, length 76, export time, sequence 1, domain 5
        0002 0018 012c 0003    # template set, length 24; template 300, 3 fields
        0008 0004              # sourceIPv4Address, 4
        0052 ffff              # interfaceName, variable
        8001 0004 00007279     # enterprise bit + 1, 4 bytes, PEN 29305
        012c 0024              # data set 300, length 36
        c0000201 04 65746830 00000007                 # 192.0.2.1, "eth0" (1-byte length), 7
        c0000202 ff 0008 67652d302f302f31 00000009    # 192.0.2.2, "ge-0/0/1" (3-byte length), 9
      `),
    );
  });

  it('switches to the 3-byte length at 255 bytes', () => {
    const varlen = (value: string) =>
      ipfixMessage({
        sets: [{ kind: 'data', id: 256, fields: [{ id: 82, length: VARIABLE_LENGTH }], records: [[value]] }],
      }).subarray(20);
    expect(varlen('')).toEqual(hex('00'));
    expect(varlen('a'.repeat(254))).toEqual(concat(hex('fe'), new Uint8Array(254).fill(0x61)));
    expect(varlen('a'.repeat(255))).toEqual(concat(hex('ff 00ff'), new Uint8Array(255).fill(0x61)));
    expect(varlen('a'.repeat(300))).toEqual(concat(hex('ff 012c'), new Uint8Array(300).fill(0x61)));
  });

  it('encodes an options template with the scope field count', () => {
    const options = (padding?: 'align') =>
      ipfixMessage({
        sets: [
          {
            kind: 'options',
            templates: [
              {
                id: 400,
                scopeFields: [{ id: 149, length: 4 }],
                fields: [
                  { id: 41, length: 8 },
                  { id: 1, length: 2, enterprise: 9 },
                ],
              },
            ],
            ...(padding === undefined ? {} : { padding }),
          },
        ],
      });
    const body = `
      0190 0003 0001         # template 400, 3 fields, 1 scope field
      0095 0004              # scope: observationDomainId, 4
      0029 0008              # exportedMessageTotalCount, 8
      8001 0002 00000009     # enterprise 9 element 1, 2 bytes
    `;
    expect(options()).toEqual(hex(`000a 002a 00000000 00000000 00000000 0003 001a ${body}`));
    expect(options('align')).toEqual(hex(`000a 002c 00000000 00000000 00000000 0003 001c ${body} 0000`));
  });

  it('encodes template withdrawals, including withdraw-all', () => {
    const message = ipfixMessage({
      exportTime: 0x10,
      sequence: 2,
      observationDomainId: 1,
      sets: [
        { kind: 'withdrawal', templateIds: [256, 257] },
        { kind: 'withdrawal', setId: 3, templateIds: [3] },
      ],
    });
    expect(message).toEqual(
      hex(`
        000a 0024 00000010 00000002 00000001   # length 36
        0002 000c 0100 0000 0101 0000          # withdraw templates 256 and 257
        0003 0008 0003 0000                    # withdraw all options templates
      `),
    );
  });

  it('writes raw sets unpadded and honours a length override', () => {
    expect(ipfixMessage({ sets: [{ kind: 'raw', id: 4, body: hex('010203') }] })).toEqual(
      hex('000a 0017 00000000 00000000 00000000 0004 0007 010203'),
    );
    expect(ipfixMessage({ length: 1000, sets: [] }).subarray(0, 4)).toEqual(hex('000a 03e8'));
  });
});

describe('field values', () => {
  /** The bytes of one value in a one-field IPFIX data set. */
  const value = (length: number, v: FieldValue) =>
    ipfixMessage({ sets: [{ kind: 'data', id: 256, fields: [{ id: 1, length }], records: [[v]] }] }).subarray(
      20,
    );

  it('writes integers big-endian at the field size', () => {
    expect(value(4, 5n)).toEqual(hex('00000005'));
    expect(value(8, 5)).toEqual(hex('0000000000000005'));
    expect(value(8, 2n ** 60n + 1n)).toEqual(hex('1000000000000001'));
    expect(value(8, 2n ** 64n - 1n)).toEqual(hex('ffffffffffffffff'));
    expect(value(2, -1)).toEqual(hex('ffff'));
    expect(value(3, 0x010203)).toEqual(hex('010203'));
    expect(() => value(4, 2 ** 32)).toThrow(RangeError);
    expect(() => value(8, 2 ** 60)).toThrow(/bigint/);
    expect(() => value(1, 1.5)).toThrow(RangeError);
  });

  it('writes addresses and raw bytes', () => {
    expect(value(16, '2001:db8::1')).toEqual(hex('20010db8 00000000 00000000 00000001'));
    expect(value(16, '::ffff:192.0.2.1')).toEqual(hex('00000000 00000000 0000ffff c0000201'));
    expect(value(16, '::')).toEqual(new Uint8Array(16));
    expect(value(16, 'fe80:0:0:0:1:2:3:4')).toEqual(hex('fe80 0000 0000 0000 0001 0002 0003 0004'));
    expect(value(6, 'AA:bb:cc:dd:ee:0f')).toEqual(hex('aabbccddee0f'));
    expect(value(3, hex('0a0b0c'))).toEqual(hex('0a0b0c'));
    expect(() => value(4, '2001:db8::1')).toThrow(/length 4/);
    expect(() => value(4, '10.0.0.256')).toThrow(/not an IPv4/);
    expect(() => value(16, '1:2:3:4:5:6:7:8:9')).toThrow(/not an IPv4/);
    expect(() => value(4, { longForm: 'x' })).toThrow(/long form/);
  });
});

describe('byte helpers', () => {
  it('concatenates and appends zeros', () => {
    expect(concat(hex('01'), hex(''), hex('0203'))).toEqual(hex('010203'));
    const datagram = hex('0102');
    const padded = withTrailingZeros(datagram, 3);
    expect(padded).toEqual(hex('0102 000000'));
    padded[0] = 9;
    expect(datagram[0]).toBe(1);
  });
});

const hasTshark = spawnSync('tshark', ['--version']).status === 0;

/**
 * Dissects UDP payloads with tshark and returns, per packet, the values of `fields` (each a list, as a
 * field may occur several times). The payloads travel in a pcap of raw IPv4 packets (linktype 101)
 * built here, to `port` on 192.0.2.2.
 */
function dissect(
  port: number,
  payloads: readonly Uint8Array[],
  fields: readonly string[],
): Record<string, string[]>[] {
  const le32 = (n: number) => Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
  const be16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);
  const globalHeader = concat(hex('d4c3b2a1 0200 0400 00000000 00000000'), le32(65535), le32(101));
  const packets = payloads.map((payload) => {
    const udp = concat(be16(50000), be16(port), be16(8 + payload.length), be16(0), payload);
    const ip = concat(hex('4500'), be16(20 + udp.length), hex('0000 0000 4011 0000 c0000201 c0000202'), udp);
    return concat(le32(EPOCH), le32(0), le32(ip.length), le32(ip.length), ip);
  });
  const dir = mkdtempSync(join(tmpdir(), 'encoder-test-'));
  try {
    const file = join(dir, 'flows.pcap');
    writeFileSync(file, concat(globalHeader, ...packets));
    const args = ['-n', '-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|'];
    const out = execFileSync('tshark', [...args, ...fields.flatMap((f) => ['-e', f])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out
      .trimEnd()
      .split('\n')
      .map((line) => {
        const columns = line.split('\t');
        return Object.fromEntries(fields.map((f, i) => [f, columns[i] ? columns[i].split('|') : []]));
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!hasTshark)('cross-check with tshark', () => {
  const flow = {
    srcAddr: '10.0.0.1',
    dstAddr: '192.168.1.2',
    packets: 10,
    bytes: 1500,
    srcPort: 12345,
    dstPort: 443,
    protocol: 6,
    tcpFlags: 0x1b,
    tos: 0x10,
  };

  it('agrees on v1, v5 and v7', () => {
    const fields = [
      'cflow.version',
      'cflow.count',
      'cflow.srcaddr',
      'cflow.dstaddr',
      'cflow.packets',
      'cflow.octets',
    ];
    const more = [
      'cflow.srcport',
      'cflow.dstport',
      'cflow.protocol',
      'cflow.tcpflags',
      'cflow.tos',
      'cflow.routersc',
    ];
    const [v1, v5, v7] = dissect(
      2055,
      [
        encodeV1({ records: [flow] }),
        encodeV5({ records: [flow, { ...flow, srcAs: 64512 }] }),
        encodeV7({ records: [{ ...flow, routerSc: '172.16.0.1' }] }),
      ],
      [...fields, ...more, 'cflow.srcas'],
    );
    const common = {
      'cflow.srcaddr': ['10.0.0.1'],
      'cflow.dstaddr': ['192.168.1.2'],
      'cflow.packets': ['10'],
      'cflow.octets': ['1500'],
      'cflow.srcport': ['12345'],
      'cflow.dstport': ['443'],
      'cflow.protocol': ['6'],
      'cflow.tcpflags': ['0x1b'],
      'cflow.tos': ['0x10'],
    };
    expect(v1).toMatchObject({ 'cflow.version': ['1'], 'cflow.count': ['1'], ...common });
    expect(v5).toMatchObject({ 'cflow.version': ['5'], 'cflow.count': ['2'], 'cflow.srcas': ['0', '64512'] });
    expect(v5?.['cflow.octets']).toEqual(['1500', '1500']);
    expect(v7).toMatchObject({ 'cflow.version': ['7'], ...common, 'cflow.routersc': ['172.16.0.1'] });
  });

  it('agrees on a v9 template and data record', () => {
    const fields: FieldSpec[] = [
      { id: 8, length: 4 },
      { id: 12, length: 4 },
      { id: 2, length: 4 },
      { id: 1, length: 8 },
      { id: 11, length: 2 },
      { id: 4, length: 1 },
    ];
    const [packet] = dissect(
      2055,
      [
        v9Datagram({
          sourceId: 7,
          flowsets: [
            { kind: 'template', templates: [{ id: 256, fields }] },
            { kind: 'data', id: 256, fields, records: [['10.0.0.1', '10.0.0.2', 5, 2n ** 40n, 53, 17]] },
          ],
        }),
      ],
      [
        'cflow.count',
        'cflow.source_id',
        'cflow.template_id',
        'cflow.srcaddr',
        'cflow.dstaddr',
        'cflow.packets',
      ],
    );
    expect(packet).toEqual({
      'cflow.count': ['2'],
      'cflow.source_id': ['7'],
      'cflow.template_id': ['256'],
      'cflow.srcaddr': ['10.0.0.1'],
      'cflow.dstaddr': ['10.0.0.2'],
      'cflow.packets': ['5'],
    });
  });

  it('agrees on an IPFIX enterprise field and variable-length strings', () => {
    const fields: FieldSpec[] = [
      { id: 8, length: 4 },
      { id: 82, length: VARIABLE_LENGTH },
      { id: 1, length: 4, enterprise: 29305 },
    ];
    const [packet] = dissect(
      4739,
      [
        ipfixMessage({
          observationDomainId: 5,
          sets: [
            { kind: 'template', templates: [{ id: 300, fields }] },
            {
              kind: 'data',
              id: 300,
              fields,
              records: [
                ['192.0.2.1', 'eth0', 7],
                ['192.0.2.2', { longForm: 'ge-0/0/1' }, 9],
              ],
            },
          ],
        }),
      ],
      [
        'cflow.len',
        'cflow.od_id',
        'cflow.template_ipfix_field_pen',
        'cflow.srcaddr',
        'cflow.if_name',
        'cflow.string_len_long',
      ],
    );
    expect(packet).toEqual({
      'cflow.len': ['76'],
      'cflow.od_id': ['5'],
      'cflow.template_ipfix_field_pen': ['29305'],
      'cflow.srcaddr': ['192.0.2.1', '192.0.2.2'],
      'cflow.if_name': ['eth0', 'ge-0/0/1'],
      'cflow.string_len_long': ['8'],
    });
  });
});
