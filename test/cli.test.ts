/**
 * The flowcast command as a user runs it (a child process): decode, replay, check-config, --help.
 */
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeV5, type FieldSpec, ipfixMessage } from './support/encoder.js';
import { udpPcap } from './support/pcap-writer.js';
import { runFlowcast } from './support/run-cli.js';

let work = '';
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'flowcast-cli-'));
});
afterAll(async () => {
  if (work !== '') await rm(work, { recursive: true, force: true });
});

const flowcast = runFlowcast;

const FIELDS: FieldSpec[] = [
  { id: 8, length: 4 },
  { id: 12, length: 4 },
  { id: 1, length: 4 },
];

describe('flowcast decode', () => {
  it('prints JSON lines from a capture, reports malformed datagrams on stderr, exits 0', async () => {
    const pcap = join(work, 'mixed.pcap');
    const template = ipfixMessage({
      exportTime: 1_700_000_000,
      sets: [{ kind: 'template', templates: [{ id: 256, fields: FIELDS }] }],
    });
    const data = ipfixMessage({
      exportTime: 1_700_000_000,
      sets: [
        {
          kind: 'data',
          id: 256,
          fields: FIELDS,
          records: [
            ['10.0.0.1', '10.0.0.2', 1500],
            ['10.0.0.3', '10.0.0.4', 40],
          ],
        },
      ],
    });
    const truncated = data.subarray(0, 10);
    await writeFile(
      pcap,
      udpPcap([
        { payload: template },
        { payload: truncated },
        { payload: data },
        { payload: encodeV5({ records: [{ bytes: 7 }] }) },
      ]),
    );
    const { code, stdout, stderr } = await flowcast(['decode', '--json', pcap]);
    expect(code).toBe(0);
    const records = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => r['bytes'])).toEqual([1500, 40, 7]);
    expect(records[0]).toMatchObject({
      exporter: '192.0.2.1',
      version: 10,
      srcAddr: '10.0.0.1',
      dstAddr: '10.0.0.2',
      templateId: 256,
    });
    expect(stderr).toMatch(/datagram 2 from 192\.0\.2\.1: malformed \(short_header\)/);
    expect(stderr).toMatch(/4 datagrams, 3 records, 1 malformed/);
  });

  it('a missing file, a .pcap that is no capture, or a file that is no datagram is an error (exit 1), named on stderr', async () => {
    const notCapture = join(work, 'random.pcap');
    // Bytes that start like no capture and no datagram version.
    await writeFile(notCapture, Buffer.from('0123456789abcdef'.repeat(100)));
    const text = join(work, 'notes.bin');
    await writeFile(text, 'hello, this is not a datagram\n');
    const good = join(work, 'good.bin');
    await writeFile(good, encodeV5({ records: [{ bytes: 9 }] }));
    const { code, stdout, stderr } = await flowcast([
      'decode',
      join(work, 'missing.pcap'),
      notCapture,
      text,
      good,
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain('missing.pcap: cannot read: ENOENT');
    expect(stderr).toContain('random.pcap: not a pcap or pcapng capture');
    expect(stderr).toContain('notes.bin: neither a pcap/pcapng capture nor a NetFlow');
    // What could be decoded still was.
    expect((JSON.parse(stdout.trim()) as { bytes: number }).bytes).toBe(9);
  });

  it('decodes raw .bin datagrams with one template cache across files', async () => {
    const tpl = join(work, 'a.bin');
    const data = join(work, 'b.bin');
    await writeFile(
      tpl,
      ipfixMessage({ exportTime: 1, sets: [{ kind: 'template', templates: [{ id: 300, fields: FIELDS }] }] }),
    );
    await writeFile(
      data,
      ipfixMessage({
        exportTime: 1,
        sets: [{ kind: 'data', id: 300, fields: FIELDS, records: [['1.1.1.1', '2.2.2.2', 9]] }],
      }),
    );
    const { code, stdout } = await flowcast(['decode', tpl, data, '--exporter', '198.51.100.1']);
    expect(code).toBe(0);
    const record = JSON.parse(stdout) as Record<string, unknown>;
    expect(record).toMatchObject({ exporter: '198.51.100.1', bytes: 9, srcAddr: '1.1.1.1' });
    expect('start' in record).toBe(false); // keys the exporter did not send are left out
  });
});

describe('flowcast replay', () => {
  it('sends every datagram of a capture to the target, with a progress line', async () => {
    const socket = createSocket('udp4');
    const received: Buffer[] = [];
    socket.on('message', (m) => received.push(m));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const port = socket.address().port;
    const pcap = join(work, 'replay.pcap');
    const payloads = Array.from({ length: 20 }, (_, i) =>
      encodeV5({ flowSequence: i, records: [{ bytes: i }] }),
    );
    await writeFile(pcap, udpPcap(payloads.map((payload) => ({ payload }))));
    const { code, stderr } = await flowcast([
      'replay',
      pcap,
      '--to',
      `127.0.0.1:${port}`,
      '--rate',
      '0',
      '--loop',
      '2',
    ]);
    await new Promise((r) => setTimeout(r, 200));
    socket.close();
    expect(code).toBe(0);
    expect(stderr).toContain('sent 40/40 datagrams');
    expect(received).toHaveLength(40);
    expect(Buffer.compare(received[3]!, Buffer.from(payloads[3]!))).toBe(0);
  });

  it('refuses a bad target with a message naming the option', async () => {
    const { code, stderr } = await flowcast(['replay', join(work, 'replay.pcap'), '--to', 'nowhere']);
    expect(code).not.toBe(0);
    expect(stderr).toContain('--to');
  });
});

describe('flowcast check-config', () => {
  it('prints the effective configuration, environment over file, secrets masked', async () => {
    const file = join(work, 'ok.yaml');
    await writeFile(file, 'collector:\n  netflowPort: 9995\nstorage:\n  influx:\n    token: secret\n');
    const { code, stdout } = await flowcast(['check-config', '--config', file], {
      FLOWCAST_IPFIX_PORT: '4740',
    });
    expect(code).toBe(0);
    const config = JSON.parse(stdout) as {
      collector: { netflowPort: number; ipfixPort: number };
      storage: { influx: { token: string } };
    };
    expect(config.collector.netflowPort).toBe(9995);
    expect(config.collector.ipfixPort).toBe(4740);
    expect(config.storage.influx.token).toBe('***');
  });

  it('stops on an unknown key or a bad value, naming the key', async () => {
    const file = join(work, 'bad.yaml');
    await writeFile(file, 'collector:\n  netflowport: 9995\n');
    const unknown = await flowcast(['check-config', '--config', file]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('collector.netflowport: unknown key');
    const bad = await flowcast(['check-config'], { FLOWCAST_HTTP_PORT: '70000' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/http\.port \(from FLOWCAST_HTTP_PORT\)/);
  });
});

describe('flowcast --version', () => {
  it('prints the version of the package', async () => {
    const { code, stdout } = await flowcast(['--version']);
    expect(code).toBe(0);
    const pkg = (await import('../package.json', { with: { type: 'json' } })).default as { version: string };
    expect(stdout.trim()).toBe(pkg.version);
  });
});

describe('flowcast --help', () => {
  it('lists the commands and the environment variables', async () => {
    const { code, stdout } = await flowcast(['--help']);
    expect(code).toBe(0);
    for (const word of ['serve', 'decode', 'replay', 'check-config', 'FLOWCAST_INFLUX_URL'])
      expect(stdout).toContain(word);
  });
});
