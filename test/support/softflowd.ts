/**
 * Test support: the real softflowd as an exporter of NetFlow v5, v9 and IPFIX, fed with a
 * deterministic synthetic traffic capture.
 *
 * softflowd 1.1.0 in offline mode (`-r FILE`) reads the whole capture, expires every flow at end of
 * file and exits, printing statistics. What it takes to make that reliable:
 *
 * - No `-c CTLSOCKET`: `-r` turns the control socket off, and turning it back on makes the main loop
 *   read poll results it never filled in for offline mode (uninitialised stack), so it can block in
 *   accept() forever. With Debian's build that happens for `-v 10` and not for 5 or 9.
 * - `-a` (adjust time to the capture): without it flow times are capture time minus the wall-clock
 *   start of softflowd, i.e. garbage for an old capture; with it the exporter "boots" at the first
 *   packet and every header time (uptime, export time, systemInitTimeMilliseconds) follows the
 *   capture clock.
 * - `-p` to a temporary file: softflowd unlinks its pid file on exit, by default
 *   /var/run/softflowd.pid, which may belong to a running daemon.
 *
 * Observed export behaviour (tshark confirms it): byte counts are IP-layer bytes (IPv4 total length,
 * IPv6 40-byte header + payload length); v5 drops IPv6 flows; v9 and IPFIX send IPv4 TCP/UDP (1024),
 * ICMP (1025), IPv6 TCP/UDP (2048) and ICMPv6 (2049) templates with uptime-based FIRST/LAST_SWITCHED
 * (IEs 22/21), IPFIX also an options record with systemInitTimeMilliseconds; v9 headers count only
 * data records, not templates or options (RFC 3954 says all records).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatIPv6 } from '../../collector/decode/addr.js';
import { collectExports, type ExportedDatagram, type ExportRunOptions, runToExit } from './export-socket.js';
import { classicPcap, ethernetFrame, ipPacket, parseIp, type Transport } from './pcap-writer.js';
import { prng } from './random.js';
import { findExecutable, toolRuns } from './tools.js';

export type { ExportedDatagram };

/** Whether softflowd is installed (PATH or sbin) and runs (`softflowd -h` exits 0). Cached. */
export function softflowdAvailable(): boolean {
  return toolRuns('softflowd', ['-h']);
}

/** Options of the run: see ExportRunOptions. */
export type SoftflowdOptions = ExportRunOptions;

/**
 * Runs softflowd over `trafficPcap` (`-r`, `-a`, offline mode) exporting NetFlow `version` (10 =
 * IPFIX) to a UDP socket on a free loopback port, and returns every datagram it sent, in order.
 * Rejects if softflowd fails or does not finish within the timeout.
 */
export async function exportWithSoftflowd(
  version: 5 | 9 | 10,
  trafficPcap: string,
  options: SoftflowdOptions = {},
): Promise<ExportedDatagram[]> {
  const quietMs = options.quietMs ?? 250;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const executable = findExecutable('softflowd');
  if (executable === undefined) throw new Error('softflowd is not installed');

  return collectExports('softflowd', quietMs, async (port, workDir) => {
    const args = ['-r', trafficPcap, '-n', `127.0.0.1:${port}`, '-v', String(version), '-d', '-a'];
    args.push('-p', join(workDir, 'softflowd.pid'));
    await runToExit(executable, args, timeoutMs);
  });
}

/** Options of {@link generateTrafficPcap}. */
export interface TrafficOptions {
  /** PRNG seed: the same seed gives the same file. Default 1. */
  seed?: number;
  /** Number of flows (each in one direction; some TCP flows also get a reply flow). Default 40. */
  flows?: number;
  /** Time of the first packet, ms since the epoch. Default 2024-05-01T12:00:00Z. */
  start?: number;
  /** Every packet falls within this many ms after `start`. Default 60000. */
  durationMs?: number;
  /** Include IPv6 flows (every fourth). Default true. */
  ipv6?: boolean;
}

/** One generated packet, as an exporter should account for it. */
export interface TrafficPacket {
  /** Capture time, ms since the epoch (whole microseconds, as written to the file). */
  timestamp: number;
  src: string;
  dst: string;
  /** 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6. */
  protocol: number;
  /** 0 for ICMP. */
  srcPort: number;
  /** 0 for ICMP. */
  dstPort: number;
  /** Length of the IP packet (header included): what NetFlow counts as bytes. */
  ipLength: number;
}

/** RFC 5952 text of an IPv6 address, as exporters' records will be compared in. */
function canonical(address: string): string {
  return formatIPv6(parseIp(address), 0);
}

