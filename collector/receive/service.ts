/**
 * The collector component: UDP listeners, the bounded receive queue, the decode loop, and template
 * persistence. The socket handler only timestamps and enqueues; decoding runs from the event loop
 * in batches, so a burst fills the queue (and is counted when it overflows) instead of blocking
 * the socket. Decoded records go to the sink (the rollup engine).
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { InternalErrors } from '../../common/internal-errors.js';
import type { Logger } from '../../common/logger.js';
import { RateLimitedLog } from '../../common/logger.js';
import { decodeDatagram, versionKey } from '../decode/decode.js';
import type { DecodedRecord } from '../decode/flow.js';
import type { ElementRegistry } from '../decode/ie/registry.js';
import { releasePending } from '../decode/sets.js';
import { type ExporterState, FlowState, type StateOptions } from '../decode/state.js';
import { registerCollectorMetrics } from './metrics.js';
import { ReceiveQueue } from './queue.js';

export interface CollectorConfig {
  bind: string;
  netflowPort: number;
  ipfixPort: number;
  /** Datagrams the receive queue holds at most. */
  queueSize: number;
  /** Bytes of datagrams the receive queue holds at most. */
  queueMaxBytes: number;
  receiveBuffer: number;
  /** Exporter networks (CIDR) datagrams are accepted from; empty accepts every source. */
  allowedExporters: readonly string[];
  /** Exporters with their own metric labels (the busiest); the rest are summed under `other`. */
  metricsMaxExporters: number;
  /** Where templates.json is kept across restarts; undefined keeps nothing. */
  dataDir: string | undefined;
  state: Partial<StateOptions>;
}

/** Receives each batch of decoded records; called synchronously from the decode loop. */
export type RecordSink = (records: readonly DecodedRecord[]) => void;

/** Datagrams decoded per turn of the event loop before yielding to I/O. */
const BATCH = 512;
/**
 * Time one turn of the decode loop may take before it yields (ms). The datagram count alone did
 * not bound a turn: 512 datagrams of huge templates, or of a million buffered records released,
 * held the loop for seconds and health answered in 6.5 s. With this, a turn ends within a few ms
 * of the budget, whatever arrives.
 */
const TURN_BUDGET_MS = 10;
/** Buffered records released per turn once their template has arrived (see sets.ts releasePending). */
const RELEASE_PER_TURN = 65_536;
/** Released per step, so that one batch handed to the sink stays a few thousand records. */
const RELEASE_STEP = 4096;
const PERSIST_EVERY_MS = 60_000;
const SWEEP_EVERY_MS = 10_000;
/** Exporters one sweep step visits before yielding. */
const SWEEP_STEP = 500;
/** Source networks whose refusal by the allow-list is logged (once each). */
const MAX_LOGGED_NETWORKS = 1024;

/** Builds the allow-list; undefined when every source is allowed. */
export function allowList(cidrs: readonly string[]): BlockList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/');
    const type = isIPv6(net ?? '') ? 'ipv6' : 'ipv4';
    list.addSubnet(net!, bits === undefined ? (type === 'ipv6' ? 128 : 32) : Number(bits), type);
  }
  return list;
}

/** The network a refused source is reported under: its /24 (IPv4) or /48 (IPv6). */
function sourceNetwork(address: string): string {
  if (isIPv4(address)) return `${address.slice(0, address.lastIndexOf('.'))}.0/24`;
  return `${address.split(':').slice(0, 3).join(':')}::/48`;
}

