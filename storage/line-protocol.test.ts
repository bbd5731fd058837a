/**
 * Line protocol against hand-written lines: the schema's field types, escaping, large integers.
 */
import { describe, expect, it } from 'vitest';
import { cleanTagValue, LineProtocolError, toLine } from './line-protocol.js';
import { fieldType } from './schema.js';

describe('toLine', () => {
  it('writes counts as i integers, sorted tags and fields, millisecond time', () => {
    const line = toLine({
      measurement: 'traffic',
      tags: { exporter: '192.0.2.1', ifIndex: '3', ifName: 'ge-0/0/1', direction: 'in' },
      fields: { bytes: 1500, packets: 1, flows: 1 },
      time: 1_700_000_000_000,
    });
    expect(line).toBe(
      'traffic,direction=in,exporter=192.0.2.1,ifIndex=3,ifName=ge-0/0/1 bytes=1500i,flows=1i,packets=1i 1700000000000',
    );
  });

  it('writes schema floats without a suffix even when the value is whole', () => {
    const line = toLine({
      measurement: 'forecast',
      tags: { series: 'traffic/192.0.2.1/3/in', model: 'linear' },
      fields: { yhat: 5, lower: 2.5, upper: -1e-7 },
      time: 60_000,
    });
    expect(line).toBe(
      'forecast,model=linear,series=traffic/192.0.2.1/3/in lower=2.5,upper=-1e-7,yhat=5 60000',
    );
  });

  it('escapes spaces, commas and equals signs in tags and the measurement', () => {
    const line = toLine({
      measurement: 'my traffic,x',
      tags: { 'if name': 'Gi 0/1,uplink=core', exporter: 'a=b' },
      fields: { bytes: 1n },
      time: 0,
    });
    expect(line).toBe('my\\ traffic\\,x,exporter=a\\=b,if\\ name=Gi\\ 0/1\\,uplink\\=core bytes=1i 0');
  });

  it('turns backslashes and control characters in tag values into slashes and spaces', () => {
    expect(cleanTagValue('xe-0/0/0')).toBe('xe-0/0/0');
    expect(cleanTagValue('a\\ b\\')).toBe('a/ b/');
    expect(cleanTagValue('x\ny\tz\u0000')).toBe('x y z ');
    const line = toLine({
      measurement: 'traffic',
      tags: { ifName: 'uplink\\' },
      fields: { bytes: 1n },
      time: 0,
    });
    expect(line).toBe('traffic,ifName=uplink/ bytes=1i 0');
  });

  it('quotes strings and escapes quotes and backslashes in them', () => {
    const line = toLine({
      measurement: 'anomaly',
      tags: { kind: 'scan' },
      fields: { message: 'said "hi", then left', subject: 'C:\\dir', score: 0.5 },
      time: 1,
    });
    expect(line).toBe('anomaly,kind=scan message="said \\"hi\\", then left",score=0.5,subject="C:\\\\dir" 1');
  });

  it('keeps bigint integers above 2^53 exact and refuses what int64 cannot hold', () => {
    const big = 2n ** 53n + 1n;
    const line = toLine({ measurement: 'traffic', tags: {}, fields: { bytes: big }, time: 5 });
    expect(line).toBe('traffic bytes=9007199254740993i 5');
    expect(toLine({ measurement: 'traffic', tags: {}, fields: { bytes: 2n ** 63n - 1n }, time: 5 })).toBe(
      'traffic bytes=9223372036854775807i 5',
    );
    expect(() => toLine({ measurement: 'traffic', tags: {}, fields: { bytes: 2n ** 63n }, time: 5 })).toThrow(
      LineProtocolError,
    );
  });

  it('writes addresses of top talkers and flows as strings, ports as integers', () => {
    expect(
      toLine({
        measurement: 'flows',
        tags: { exporter: '192.0.2.1', protocol: 'tcp' },
        fields: { srcAddr: '2001:db8::1', dstAddr: '198.51.100.7', srcPort: 443, dstPort: 51000, bytes: 40 },
        time: 7,
      }),
    ).toBe(
      'flows,exporter=192.0.2.1,protocol=tcp bytes=40i,dstAddr="198.51.100.7",dstPort=51000i,srcAddr="2001:db8::1",srcPort=443i 7',
    );
  });

  it('leaves out empty tag values', () => {
    expect(
      toLine({ measurement: 'traffic', tags: { ifName: '', ifIndex: '1' }, fields: { bytes: 1 }, time: 0 }),
    ).toBe('traffic,ifIndex=1 bytes=1i 0');
  });

  it('refuses values that do not fit the field type, and points without fields', () => {
    const bad = [
      { measurement: 'traffic', tags: {}, fields: { bytes: 1.5 }, time: 0 },
      { measurement: 'traffic', tags: {}, fields: { bytes: 'many' }, time: 0 },
      { measurement: 'forecast', tags: {}, fields: { yhat: Number.NaN }, time: 0 },
      { measurement: 'top_talkers', tags: {}, fields: { addr: 1 }, time: 0 },
      { measurement: 'traffic', tags: {}, fields: {}, time: 0 },
      { measurement: 'traffic', tags: {}, fields: { bytes: 1 }, time: 0.5 },
    ];
    for (const point of bad) expect(() => toLine(point), JSON.stringify(point)).toThrow(LineProtocolError);
  });
});

describe('fieldType', () => {
  it('follows the schema, and the value only for fields outside it', () => {
    expect(fieldType('traffic', 'bytes', 1.5)).toBe('integer');
    expect(fieldType('capacity', 'capacityBps', 1)).toBe('float');
    expect(fieldType('anomaly', 'message', 'x')).toBe('string');
    expect(fieldType('flows', 'srcAddr', 'x')).toBe('string');
    expect(fieldType('flows', 'custom', 3)).toBe('float');
    expect(fieldType('flows', 'custom', 3n)).toBe('integer');
    expect(fieldType('other', 'flag', true)).toBe('boolean');
  });
});