const TCP_SERVICES = [22, 25, 80, 443, 993, 8080];
const UDP_SERVICES = [53, 123, 161, 514, 4789, 5353];
const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;
const FIN = 0x01;

/**
 * Writes a deterministic synthetic traffic capture (Ethernet, classic pcap, microsecond times) to
 * `path`: TCP, UDP and ICMP flows over IPv4 and IPv6 with varied addresses (IPv6 ones with zero
 * runs, in RFC 5952 form), ports, packet counts (1-30) and sizes (0-1400 payload bytes), spread over `durationMs`
 * (at least a few seconds).
 * Returns the packets in capture order.
 */
export async function generateTrafficPcap(
  path: string,
  options: TrafficOptions = {},
): Promise<TrafficPacket[]> {
  const random = prng(options.seed ?? 1);
  const flowCount = options.flows ?? 40;
  const start = options.start ?? Date.UTC(2024, 4, 1, 12);
  const durationMs = options.durationMs ?? 60_000;
  const ipv6 = options.ipv6 ?? true;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

  const captured: { packet: TrafficPacket; bytes: Uint8Array }[] = [];
  const add = (timeUs: number, src: string, dst: string, transport: Transport): void => {
    const bytes = ipPacket({ src, dst, transport, ttl: 64 });
    const isV6 = src.includes(':');
    const protocol = transport.kind === 'tcp' ? 6 : transport.kind === 'udp' ? 17 : isV6 ? 58 : 1;
    const [srcPort, dstPort] = transport.kind === 'icmp' ? [0, 0] : [transport.srcPort, transport.dstPort];
    captured.push({
      packet: { timestamp: timeUs / 1000, src, dst, protocol, srcPort, dstPort, ipLength: bytes.length },
      bytes,
    });
  };
  // Gaps between a flow's packets: at most 1 s, and small enough that 30 of them fit in 3/4 of the duration.
  const maxGapUs = Math.max(2, Math.min(1_000_000, Math.floor((durationMs * 1000) / 40)));

  for (let i = 0; i < flowCount; i++) {
    const v6 = ipv6 && i % 4 === 3;
    const client = v6
      ? canonical(`2001:db8:0:${i}::${(i * 7) % 256 || 1}`)
      : `10.${i >> 8}.${i & 0xff}.${1 + (i % 200)}`;
    const server = v6 ? canonical(`2001:db8:ffff:0:1:0:0:${i + 1}`) : `192.0.2.${1 + ((i * 37) % 250)}`;
    const kind = pick(['tcp', 'tcp', 'udp', 'udp', 'icmp'] as const);
    const count = 1 + Math.floor(random() * 30);
    const clientPort = 20000 + i * 13;
    const serverPort = pick(kind === 'tcp' ? TCP_SERVICES : UDP_SERVICES);
    const withReplies = kind === 'tcp' && random() < 0.5;
    const gapsUs = Array.from({ length: count }, (_, n) =>
      n === 0 ? 0 : 1 + Math.floor(random() * (maxGapUs - 1)),
    );
    const spanUs = gapsUs.reduce((sum, gap) => sum + gap, 0);
    let timeUs = start * 1000 + Math.floor(random() * Math.max(1, durationMs * 1000 - spanUs - 1000));
    for (let n = 0; n < count; n++) {
      timeUs += gapsUs[n]!;
      const payload = new Uint8Array(Math.floor(random() * 1401)).map((_, b) => (b * 31 + i) & 0xff);
      if (kind === 'icmp') {
        add(timeUs, client, server, { kind: 'icmp', type: v6 ? 128 : 8, code: 0, payload });
      } else if (kind === 'udp') {
        add(timeUs, client, server, { kind: 'udp', srcPort: clientPort, dstPort: serverPort, payload });
      } else {
        const flags = n === 0 ? SYN : n === count - 1 && count > 1 ? FIN | ACK : ACK | PSH;
        add(timeUs, client, server, {
          kind: 'tcp',
          srcPort: clientPort,
          dstPort: serverPort,
          flags,
          payload,
        });
        if (withReplies) {
          const reply = new Uint8Array(Math.floor(random() * 1401));
          const replyFlags = n === 0 ? SYN | ACK : flags;
          add(timeUs + 250, server, client, {
            kind: 'tcp',
            srcPort: serverPort,
            dstPort: clientPort,
            flags: replyFlags,
            payload: reply,
          });
        }
      }
    }
  }

  captured.sort((a, b) => a.packet.timestamp - b.packet.timestamp);
  await writeFile(
    path,
    classicPcap(
      captured.map(({ packet, bytes }) => ({ timestamp: packet.timestamp, data: ethernetFrame(bytes) })),
    ),
  );
  return captured.map(({ packet }) => packet);
}
