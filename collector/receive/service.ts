/**
 * The collector component: the UDP listeners, the allow-list, and template persistence. The
 * socket handler only checks the source, timestamps the datagram and hands it to its route: the
 * decode workers (collector/worker/pool.ts) in the service, or a decode loop on this thread in the
 * component tests. Nothing decodes on the thread that receives.
 */
import { createSocket, type Socket } from 'node:dgram';
import { access, mkdir } from 'node:fs/promises';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { parsePrefix } from '../../common/cidr.js';
import { InternalErrors } from '../../common/internal-errors.js';
import type { Logger } from '../../common/logger.js';
import { RateLimitedLog } from '../../common/logger.js';
import { registerReceiveMetrics } from './metrics.js';
import type { ReceivedDatagram } from './queue.js';

export interface CollectorConfig {
  bind: string;
  netflowPort: number;
  ipfixPort: number;
  receiveBuffer: number;
  /** Exporter networks (CIDR) datagrams are accepted from; empty accepts every source. */
  allowedExporters: readonly string[];
  /** Where templates.json is kept across restarts; undefined keeps nothing. */
  dataDir: string | undefined;
}

/** Where received datagrams go to be decoded: the decode workers, or a decode loop on this thread. */
export interface DatagramRoute {
  /** Hands one datagram on; false when it was dropped (the route counts it). */
  push(d: ReceivedDatagram): boolean;
  /** Datagrams waiting to be decoded, and their bytes. */
  readonly pending: number;
  readonly pendingBytes: number;
  /** Datagrams dropped because the queue in front of the decoder was full. */
  readonly dropped: number;
  start(): Promise<void> | void;
  /** Decodes everything already handed on. */
  drain(): Promise<void> | void;
  stop(): Promise<void> | void;
  /**
   * Restores templates.json (`file`, which exists) into the decoder, after `start()` and before any
   * datagram; resolves to the number of templates restored (those not yet past their lifetime).
   */
  restoreTemplates(file: string): Promise<number>;
  /** Writes templates.json (`file`) atomically: the templates of every proven exporter. */
  persistTemplates(file: string): Promise<void>;
}

const PERSIST_EVERY_MS = 60_000;
/** Source networks whose refusal by the allow-list is logged (once each). */
const MAX_LOGGED_NETWORKS = 1024;

/** Builds the allow-list; undefined when every source is allowed. */
export function allowList(cidrs: readonly string[]): BlockList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const text of cidrs) {
    const prefix = parsePrefix(text);
    if (prefix === undefined) throw new RangeError(`not a CIDR prefix: ${text}`);
    const slash = text.indexOf('/');
    const address = slash < 0 ? text : text.slice(0, slash);
    list.addSubnet(address, prefix.bits, prefix.family === 4 ? 'ipv4' : 'ipv6');
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
  readonly internalErrors: InternalErrors;
  /** Datagrams refused by the allow-list. */
  notAllowed = 0;
  /** What each socket was granted by the kernel (bytes), by port. */
  readonly receiveBuffers = new Map<number, number>();
  private readonly sockets: Socket[] = [];
  private readonly warn: RateLimitedLog;
  private readonly allowed: BlockList | undefined;
  private readonly loggedNetworks = new Set<string>();
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly config: CollectorConfig,
    private readonly deps: {
      log: Logger;
      route: DatagramRoute;
      metrics: Registry;
      internalErrors?: InternalErrors;
    },
  ) {
    this.warn = new RateLimitedLog(deps.log);
    this.internalErrors = deps.internalErrors ?? new InternalErrors(deps.log);
    this.allowed = allowList(config.allowedExporters);
    registerReceiveMetrics(deps.metrics, this);
  }

  get route(): DatagramRoute {
    return this.deps.route;
  }

  /** The ports actually bound (useful when configured as 0). */
  get ports(): number[] {
    return this.sockets.map((s) => s.address().port);
  }

  async start(): Promise<void> {
    await this.deps.route.start();
    await this.restoreTemplates();
    const { netflowPort, ipfixPort } = this.config;
    // One socket when both are the same fixed port; port 0 asks for two ephemeral ones.
    const ports = netflowPort === ipfixPort && netflowPort !== 0 ? [netflowPort] : [netflowPort, ipfixPort];
    for (const port of ports) this.sockets.push(await this.listen(port));
    if (this.config.dataDir !== undefined) {
      this.timers.push(
        setInterval(
          this.internalErrors.guard('collector.persist', () => this.persistTemplates()),
          PERSIST_EVERY_MS,
        ).unref(),
      );
    }
    this.deps.log.info(
      { bind: this.config.bind, ports: this.ports },
      'collector listening (every port accepts NetFlow v1/v5/v7/v9 and IPFIX)',
    );
  }

  /** Closes the sockets, decodes what was received, keeps the templates, then stops the route. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await Promise.all(this.sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.sockets.length = 0;
    await this.deps.route.drain();
    await this.persistTemplates();
    await this.deps.route.stop();
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

  /** The socket handler: allow-list, timestamp, hand on. Nothing else runs here. */
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
    this.deps.route.push({ payload, address, port, receivedAt: Date.now() });
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
    try {
      await access(file);
    } catch {
      return; // first start
    }
    try {
      const n = await this.deps.route.restoreTemplates(file);
      this.deps.log.info({ file, templates: n }, 'templates restored');
    } catch (err) {
      this.deps.log.warn({ err, file }, 'templates file unreadable; starting without templates');
    }
  }

  /**
   * Writes templates.json. The decoder's threads write it (the decode workers each their share):
   * this thread holds no template state.
   */
  async persistTemplates(): Promise<void> {
    const file = this.templatesFile();
    if (file === undefined || this.config.dataDir === undefined) return;
    try {
      await mkdir(this.config.dataDir, { recursive: true });
      await this.deps.route.persistTemplates(file);
    } catch (err) {
      this.warn.warn('persist', { err, file }, 'could not persist templates');
    }
  }
}
