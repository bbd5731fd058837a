/**
 * Test support: the real pmacct (`pmacctd` with its `nfprobe` plugin) as a second exporter of
 * NetFlow v5, v9 and IPFIX, fed with a capture from {@link generateTrafficPcap}.
 *
 * pmacctd 1.7.7 replays a libpcap savefile (`pcap_savefile`) and exits at end of file; what it takes
 * (read in the 1.7.7 sources, src/pmacctd.c, src/signals.c, src/nfprobe_plugin/):
 *
 * - At end of file the core calls its SIGINT handler: it flushes its buffer into the plugin pipe,
 *   sleeps a fixed 2 s, sends SIGINT to the plugins and waits for them; nfprobe then expires every
 *   flow (exports them all) and exits, and the core exits 0. No `pcap_savefile_wait` (that would wait
 *   for a signal forever).
 * - Before reading, the core sleeps so that the plugins can start: 2 s by default, or
 *   `pcap_savefile_delay` whole seconds; 1 is the least there is (0 means the default). So a run takes
 *   about 3 s, whatever the capture.
 * - Reading a savefile, nfprobe never expires flows by time (only when the flow table is full, 8192
 *   flows), so `nfprobe_timeouts` do not matter: every flow is exported once, at the end.
 * - `daemonize: false` keeps pmacctd in the foreground (its exit is the end of the export); the pid
 *   file (`pidfile`, plus `<pidfile>-nfprobe-default_nfprobe` for the plugin) goes to a temporary directory.
 *   Logs go to stderr and are reported when the run fails. Root is not needed to read a savefile.
 *
 * Observed export behaviour (the bytes, decoded by tshark):
 *
 * - nfprobe is softflowd 0.9.7 inside: it tracks bidirectional flows and exports one record per
 *   direction that had traffic, with that direction's bytes and packets but the times of the whole
 *   bidirectional flow (first and last packet either way); bytes are IP-layer bytes (IPv4 total
 *   length, IPv6 40-byte header + payload length); ICMP type and code are in the destination port
 *   (type * 256 + code), the source port is 0; v5 drops IPv6 flows.
 * - v9 and IPFIX: templates 1024/1025 (IPv4) and 2048/2049 (IPv6; the second of each pair for
 *   egress flows), resent with the data, with absolute flowStartMilliseconds/flowEndMilliseconds
 *   (IEs 152/153), 64-bit octetDeltaCount and packetDeltaCount, ipVersion, ingress/egress interface,
 *   flowDirection, addresses, ports, ToS, TCP flags and protocol; the header times are wall-clock
 *   times of the export. With `aggregate` left out
 *   nfprobe uses the same primitives as {@link PMACCT_AGGREGATE}; adding `timestamp_start` and
 *   `timestamp_end` changes nothing (the times are always exported).
 * - v5: First/Last are packet (capture) times minus the plugin's start time, taken from the wall
 *   clock, in 32-bit milliseconds; the header has the wall-clock export time and the uptime since
 *   that start. So for a capture from the past the v5 times wrap around 2^32 ms to a value that
 *   depends on today's date, see {@link pmacctV5CaptureStart}.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { collectExports, type ExportedDatagram, type ExportRunOptions, runToExit } from './export-socket.js';
import { findExecutable, toolRuns } from './tools.js';

export type { ExportedDatagram } from './softflowd.js';

/** The primitives pmacctd's core hands nfprobe for each packet: addresses, ports, protocol and ToS. */
export const PMACCT_AGGREGATE = 'src_host, dst_host, src_port, dst_port, proto, tos';

/** Whether pmacctd is installed (PATH or sbin) and runs (`pmacctd -V` exits 0). Cached. */
export function pmacctAvailable(): boolean {
  return toolRuns('pmacctd', ['-V']);
}

/** Options of the run: see ExportRunOptions. */
export type PmacctOptions = ExportRunOptions;

/**
 * The pmacctd configuration {@link exportWithPmacct} runs: replay `trafficPcap` once into the
 * nfprobe plugin, which exports NetFlow `version` (10 = IPFIX) to 127.0.0.1:`port`.
 */
export function pmacctConfig(
  version: 5 | 9 | 10,
  trafficPcap: string,
  port: number,
  pidFile: string,
): string {
  for (const path of [trafficPcap, pidFile]) {
    if (/[\r\n!#]/.test(path)) throw new Error(`path not usable in a pmacct configuration: ${path}`);
  }
  return [
    'daemonize: false',
    `pidfile: ${pidFile}`,
    `pcap_savefile: ${trafficPcap}`,
    'pcap_savefile_delay: 1',
    'plugins: nfprobe',
    `nfprobe_receiver: 127.0.0.1:${port}`,
    `nfprobe_version: ${version}`,
    `aggregate: ${PMACCT_AGGREGATE}`,
    '',
  ].join('\n');
}

/**
 * Runs pmacctd over `trafficPcap` (see {@link pmacctConfig}) exporting NetFlow `version` to a UDP
 * socket on a free loopback port, and returns every datagram it sent, in order. Rejects if pmacctd
 * fails or does not finish within the timeout. Takes about 3 s (pmacctd's fixed sleeps).
 */
export async function exportWithPmacct(
  version: 5 | 9 | 10,
  trafficPcap: string,
  options: PmacctOptions = {},
): Promise<ExportedDatagram[]> {
  const quietMs = options.quietMs ?? 250;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const executable = findExecutable('pmacctd');
  if (executable === undefined) throw new Error('pmacctd is not installed');

  return collectExports('pmacct', quietMs, async (port, workDir) => {
    const configPath = join(workDir, 'pmacctd.conf');
    await writeFile(configPath, pmacctConfig(version, trafficPcap, port, join(workDir, 'pmacctd.pid')));
    await runToExit(executable, ['-f', configPath], timeoutMs, pluginFinished);
  });
}

/**
 * Whether pmacctd's output shows nfprobe finished its export although the core exited 1. At end of
 * file the core signals its plugins and waits for them; once in a while (seen once so far, in a
 * clean-clone CI run) it notices the plugin's pipe close first, logs "connection lost … no more plugins active"
 * and exits 1. nfprobe has by then exported every flow ("Shutting down on user request" is printed
 * by its SIGINT handler, which expires the whole table before it exits), so the run is complete;
 * the tests then compare every exported flow with the traffic, which a lost export would fail.
 */
export function pluginFinished(output: string): boolean {
  return (
    output.includes('( default_nfprobe/nfprobe ): Shutting down on user request') &&
    output.includes('no more plugins active')
  );
}

/**
 * A start time for a capture that pmacct exports as NetFlow v5 with unambiguous times: 10 minutes
 * from `now`, on a whole second.
 *
 * v5 First/Last are 32-bit milliseconds since the plugin started (wall clock). A capture from the
 * past gives values that wrapped around 2^32 ms, i.e. uptimes some days ahead of the header's
 * sysUptime or, depending on today's date, more than 2^31 ms ahead. Decoders may read that either as
 * a flow ahead of the export (no wrap-around; tshark, as test/support/tshark.ts reads it) or as one
 * that started before the last wrap (a signed 32-bit difference; flowcast), so whether they agree
 * would depend on the day the test runs. A capture that starts after pmacctd does (and less than
 * 24 days later) gives First/Last just above the plugin's uptime: both readings are the same time,
 * the capture time.
 */
export function pmacctV5CaptureStart(now: number = Date.now()): number {
  return Math.ceil(now / 1000) * 1000 + 10 * 60_000;
}
