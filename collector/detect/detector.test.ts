import { describe, expect, it } from 'vitest';
import { ipv6ToBigInt, parsePrefix } from '../../common/cidr.js';
import { FlowRecord } from '../decode/flow.js';
import { DEFAULT_DETECTOR_OPTIONS, Detector, type DetectorOptions } from './detector.js';

const T0 = 1_700_000_000_000;
const ip = (text: string) => text.split('.').reduce((n, o) => n * 256 + Number(o), 0);
/** An IPv6 address as the four signed 32-bit words the decoder reads (FlowRecord `src6a`...). */
const words = (text: string): [number, number, number, number] => {
  const v = ipv6ToBigInt(text);
  return [96n, 64n, 32n, 0n].map((shift) => Number(BigInt.asIntN(32, v >> shift))) as [
    number,
    number,
    number,
    number,
  ];
};

function flow(init: {
  src: string | number;
  dst: string | number;
  protocol: number;
  srcPort?: number;
  dstPort?: number;
  flags?: number;
  packets?: number;
  bytes?: number;
  rate?: number;
  /** IPv6 as the decoder gives it (four words, no text) rather than as text. */
  ipv6Words?: boolean;
}): FlowRecord {
  const r = new FlowRecord('192.0.2.250', 9, 0);
  if (typeof init.src === 'number') r.srcAddr4 = init.src;
  else if (init.src.includes(':')) {
    if (init.ipv6Words) r.setSrcIPv6(...words(init.src));
    else r.srcAddr = init.src;
  } else r.srcAddr4 = ip(init.src);
  if (typeof init.dst === 'number') r.dstAddr4 = init.dst;
  else if (init.dst.includes(':')) {
    if (init.ipv6Words) r.setDstIPv6(...words(init.dst));
    else r.dstAddr = init.dst;
  } else r.dstAddr4 = ip(init.dst);
  r.protocol = init.protocol;
  r.srcPort = init.srcPort ?? 40000;
  r.dstPort = init.dstPort ?? 80;
  r.tcpFlags = init.flags;
  r.packets = init.packets ?? 1;
  r.bytes = init.bytes ?? 60 * (init.packets ?? 1);
  r.samplingRate = init.rate ?? 1;
  return r;
}

/** Options with only what a test sets: no static thresholds, no baseline. */
function options(over: Partial<DetectorOptions> = {}): DetectorOptions {
  return {
    ...DEFAULT_DETECTOR_OPTIONS,
    defaultThresholds: {},
    baseline: { factor: 0, minPps: 0, warmupMs: 0, halfLifeMs: 60_000 },
    scan: { ...DEFAULT_DETECTOR_OPTIONS.scan, minPairs: 100 },
    ...over,
  };
}

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const PSH = 0x08;

