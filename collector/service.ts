/**
 * The collector component: UDP listeners, the bounded receive queue, the decode loop, and template
 * persistence. The socket handler only timestamps and enqueues; decoding runs from the event loop
 * in batches, so a burst fills the queue (and is counted when it overflows) instead of blocking
 * the socket. Decoded records go to the sink (the rollup engine).
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Logger } from '../cli/logger.js';
import { RateLimitedLog } from '../cli/logger.js';
import { decodeDatagram, versionKey } from './decode.js';
import type { DecodedRecord } from './flow.js';
import type { ElementRegistry } from './ie/registry.js';
import { registerCollectorMetrics } from './metrics.js';
import { ReceiveQueue } from './queue.js';
import { FlowState, type StateOptions } from './state.js';

export interface CollectorConfig {
  bind: string;
  netflowPort: number;
  ipfixPort: number;
  queueSize: number;
  receiveBuffer: number;
  /** Where templates.json is kept across restarts; undefined keeps nothing. */
  dataDir: string | undefined;
  state: Partial<StateOptions>;
}

/** Receives each batch of decoded records; called synchronously from the decode loop. */
export type RecordSink = (records: readonly DecodedRecord[]) => void;

/** Datagrams decoded per turn of the event loop before yielding to I/O. */
const BATCH = 512;
const PERSIST_EVERY_MS = 60_000;
const SWEEP_EVERY_MS = 10_000;

/** Node reports IPv4 peers of a dual-stack socket as ::ffff:a.b.c.d; exporters are named by their IPv4. */
function exporterAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export class Collector {
  readonly state: FlowState;
  readonly queue: ReceiveQueue;
  private readonly sockets: Socket[] = [];
  private readonly warn: RateLimitedLog;
  private readonly batch: DecodedRecord[] = [];
  private drainScheduled = false;
  private timers: NodeJS.Timeout[] = [];
  private lastErrors = new Map<string, number>();

  constructor(
    private readonly config: CollectorConfig,
    private readonly deps: { log: Logger; registry: ElementRegistry; metrics: Registry; sink: RecordSink },
  ) {
    this.state = new FlowState(deps.registry, config.state);
    this.queue = new ReceiveQueue(config.queueSize);
    this.warn = new RateLimitedLog(deps.log);
    registerCollectorMetrics(deps.metrics, this.state, this.queue);
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
    this.timers.push(setInterval(() => this.state.sweep(Date.now()), SWEEP_EVERY_MS).unref());
    if (this.config.dataDir !== undefined) {
      this.timers.push(setInterval(() => void this.persistTemplates(), PERSIST_EVERY_MS).unref());
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
    this.drain(Number.POSITIVE_INFINITY);
    await this.persistTemplates();
  }

  private listen(port: number): Promise<Socket> {
    const type = isIPv6(this.config.bind) ? 'udp6' : 'udp4';
    const socket = createSocket({ type, reuseAddr: false, recvBufferSize: this.config.receiveBuffer });
    socket.on('message', (payload, rinfo) => {
      const address = exporterAddress(rinfo.address);
      if (!this.queue.push({ payload, address, port: rinfo.port, receivedAt: Date.now() })) {
        // Also counted per exporter and version, for the `collector` measurement.
        const version = versionKey(payload.length >= 2 ? payload.readUInt16BE(0) : 0);
        const exporter = this.state.exporter(address);
        if (exporter !== undefined) exporter.counters.version(version).dropped++;
        return;
      }
      if (!this.drainScheduled) {
        this.drainScheduled = true;
        setImmediate(() => this.drain(BATCH));
      }
    });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, this.config.bind, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.deps.log.error({ err, port }, 'UDP socket error'));
        resolve(socket);
      });
    });
  }

  /** Decodes up to `limit` queued datagrams, then reschedules itself if more wait. */
  private drain(limit: number): void {
    this.drainScheduled = false;
    const out = this.batch;
    let n = 0;
    for (let d = this.queue.shift(); d !== undefined; d = n < limit ? this.queue.shift() : undefined) {
      n++;
      const outcome = decodeDatagram(this.state, d.payload, d, d.receivedAt, out);
      if (outcome.exporter === undefined) {
        this.warn.warn('exporter_limit', { exporter: d.address }, 'exporter table full: datagram refused');
      } else if (outcome.exporter.counters.decodeErrors !== (this.lastErrors.get(d.address) ?? 0)) {
        this.lastErrors.set(d.address, outcome.exporter.counters.decodeErrors);
        this.warn.warn(
          `decode:${d.address}`,
          {
            exporter: d.address,
            port: d.port,
            version: outcome.version,
            errors: Object.fromEntries(outcome.exporter.counters.errorsByReason),
          },
          'malformed datagram skipped',
        );
      }
      if (out.length >= 4096) this.flush();
    }
    this.flush();
    if (this.queue.length > 0 && !this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(() => this.drain(BATCH));
    }
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    try {
      this.deps.sink(this.batch);
    } catch (err) {
      this.warn.warn('sink', { err }, 'record sink failed');
    }
    this.batch.length = 0;
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
      const tmp = `${file}.tmp`;
      await writeFile(tmp, JSON.stringify(this.state.snapshot()));
      await rename(tmp, file);
    } catch (err) {
      this.warn.warn('persist', { err, file }, 'could not persist templates');
    }
  }
}
