/**
 * `flowcast eval --detect`: attack detection evaluated on flow-export traces (NetFlow v9 in
 * pcap files with a manifest of the injected attacks, built by scripts/detect-traces.ts), with
 * FastNetMon run on the same exports, side by side.
 *
 * flowcast's side replays each trace through the detection stage on the trace's own clock
 * (arrival times of the export datagrams; a tick every 5 s from the first datagram), so it is
 * deterministic and fast (a check every second, a window every 5 s, as `flowcast serve` does). FastNetMon's side is real time: one FastNetMon per trace, configured as
 * a NetFlow collector on its own loopback port with the same thresholds (EVAL_THRESHOLDS), gets
 * the trace's datagrams with their original spacing; its notify script stamps each ban. An
 * injected attack counts as found when an episode of the right kind on the right subject (a ban of
 * the right address, for FastNetMon) starts between its start and `MATCH_GRACE_MS` after its end;
 * time to detection is from the attack's first packet. Everything else either tool reports is a
 * false positive.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import type { Command } from 'commander';
import { pino } from 'pino';
import { decodeDatagram } from '../collector/decode/decode.js';
import type { DecodedRecord } from '../collector/decode/flow.js';
import { ElementRegistry } from '../collector/decode/ie/registry.js';
import { FlowState } from '../collector/decode/state.js';
import type { EpisodeEvent } from '../collector/detect/episodes.js';
import { readUdpDatagrams, type UdpDatagram } from '../common/pcap.js';
import { buildDetection, detectionSchema } from './detection-config.js';

/** The networks both tools watch (FastNetMon's networks_list, flowcast's host group `lab`). */
export const EVAL_NETWORKS = ['127.0.1.0/24', '127.0.2.0/24', '127.0.3.0/24', '10.10.0.0/24'];

/**
 * Static thresholds, the same for both tools. FastNetMon has no SYN-only counter: its nearest,
 * all-TCP packets per second, gets the SYN threshold.
 */
export const EVAL_THRESHOLDS = { pps: 1500, synPps: 1000, udpPps: 1000, icmpPps: 1000 };

/** flowcast's detection configuration for the evaluation (what `detection:` in a config file would say). */
export const EVAL_DETECTION = {
  tick: 5,
  checkEvery: 0.25,
  // Hosts outside the watched networks are not judged, as FastNetMon ignores them.
  thresholds: {},
  hostGroups: [{ name: 'lab', networks: EVAL_NETWORKS, thresholds: EVAL_THRESHOLDS }],
  baseline: { factor: 10, minPps: 500, warmup: 60, halfLife: 60 },
  scan: { minPairs: 200, window: 60 },
  episodes: { endAfter: 15, updateEvery: 60 },
};

/** An episode started this long after an attack's end still counts as finding it. */
export const MATCH_GRACE_MS = 20_000;

interface InjectedAttack {
  type: string;
  kind: string;
  subject: string;
  start: number;
  end: number;
  detail: string;
}

interface TraceManifest {
  name: string;
  file: string;
  origin: string;
  description: string;
  attacks: InjectedAttack[];
  samplingRate?: number;
}

/** One report by either tool: when (trace clock, ms), what and about whom. */
export interface Finding {
  time: number;
  kind: string;
  subject: string;
  message: string;
}

export interface AttackOutcome {
  trace: string;
  attack: InjectedAttack;
  flowcast: number | undefined;
  fastnetmon: number | undefined | null;
}

export interface TraceOutcome {
  name: string;
  origin: string;
  attacks: AttackOutcome[];
  flowcastFalse: Finding[];
  fastnetmonFalse: Finding[] | null;
  datagrams: number;
  records: number;
}