describe('Detector: destinations', () => {
  it('reports a SYN flood from one source with its rate over the window and one source', () => {
    const d = new Detector(options({ defaultThresholds: { synPps: 5000, pps: 100_000 } }));
    // 50 000 SYN-only flows of one packet in a 5 s window: 10 000 SYN packets/s.
    const records = Array.from({ length: 50_000 }, (_, i) =>
      flow({ src: '198.51.100.7', dst: '10.0.0.1', protocol: 6, srcPort: 1024 + (i % 60000), flags: SYN }),
    );
    d.ingest(records, T0);
    const out = d.evaluate(T0 + 5000);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      kind: 'syn_flood',
      subject: '10.0.0.1',
      metric: 'syn_pps',
      value: 10_000,
      limit: 5000,
      score: 2,
      sources: 1,
      group: 'default',
      exporter: '192.0.2.250',
    });
    expect(out[0]!.message).toContain('one source');
    // The next window is empty: nothing to report.
    expect(d.evaluate(T0 + 10_000)).toEqual([]);
  });

  it('reports a UDP flood from many sources as ddos with about the number of sources', () => {
    const d = new Detector(options({ defaultThresholds: { udpPps: 1000 } }));
    const records = [];
    for (let s = 0; s < 2000; s++)
      records.push(flow({ src: 0xc633_0000 + s, dst: '10.0.0.2', protocol: 17, dstPort: 53, packets: 5 }));
    d.ingest(records, T0);
    const [a, ...rest] = d.evaluate(T0 + 5000);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ kind: 'ddos', subject: '10.0.0.2', metric: 'udp_pps', value: 2000 });
    // HyperLogLog at p = 8: within 4 standard errors (4 × 6.5 %) of 2000.
    expect(a!.sources).toBeGreaterThan(2000 * 0.74);
    expect(a!.sources).toBeLessThan(2000 * 1.26);
  });

  it('upscales packets and bytes by the sampling rate', () => {
    const d = new Detector(options({ defaultThresholds: { pps: 10_000, mbps: 100 } }));
    // 100 sampled flows of 1 packet of 1500 bytes at 1:1000 in 10 s: 10 000 pps, 120 Mbit/s.
    d.ingest(
      Array.from({ length: 100 }, (_, i) =>
        flow({ src: 0x0a00_0100 + i, dst: '10.0.0.3', protocol: 6, flags: ACK, bytes: 1500, rate: 1000 }),
      ),
      T0,
    );
    const [a] = d.evaluate(T0 + 10_000);
    // pps 10 000 is not above 10 000; mbps 120 > 100 (score 1.2).
    expect(a).toMatchObject({ kind: 'ddos', metric: 'mbps', value: 120, score: 1.2 });
  });

  it('counts UDP from amplification source ports and fragments separately', () => {
    const d = new Detector(options({ defaultThresholds: { amplificationPps: 100, fragmentPps: 100 } }));
    const amp = Array.from({ length: 1000 }, (_, i) =>
      flow({ src: 0x0b00_0000 + i, dst: '10.0.0.4', protocol: 17, srcPort: 123, dstPort: 30000 + i }),
    );
    const benignUdp = Array.from({ length: 1000 }, (_, i) =>
      flow({ src: 0x0c00_0000 + i, dst: '10.0.0.5', protocol: 17, srcPort: 40000, dstPort: 123 }),
    );
    const fragments = Array.from({ length: 1000 }, (_, i) =>
      flow({ src: 0x0d00_0000 + i, dst: '10.0.0.6', protocol: 17, srcPort: 0, dstPort: 0 }),
    );
    d.ingest([...amp, ...benignUdp, ...fragments], T0);
    const out = d.evaluate(T0 + 5000);
    expect(out.map((x) => [x.subject, x.metric, x.value])).toEqual([
      ['10.0.0.4', 'amplification_pps', 200],
      ['10.0.0.6', 'fragment_pps', 200],
    ]);
  });

  it('uses the thresholds of the longest matching host group, IPv4 and IPv6', () => {
    const d = new Detector(
      options({
        defaultThresholds: { pps: 1_000_000 },
        groups: [
          { name: 'wide', networks: [parsePrefix('10.0.0.0/8')!], thresholds: { pps: 500 } },
          { name: 'narrow', networks: [parsePrefix('10.1.0.0/16')!], thresholds: { pps: 5000 } },
          { name: 'v6', networks: [parsePrefix('2001:db8::/32')!], thresholds: { pps: 100 } },
        ],
      }),
    );
    const many = (dst: string, n: number) =>
      Array.from({ length: n }, () => flow({ src: '1.2.3.4', dst, protocol: 6, flags: ACK }));
    // 1000 pps each over 1 s.
    d.ingest(
      [
        ...many('10.2.0.1', 1000),
        ...many('10.1.0.1', 1000),
        ...many('2001:db8::1', 1000),
        ...many('192.0.2.1', 1000),
      ],
      T0,
    );
    const out = d.evaluate(T0 + 1000);
    expect(out.map((x) => [x.subject, x.group, x.limit])).toEqual([
      ['10.2.0.1', 'wide', 500],
      ['2001:db8::1', 'v6', 100],
    ]);
  });

  it('judges IPv6 read as words (as the decoder gives it) as its text: subject, host group, sources, scans', () => {
    const d = new Detector(
      options({
        defaultThresholds: { pps: 1_000_000 },
        groups: [{ name: 'v6', networks: [parsePrefix('2001:db8::/32')!], thresholds: { synPps: 100 } }],
      }),
    );
    const records = [];
    // 300 sources, 5 SYN-only flows each, to one host in 1 s: 1500 SYN/s.
    for (let s = 0; s < 300; s++)
      for (let k = 0; k < 5; k++)
        records.push(
          flow({
            src: `2001:db8:aa::${(s + 1).toString(16)}`,
            dst: '2001:db8::1',
            protocol: 6,
            srcPort: 1024 + k,
            flags: SYN,
            ipv6Words: true,
          }),
        );
    // One source probing 300 ports of another host.
    for (let p = 1; p <= 300; p++)
      records.push(
        flow({
          src: '2001:db8:ffff::7',
          dst: '2001:db8::2',
          protocol: 6,
          dstPort: p,
          flags: SYN,
          ipv6Words: true,
        }),
      );
    d.ingest(records, T0);
    const out = d.evaluate(T0 + 1000);
    const flood = out.find((x) => x.kind === 'syn_flood');
    expect(flood).toMatchObject({ subject: '2001:db8::1', group: 'v6', metric: 'syn_pps', value: 1500 });
    // 300 distinct sources, within HyperLogLog's linear counting error (m = 256, 4 standard errors).
    expect(flood!.sources).toBeGreaterThan(300 * 0.8);
    expect(flood!.sources).toBeLessThan(300 * 1.2);
    const scan = out.find((x) => x.kind === 'scan');
    expect(scan).toMatchObject({ subject: '2001:db8:ffff::7', metric: 'vertical', group: 'v6' });
    expect(scan!.message).toContain('ports of 2001:db8::2');
  });

  it('finds a crossed baseline when checking the open window, as the close would', () => {
    const d = new Detector(
      options({
        defaultThresholds: { pps: 100_000 },
        baseline: { factor: 10, minPps: 1000, warmupMs: 60_000, halfLifeMs: 60_000 },
      }),
    );
    let t = T0;
    const ingest = (pps: number) =>
      d.ingest(
        Array.from({ length: pps * 5 }, (_, i) =>
          flow({
            src: `2001:db8:1::${(i % 50) + 1}`,
            dst: '2001:db8::9',
            protocol: 6,
            flags: ACK,
            ipv6Words: true,
          }),
        ),
        t,
      );
    // 2 minutes of a steady 200 pps: the baseline learns 200.
    for (let i = 0; i < 24; i++) {
      ingest(200);
      t += 5000;
      expect(d.evaluate(t)).toEqual([]);
    }
    // 5 s at 4000 pps, checked over the window's 5 s: above 10 × 200 and above minPps.
    ingest(4000);
    const [peeked] = d.peek(t + 1000, 5000);
    expect(peeked).toMatchObject({
      kind: 'ddos',
      subject: '2001:db8::9',
      metric: 'pps_baseline',
      value: 4000,
    });
    expect(d.evaluate(t + 5000)[0]).toMatchObject({ subject: '2001:db8::9', metric: 'pps_baseline' });
  });

  it('catches a host ten times above its own baseline while under every static threshold', () => {
    const d = new Detector(
      options({
        defaultThresholds: { pps: 100_000 },
        baseline: { factor: 10, minPps: 1000, warmupMs: 60_000, halfLifeMs: 60_000 },
      }),
    );
    let t = T0;
    const window = (pps: number, dst = '10.0.0.9') => {
      // pps over a 5 s window, as 5 × pps one-packet flows.
      d.ingest(
        Array.from({ length: pps * 5 }, (_, i) =>
          flow({ src: 0x0e00_0000 + (i % 50), dst, protocol: 6, flags: ACK | PSH }),
        ),
        t,
      );
      t += 5000;
      return d.evaluate(t);
    };
    // 2 minutes of a steady 300 pps: nothing reported, the baseline learns 300.
    for (let i = 0; i < 24; i++) expect(window(300)).toEqual([]);
    // 2000 pps: above 1000 (minPps), below 10 × 300: not an attack on this host.
    expect(window(2000)).toEqual([]);
    // 5000 pps: above 10 × its baseline (about 300-450 after the 2000 pps window).
    const [a] = window(5000);
    expect(a).toMatchObject({ kind: 'ddos', subject: '10.0.0.9', metric: 'pps_baseline', value: 5000 });
    expect(a!.expected).toBeGreaterThan(300);
    expect(a!.expected).toBeLessThan(500);
    // A new host at 5000 pps has no baseline yet: only the static threshold applies.
    expect(window(5000, '10.0.0.10')).toEqual([]);
  });

  it('reports nothing on benign web and DNS traffic', () => {
    const d = new Detector(
      options({
        defaultThresholds: { ...DEFAULT_DETECTOR_OPTIONS.defaultThresholds, synPps: 1000, udpPps: 5000 },
      }),
    );
    const records = [];
    // 300 clients, 20 complete HTTP connections each, to one server; replies too.
    for (let c = 0; c < 300; c++)
      for (let k = 0; k < 20; k++) {
        records.push(
          flow({
            src: 0x0a01_0000 + c,
            dst: '10.9.9.9',
            protocol: 6,
            srcPort: 30000 + k,
            dstPort: 80,
            flags: SYN | ACK | PSH | FIN,
            packets: 6,
          }),
        );
        records.push(
          flow({
            src: '10.9.9.9',
            dst: 0x0a01_0000 + c,
            protocol: 6,
            srcPort: 80,
            dstPort: 30000 + k,
            flags: SYN | ACK | PSH | FIN,
            packets: 5,
          }),
        );
      }
    // A resolver asking 1000 servers on port 53 (one port, many hosts, but UDP with answers).
    for (let s = 0; s < 1000; s++)
      records.push(flow({ src: '10.8.8.8', dst: 0x0b01_0000 + s, protocol: 17, dstPort: 53 }));
    d.ingest(records, T0);
    expect(d.evaluate(T0 + 5000)).toEqual([]);
  });
});