/** Node reports IPv4 peers of a dual-stack socket as ::ffff:a.b.c.d; exporters are named by their IPv4. */
function exporterAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export class Collector {
  readonly state: FlowState;
  readonly queue: ReceiveQueue;
  readonly internalErrors: InternalErrors;
  /** Datagrams refused by the allow-list. */
  notAllowed = 0;
  /** What each socket was granted by the kernel (bytes), by port. */
  readonly receiveBuffers = new Map<number, number>();
  private readonly sockets: Socket[] = [];
  private readonly warn: RateLimitedLog;
  private readonly batch: DecodedRecord[] = [];
  private readonly allowed: BlockList | undefined;
  private readonly loggedNetworks = new Set<string>();
  private drainScheduled = false;
  private sweeping = false;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly config: CollectorConfig,
    private readonly deps: {
      log: Logger;
      registry: ElementRegistry;
      metrics: Registry;
      sink: RecordSink;
      internalErrors?: InternalErrors;
    },
  ) {
    this.state = new FlowState(deps.registry, config.state);
    this.queue = new ReceiveQueue(config.queueSize, config.queueMaxBytes);
    this.warn = new RateLimitedLog(deps.log);
    this.internalErrors = deps.internalErrors ?? new InternalErrors(deps.log);
    this.allowed = allowList(config.allowedExporters);
    registerCollectorMetrics(deps.metrics, this, config.metricsMaxExporters);
  }

  /** The ports actually bound (useful when configured as 0). */
  get ports(): number[] {
    return this.sockets.map((s) => s.address().port);
  }

  async start(): Promise<void> {
    await this.restoreTemplates();
    const { netflowPort, ipfixPort } = this.config;
    // One socket when both are the same fixed port; port 0 asks for two ephemeral ones.
    const ports = netflowPort === ipfixPort && netflowPort !== 0 ? [netflowPort] : [netflowPort, ipfixPort];
    for (const port of ports) this.sockets.push(await this.listen(port));
    const guard = this.internalErrors.guard.bind(this.internalErrors);
    this.timers.push(
      setInterval(
        guard('collector.sweep', () => this.sweepStep()),
        SWEEP_EVERY_MS,
      ).unref(),
    );
    if (this.config.dataDir !== undefined) {
      this.timers.push(
        setInterval(
          guard('collector.persist', () => this.persistTemplates()),
          PERSIST_EVERY_MS,
        ).unref(),
      );
    }
    this.deps.log.info(
      { bind: this.config.bind, ports: this.ports },
      'collector listening (every port accepts NetFlow v1/v5/v7/v9 and IPFIX)',
    );
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await Promise.all(this.sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.sockets.length = 0;
    this.drain(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
    await this.persistTemplates();
  }

  /** One step of the sweep; continues in later turns until the pass over the table is done. */
  private sweepStep(): void {
    if (this.sweeping) return;
    this.sweeping = true;
    const step = this.internalErrors.guard('collector.sweep', () => {
      if (this.state.sweep(Date.now(), SWEEP_STEP) || this.sockets.length === 0) this.sweeping = false;
      else setImmediate(step);
    });
    step();
  }

  private listen(port: number): Promise<Socket> {
    const type = isIPv6(this.config.bind) ? 'udp6' : 'udp4';
    const socket = createSocket({ type, reuseAddr: false, recvBufferSize: this.config.receiveBuffer });
    socket.on(
      'message',
      this.internalErrors.guard(
        'collector.receive',
        (payload: Buffer, rinfo: { address: string; port: number }) =>
          this.receive(payload, rinfo.address, rinfo.port),
      ),
    );
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, this.config.bind, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.warn.error(`socket:${port}`, { err, port }, 'UDP socket error'));
        this.checkReceiveBuffer(socket);
        resolve(socket);
      });
    });
  }

  /** The socket handler: allow-list, timestamp, enqueue. Nothing else runs here. */
  private receive(payload: Buffer, from: string, port: number): void {
    const address = exporterAddress(from);
    if (this.allowed !== undefined && !this.allowed.check(address, isIPv6(address) ? 'ipv6' : 'ipv4')) {
      this.notAllowed++;
      const network = sourceNetwork(address);
      if (!this.loggedNetworks.has(network) && this.loggedNetworks.size < MAX_LOGGED_NETWORKS) {
        this.loggedNetworks.add(network);
        this.warn.warn(
          'not_allowed',
          { network, exporter: address },
          'datagrams from outside collector.allowedExporters dropped',
        );
      }
      return;
    }
    if (!this.queue.push({ payload, address, port, receivedAt: Date.now() })) {
      // Counted per exporter and version too, for the `collector` measurement, but only for an
      // exporter already known: a drop never creates state.
      const exporter = this.state.exporters.get(address);
      if (exporter !== undefined) {
        exporter.counters.version(versionKey(payload.length >= 2 ? payload.readUInt16BE(0) : 0)).dropped++;
      }
      return;
    }
    this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(this.drainTurn);
  }

  private readonly drainTurn = (): void => {
    try {
      this.drain(BATCH, TURN_BUDGET_MS);
    } catch (err) {
      this.drainScheduled = false;
      this.batch.length = 0;
      this.internalErrors.report('collector.decode', err);
    }
    if (this.queue.length > 0 || this.state.releasable.size > 0) this.scheduleDrain();
  };

  /**
   * Decodes queued datagrams, at most `limit` of them and for about `budgetMs`, then releases
   * buffered data whose template arrived; the caller reschedules while work remains.
   */
  private drain(limit: number, budgetMs: number): void {
    this.drainScheduled = false;
    const out = this.batch;
    const started = performance.now();
    let n = 0;
    for (let d = this.queue.shift(); d !== undefined; d = this.queue.shift()) {
      n++;
      const outcome = decodeDatagram(this.state, d.payload, d, d.receivedAt, out);
      const e = outcome.exporter;
      if (e !== undefined && !e.announced && !this.state.isUnproven(e))
        this.announce(e, d.port, outcome.version);
      if (e === undefined) {
        this.warn.warn('exporter_limit', { exporter: d.address }, 'exporter table full: datagram refused');
      } else if (e.counters.decodeErrors !== e.errorsLogged) {
        e.errorsLogged = e.counters.decodeErrors;
        this.warn.warn(
          `decode:${d.address}`,
          {
            exporter: d.address,
            port: d.port,
            version: outcome.version,
            errors: Object.fromEntries(e.counters.errorsByReason),
          },
          'malformed datagram skipped',
        );
      }
      if (out.length >= 4096) this.flush();
      if (n >= limit || performance.now() - started >= budgetMs) break;
    }
    // Buffered data whose template has arrived, in small steps so that batches stay small.
    const releaseLimit = budgetMs === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : RELEASE_PER_TURN;
    for (
      let released = 0;
      this.state.releasable.size > 0 && released < releaseLimit;
      released += RELEASE_STEP
    ) {
      if (performance.now() - started >= budgetMs) break;
      releasePending(this.state, Date.now(), out, RELEASE_STEP);
      if (out.length >= 4096) this.flush();
    }
    this.flush();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    try {
      this.deps.sink(this.batch);
    } catch (err) {
      this.internalErrors.report('collector.sink', err);
    }
    this.batch.length = 0;
  }

  /** Logs an exporter's first flow records: what a person setting up an export waits to see. */
  private announce(e: ExporterState, port: number, version: number): void {
    e.announced = true;
    const templates: number[] = [];
    for (const d of e.domains.values()) for (const id of d.templates.keys()) templates.push(id);
    const interfaces = e.interfaces.size;
    this.deps.log.info(
      {
        exporter: e.address,
        port,
        version,
        ...(templates.length > 0 && { templates: templates.sort((a, b) => a - b).slice(0, 32) }),
        ...(interfaces > 0 && { interfaceNames: interfaces }),
      },
      'new exporter: flow records arriving',
    );
  }

  /** Warns when the kernel granted less receive buffer than configured (net.core.rmem_max). */
  private checkReceiveBuffer(socket: Socket): void {
    const port = socket.address().port;
    let granted: number;
    try {
      // Linux reports twice what was set (the kernel's bookkeeping overhead, socket(7)).
      granted = socket.getRecvBufferSize() / (process.platform === 'linux' ? 2 : 1);
    } catch {
      return;
    }
    this.receiveBuffers.set(port, granted);
    if (granted < this.config.receiveBuffer) {
      this.deps.log.warn(
        { port, asked: this.config.receiveBuffer, granted },
        'the kernel granted a smaller UDP receive buffer than configured: raise net.core.rmem_max (sysctl) or bursts will be dropped by the kernel',
      );
    }
  }

  private templatesFile(): string | undefined {
    return this.config.dataDir === undefined ? undefined : join(this.config.dataDir, 'templates.json');
  }

  private async restoreTemplates(): Promise<void> {
    const file = this.templatesFile();
    if (file === undefined) return;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return; // first start
    }
    try {
      const n = this.state.restore(JSON.parse(text), Date.now());
      this.deps.log.info({ file, templates: n }, 'templates restored');
    } catch (err) {
      this.deps.log.warn({ err, file }, 'templates file unreadable; starting without templates');
    }
  }

  /** Writes templates.json atomically (temp file and rename). */
  async persistTemplates(): Promise<void> {
    const file = this.templatesFile();
    if (file === undefined || this.config.dataDir === undefined) return;
    try {
      await mkdir(this.config.dataDir, { recursive: true });
      // The same document as JSON.stringify(state.snapshot()), made an exporter at a time with a
      // yield between slices: thousands of exporters' templates at once held the loop for 300 ms.
      const parts: string[] = [];
      let n = 0;
      for (const e of [...this.state.exporters.values()]) {
        const pe = this.state.snapshotExporter(e);
        if (pe !== undefined) parts.push(JSON.stringify(pe));
        if (++n % 50 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const tmp = `${file}.tmp`;
      await writeFile(tmp, `{"format":1,"exporters":[${parts.join(',')}]}`);
      await rename(tmp, file);
    } catch (err) {
      this.warn.warn('persist', { err, file }, 'could not persist templates');
    }
  }
}