async function loadTraces(
  dir: string,
  only: readonly string[],
): Promise<{ trace: TraceManifest; datagrams: UdpDatagram[] }[]> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
    traces: TraceManifest[];
  };
  const out = [];
  for (const trace of manifest.traces) {
    if (only.length > 0 && !only.some((o) => trace.name.includes(o))) continue;
    const raw = await readFile(join(dir, trace.file));
    const bytes = trace.file.endsWith('.gz') ? gunzipSync(raw) : raw;
    const { datagrams, errors } = readUdpDatagrams(bytes);
    if (errors.length > 0) throw new Error(`${trace.file}: ${errors.join('; ')}`);
    out.push({ trace, datagrams });
  }
  return out;
}

/** Runs a trace through flowcast's detection on the trace's clock; returns the episode starts. */
export function runFlowcast(datagrams: readonly UdpDatagram[]): { findings: Finding[]; records: number } {
  const config = detectionSchema.parse(EVAL_DETECTION);
  const events: EpisodeEvent[] = [];
  const service = buildDetection(config, { log: pino({ level: 'silent' }), write: () => {} })!;
  const checkMs = config.checkEvery * 1000;
  const state = new FlowState(new ElementRegistry([]), { templateLifetimeMs: Number.POSITIVE_INFINITY });
  const out: DecodedRecord[] = [];
  const first = datagrams[0]?.timestamp ?? 0;
  let nextTick = first + checkMs;
  let records = 0;
  for (const d of datagrams) {
    while (d.timestamp >= nextTick) {
      events.push(...service.tick(nextTick));
      nextTick += checkMs;
    }
    out.length = 0;
    decodeDatagram(state, d.payload, { address: d.srcAddr, port: d.srcPort }, d.timestamp, out);
    records += out.length;
    service.detector.ingest(out, d.timestamp);
  }
  const last = datagrams[datagrams.length - 1]?.timestamp ?? first;
  while (nextTick <= last + config.episodes.endAfter * 1000 + 2 * config.tick * 1000) {
    events.push(...service.tick(nextTick));
    nextTick += checkMs;
  }
  const findings = events
    .filter((e) => e.state === 'start')
    .map((e) => ({
      time: e.time,
      kind: e.episode.kind,
      subject: e.episode.subject,
      message: e.episode.latest.message,
    }));
  return { findings, records };
}

const FASTNETMON_CONFIG = (
  dir: string,
  port: number,
  samplingRate: number,
) => `# flowcast eval --detect: FastNetMon as a NetFlow collector on a loopback port
logging_level = info
disable_usage_report = on
enable_ban = on
enable_ban_ipv6 = off
process_incoming_traffic = on
process_outgoing_traffic = off
ban_details_records_count = 20
ban_time = 3600
unban_only_if_attack_finished = on
networks_list_path = ${dir}/networks_list
white_list_path = ${dir}/networks_whitelist
check_period = 1
enable_connection_tracking = off
ban_for_pps = on
ban_for_bandwidth = off
ban_for_flows = off
threshold_pps = ${EVAL_THRESHOLDS.pps}
threshold_mbps = 100000
threshold_flows = 100000
ban_for_tcp_pps = on
threshold_tcp_pps = ${EVAL_THRESHOLDS.synPps}
ban_for_udp_pps = on
threshold_udp_pps = ${EVAL_THRESHOLDS.udpPps}
ban_for_icmp_pps = on
threshold_icmp_pps = ${EVAL_THRESHOLDS.icmpPps}
ban_for_tcp_bandwidth = off
ban_for_udp_bandwidth = off
ban_for_icmp_bandwidth = off
pcap = off
mirror_afpacket = off
netflow = on
sflow = off
average_calculation_time = 5
speed_calculation_delay = 1
netflow_port = ${port}
netflow_host = 127.0.0.1
netflow_sampling_ratio = ${samplingRate}
notify_script_path = ${dir}/notify.sh
collect_attack_pcap_dumps = off
redis_enabled = off
mongodb_enabled = off
exabgp = off
gobgp = off
influxdb = off
graphite = off
monitor_local_ip_addresses = off
pid_path = ${dir}/fastnetmon.pid
cli_stats_file_path = ${dir}/fastnetmon.dat
cli_stats_ipv6_file_path = ${dir}/fastnetmon_ipv6.dat
enable_api = off
prometheus = off
`;