describe('Detector: scans', () => {
  it('tells vertical, horizontal and block scans apart, with the scanning source as subject', () => {
    const d = new Detector(options());
    const records = [];
    for (let p = 1; p <= 1000; p++)
      records.push(flow({ src: '203.0.113.1', dst: '10.0.0.1', protocol: 6, dstPort: p, flags: SYN }));
    for (let h = 1; h <= 254; h++)
      records.push(flow({ src: '203.0.113.2', dst: 0x0a00_0100 + h, protocol: 6, dstPort: 22, flags: SYN }));
    for (let h = 1; h <= 50; h++)
      for (let p = 1; p <= 20; p++)
        records.push(flow({ src: '203.0.113.3', dst: 0x0a00_0200 + h, protocol: 6, dstPort: p, flags: SYN }));
    // 90 ports: under minPairs (100).
    for (let p = 1; p <= 90; p++)
      records.push(flow({ src: '203.0.113.4', dst: '10.0.0.1', protocol: 6, dstPort: p, flags: SYN }));
    d.ingest(records, T0);
    const out = d.evaluate(T0 + 5000);
    expect(out.map((x) => [x.kind, x.subject, x.metric])).toEqual([
      ['scan', '203.0.113.1', 'vertical'],
      ['scan', '203.0.113.2', 'horizontal'],
      ['scan', '203.0.113.3', 'block'],
    ]);
    // Distinct pairs, within HyperLogLog's error (p = 8, 4 standard errors).
    expect(out[0]!.value).toBeGreaterThan(740);
    expect(out[0]!.value).toBeLessThan(1260);
    expect(out[1]!.message).toContain('port 22');
  });

  it('accumulates a slow scan over the scan window, not just one tick', () => {
    const d = new Detector(options({ scan: { ...options().scan, windowMs: 60_000 } }));
    const found = [];
    for (let tick = 0; tick < 6; tick++) {
      d.ingest(
        Array.from({ length: 30 }, (_, i) =>
          flow({ src: '203.0.113.9', dst: '10.0.0.1', protocol: 6, dstPort: tick * 30 + i + 1, flags: SYN }),
        ),
        T0 + tick * 5000,
      );
      found.push(d.evaluate(T0 + (tick + 1) * 5000).length);
    }
    // 30 new ports per tick: past 100 pairs in the fourth tick.
    expect(found).toEqual([0, 0, 0, 1, 1, 1]);
  });
});

describe('Detector: memory bound', () => {
  it('keeps its tables fixed through a million distinct sources in one interval, and still finds the attacks', () => {
    const d = new Detector(options({ defaultThresholds: { synPps: 20_000 } }));
    const bound = d.memoryBytes();
    const before = process.memoryUsage();
    const records = Array.from({ length: 1000 }, () => flow({ src: 0, dst: 0, protocol: 6, flags: SYN }));
    const scanner = [flow({ src: '203.0.113.66', dst: '10.0.0.77', protocol: 6, flags: SYN })];
    // A million spoofed sources, each sending one SYN: half to 10.0.0.1 (500 000 SYN in 5 s:
    // 100 000/s), half to 500 000 distinct other hosts (one each: noise that churns both tables),
    // and among them one source probing 1000 ports of 10.0.0.77.
    for (let i = 0; i < 1000; i++) {
      for (let j = 0; j < 1000; j++) {
        const r = records[j]!;
        r.srcAddr4 = 0x2000_0000 + i * 1000 + j;
        r.dstAddr4 = j % 2 === 0 ? ip('10.0.0.1') : 0x3000_0000 + i * 1000 + j;
      }
      d.ingest(records, T0);
      scanner[0]!.dstPort = 1 + i;
      d.ingest(scanner, T0);
    }
    const after = process.memoryUsage();
    const out = d.evaluate(T0 + 5000);
    const flood = out.find((x) => x.kind === 'syn_flood');
    expect(flood).toMatchObject({ subject: '10.0.0.1', metric: 'syn_pps' });
    // 500 000 SYN over 5 s; Space-Saving may undercount by at most N/k (1 000 000 / 4096 packets).
    expect(flood!.value).toBeGreaterThan(100_000 - 1_000_000 / 4096 / 5);
    expect(flood!.value).toBeLessThanOrEqual(100_000);
    expect(flood!.sources).toBeGreaterThan(500_000 * 0.74);
    expect(flood!.sources).toBeLessThan(500_000 * 1.26);
    expect(out.find((x) => x.kind === 'scan')).toMatchObject({ subject: '203.0.113.66', metric: 'vertical' });
    // No other host crossed a limit (each of the 500 000 got one packet).
    expect(out).toHaveLength(2);
    // Growth of the heap and array buffers stays within the stated bound (plus slack for V8).
    const grown = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
    expect(grown).toBeLessThan(bound + 8 * 2 ** 20);
    expect(bound).toBeLessThan(64 * 2 ** 20);
  });

  it('keeps at most baselineHosts baselines, forgetting the least recently updated', () => {
    const d = new Detector(
      options({ baselineHosts: 1000, baseline: { factor: 10, minPps: 0, warmupMs: 0, halfLifeMs: 60_000 } }),
    );
    for (let tick = 0; tick < 10; tick++) {
      d.ingest(
        Array.from({ length: 3000 }, (_, i) =>
          flow({ src: '1.1.1.1', dst: 0x0a00_0000 + tick * 3000 + i, protocol: 6, flags: ACK }),
        ),
        T0 + tick * 5000,
      );
      d.evaluate(T0 + (tick + 1) * 5000);
      expect(d.baselineCount).toBeLessThanOrEqual(1000);
    }
    expect(d.baselinesEvicted).toBe(30_000 - 1000);
  });
});