/** A free UDP port on 127.0.0.1 (bound and released). */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * Runs FastNetMon (Debian's, found on PATH or in sbin) on a trace in real time: its datagrams are
 * sent to FastNetMon's NetFlow port with their original spacing. Returns its bans, on the trace clock.
 */
export async function runFastnetmon(
  executable: string,
  datagrams: readonly UdpDatagram[],
  samplingRate: number,
  options: { untilMs?: number; tailMs?: number } = {},
): Promise<Finding[]> {
  const dir = await mkdtemp(join(tmpdir(), 'flowcast-fastnetmon-'));
  let child: ChildProcess | undefined;
  const socket = createSocket('udp4');
  try {
    const port = await freeUdpPort();
    await writeFile(join(dir, 'networks_list'), `${EVAL_NETWORKS.join('\n')}\n`);
    await writeFile(join(dir, 'networks_whitelist'), '');
    // FastNetMon calls: notify IP DIRECTION PPS ACTION (details on stdin for ban).
    await writeFile(
      join(dir, 'notify.sh'),
      `#!/bin/sh\necho "$(date +%s%3N) $1 $2 $3 $4" >> "${dir}/bans.log"\ncat > /dev/null\n`,
    );
    await chmod(join(dir, 'notify.sh'), 0o755);
    await writeFile(join(dir, 'fastnetmon.conf'), FASTNETMON_CONFIG(dir, port, samplingRate));
    child = spawn(
      executable,
      [
        '--configuration_file',
        join(dir, 'fastnetmon.conf'),
        '--log_file',
        join(dir, 'fastnetmon.log'),
        '--disable_pid_logic',
      ],
      {
        stdio: 'ignore',
      },
    );
    const deadline = Date.now() + 15_000;
    for (;;) {
      const log = await readFile(join(dir, 'fastnetmon.log'), 'utf8').catch(() => '');
      if (log.includes(`listen on 127.0.0.1:${port}`)) break;
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`fastnetmon did not start:\n${log.slice(-1500)}`);
      await sleep(100);
    }
    await sleep(1000);
    const base = datagrams[0]?.timestamp ?? 0;
    const until = options.untilMs === undefined ? Number.POSITIVE_INFINITY : base + options.untilMs;
    const wallStart = Date.now();
    for (const d of datagrams) {
      if (d.timestamp > until) break;
      const due = wallStart + (d.timestamp - base);
      const wait = due - Date.now();
      if (wait > 2) await sleep(wait);
      socket.send(d.payload, port, '127.0.0.1');
    }
    await sleep(options.tailMs ?? MATCH_GRACE_MS);
    const text = await readFile(join(dir, 'bans.log'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .map((line) => line.split(' '))
      .filter((f) => f[4] === 'ban')
      .map((f) => ({
        time: base + (Number(f[0]) - wallStart),
        kind: 'ban',
        subject: f[1] ?? '',
        message: `FastNetMon ban: ${f[2]} ${f[3]} pps`,
      }));
  } finally {
    socket.close();
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise<void>((r) => child!.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child!.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/** An executable on PATH or in an sbin directory (Debian installs fastnetmon in /usr/sbin). */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Which attacks the findings found (first matching start), and the findings that found none. */
export function matchFindings(
  attacks: readonly InjectedAttack[],
  findings: readonly Finding[],
  sameKind: (attack: InjectedAttack, f: Finding) => boolean,
): { delays: (number | undefined)[]; unmatched: Finding[] } {
  const used = new Set<Finding>();
  const delays = attacks.map((a) => {
    const f = findings.find(
      (x) =>
        !used.has(x) &&
        x.subject === a.subject &&
        sameKind(a, x) &&
        x.time >= a.start &&
        x.time <= a.end + MATCH_GRACE_MS,
    );
    if (f === undefined) return undefined;
    used.add(f);
    return f.time - a.start;
  });
  return { delays, unmatched: findings.filter((f) => !used.has(f)) };
}

export interface EvalDetectOptions {
  traces: string;
  fastnetmon: string | undefined;
  only: readonly string[];
}

/** Runs the evaluation; FastNetMon's side when `fastnetmon` is its executable. */
export async function evaluateDetection(
  options: EvalDetectOptions,
  progress: (line: string) => void,
): Promise<TraceOutcome[]> {
  const traces = await loadTraces(options.traces, options.only);
  const results: TraceOutcome[] = [];
  const fastnetmonRuns = new Map<string, Promise<Finding[]>>();
  if (options.fastnetmon !== undefined) {
    const longest = Math.max(
      ...traces.map((t) => (t.datagrams.at(-1)?.timestamp ?? 0) - (t.datagrams[0]?.timestamp ?? 0)),
    );
    progress(
      `FastNetMon: ${traces.length} traces in parallel, real time: about ${Math.ceil((longest + MATCH_GRACE_MS) / 1000) + 5} s`,
    );
    for (const { trace, datagrams } of traces)
      fastnetmonRuns.set(trace.name, runFastnetmon(options.fastnetmon, datagrams, trace.samplingRate ?? 1));
  }
  for (const { trace, datagrams } of traces) {
    const { findings, records } = runFlowcast(datagrams);
    const ours = matchFindings(trace.attacks, findings, (a, f) => a.kind === f.kind);
    results.push({
      name: trace.name,
      origin: trace.origin,
      attacks: trace.attacks.map((attack, i) => ({
        trace: trace.name,
        attack,
        flowcast: ours.delays[i],
        fastnetmon: null,
      })),
      flowcastFalse: ours.unmatched,
      fastnetmonFalse: null,
      datagrams: datagrams.length,
      records,
    });
  }
  for (const result of results) {
    const run = fastnetmonRuns.get(result.name);
    if (run === undefined) continue;
    const bans = await run;
    const theirs = matchFindings(
      result.attacks.map((a) => a.attack),
      bans,
      () => true,
    );
    result.attacks.forEach((a, i) => {
      a.fastnetmon = theirs.delays[i];
    });
    result.fastnetmonFalse = theirs.unmatched;
  }
  return results;
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? undefined : s[Math.floor((s.length - 1) / 2)];
};

/** The side-by-side tables as text. */
export function formatResults(results: readonly TraceOutcome[], withFastnetmon: boolean): string {
  const lines: string[] = [];
  const byType = new Map<string, AttackOutcome[]>();
  for (const r of results)
    for (const a of r.attacks) byType.set(a.attack.type, [...(byType.get(a.attack.type) ?? []), a]);
  const header = ['attack type', 'injected', 'flowcast found', 'recall', 'time to detect (median, max)'];
  if (withFastnetmon) header.push('FastNetMon found', 'FastNetMon time (median, max)');
  lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
  for (const [type, outcomes] of byType) {
    const ours = outcomes.map((o) => o.flowcast).filter((d): d is number => d !== undefined);
    const row = [
      type,
      String(outcomes.length),
      String(ours.length),
      (ours.length / outcomes.length).toFixed(2),
      ours.length === 0 ? '-' : `${seconds(median(ours)!)} s, ${seconds(Math.max(...ours))} s`,
    ];
    if (withFastnetmon) {
      const theirs = outcomes.map((o) => o.fastnetmon).filter((d): d is number => typeof d === 'number');
      row.push(
        String(theirs.length),
        theirs.length === 0 ? '-' : `${seconds(median(theirs)!)} s, ${seconds(Math.max(...theirs))} s`,
      );
    }
    lines.push(`| ${row.join(' | ')} |`);
  }
  lines.push('');
  const fpHeader = ['trace', 'attacks', 'flowcast false positives'];
  if (withFastnetmon) fpHeader.push('FastNetMon false positives');
  lines.push(`| ${fpHeader.join(' | ')} |`, `|${fpHeader.map(() => '---').join('|')}|`);
  for (const r of results) {
    const row = [r.name, String(r.attacks.length), String(r.flowcastFalse.length)];
    if (withFastnetmon) row.push(r.fastnetmonFalse === null ? '-' : String(r.fastnetmonFalse.length));
    lines.push(`| ${row.join(' | ')} |`);
  }
  const all = results.flatMap((r) => r.attacks);
  const missed = all.filter((a) => a.flowcast === undefined);
  const onlyTheirs = all.filter((a) => typeof a.fastnetmon === 'number' && a.flowcast === undefined);
  const later = all.filter(
    (a) => typeof a.fastnetmon === 'number' && a.flowcast !== undefined && a.flowcast > a.fastnetmon,
  );
  lines.push('');
  for (const a of missed)
    lines.push(`flowcast missed: ${a.trace} ${a.attack.type} on ${a.attack.subject} (${a.attack.detail})`);
  for (const r of results)
    for (const f of r.flowcastFalse) lines.push(`flowcast false positive: ${r.name}: ${f.message}`);
  if (withFastnetmon) {
    for (const r of results)
      for (const f of r.fastnetmonFalse ?? [])
        lines.push(`FastNetMon false positive: ${r.name}: ban of ${f.subject}`);
    lines.push(
      `found by FastNetMon and not by flowcast: ${onlyTheirs.length}; found later by flowcast than by FastNetMon: ${later.length}` +
        later
          .map(
            (a) =>
              ` [${a.attack.type} ${a.attack.subject}: ${seconds(a.flowcast!)} s vs ${seconds(a.fastnetmon as number)} s]`,
          )
          .join(''),
    );
  }
  return lines.join('\n');
}

/**
 * Adds `--detect` to `flowcast eval` (creating the command when no other evaluation defines it):
 * with `--detect`, this evaluation runs instead of the command's own action.
 */
export function registerEvalDetect(program: Command): void {
  let command = program.commands.find((c) => c.name() === 'eval');
  if (command === undefined) {
    command = program
      .command('eval')
      .description('run an evaluation harness')
      .action(() => program.error('flowcast eval: say which evaluation, e.g. --detect'));
  }
  const has = (flag: string) => command.options.some((o) => o.long === flag);
  command
    .option('--detect', 'evaluate attack detection on flow-export traces, beside FastNetMon')
    .option('--detect-traces <dir>', 'traces and manifest.json for --detect', 'test/fixtures/detect')
    .option('--detect-only <names...>', 'only the traces whose name contains one of these')
    .option('--detect-without-fastnetmon', 'flowcast only (FastNetMon needs real time)');
  if (!has('--json')) command.option('--json', 'print JSON');
  command.hook('preAction', async (cmd) => {
    const o = cmd.opts() as {
      detect?: boolean;
      detectTraces: string;
      detectOnly?: string[];
      detectWithoutFastnetmon?: boolean;
      json?: boolean;
    };
    if (o.detect !== true) return;
    let fastnetmon: string | undefined;
    if (o.detectWithoutFastnetmon !== true) {
      fastnetmon = findExecutable('fastnetmon');
      if (fastnetmon === undefined)
        program.error(
          'flowcast eval --detect: fastnetmon is not installed (apt-get install fastnetmon), or give --detect-without-fastnetmon',
        );
    }
    const results = await evaluateDetection(
      { traces: o.detectTraces, fastnetmon, only: o.detectOnly ?? [] },
      (line) => process.stderr.write(`${line}\n`),
    );
    process.stdout.write(
      o.json === true
        ? `${JSON.stringify({ detect: results }, null, 2)}\n`
        : `${formatResults(results, fastnetmon !== undefined)}\n`,
    );
    process.exit(0);
  });
}
