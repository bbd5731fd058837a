/**
 * The decode loop: one FlowState, the bounded queue of datagrams waiting for it, and the turns of
 * the event loop that decode them into a record sink. It runs wherever decoding runs: in each
 * decode worker (collector/worker/), and on the calling thread in the component tests.
 *
 * Every turn is bounded: it ends after TURN_BUDGET_MS or BATCH datagrams, and data released by a
 * late template comes out in steps, so health and the other messages of the thread are served
 * within a few milliseconds whatever arrives.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { InternalErrors } from '../../common/internal-errors.js';
import type { Logger } from '../../common/logger.js';
import { RateLimitedLog } from '../../common/logger.js';
import { type ReceivedDatagram, ReceiveQueue } from '../receive/queue.js';
import type { DatagramRoute } from '../receive/service.js';
import { datagramVersion, decodeDatagram, versionKey } from './decode.js';
import type { DecodedRecord } from './flow.js';
import type { ElementRegistry } from './ie/registry.js';
import { releasePending } from './sets.js';
import { type ExporterState, FlowState, type StateOptions, templatesDocument } from './state.js';

/** Receives each batch of decoded records; called synchronously from the decode loop. */
export type RecordSink = (records: readonly DecodedRecord[]) => void;

export interface DecodeLoopConfig {
  /** Datagrams the queue holds at most. */
  queueSize: number;
  /** Bytes of datagrams the queue holds at most. */
  queueMaxBytes: number;
  state: Partial<StateOptions>;
}

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
/** Records handed to the sink at once. */
const SINK_BATCH = 4096;
const SWEEP_EVERY_MS = 10_000;
/** Exporters one sweep step visits before yielding. */
const SWEEP_STEP = 500;

export class DecodeLoop implements DatagramRoute {
  readonly state: FlowState;
  readonly queue: ReceiveQueue;
  private readonly warn: RateLimitedLog;
  private readonly internalErrors: InternalErrors;
  private readonly batch: DecodedRecord[] = [];
  private drainScheduled = false;
  private sweeping = false;
  private running = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    config: DecodeLoopConfig,
    private readonly deps: {
      log: Logger;
      registry: ElementRegistry;
      sink: RecordSink;
      internalErrors?: InternalErrors;
    },
  ) {
    this.state = new FlowState(deps.registry, config.state);
    this.queue = new ReceiveQueue(config.queueSize, config.queueMaxBytes);
    this.warn = new RateLimitedLog(deps.log);
    this.internalErrors = deps.internalErrors ?? new InternalErrors(deps.log);
  }

  start(): void {
    this.running = true;
    this.timer = setInterval(
      this.internalErrors.guard('collector.sweep', () => this.sweepStep()),
      SWEEP_EVERY_MS,
    ).unref();
  }

  /** Decodes everything still queued and buffered data whose template arrived. */
  drain(): void {
    this.drainNow(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  get pending(): number {
    return this.queue.length;
  }

  get pendingBytes(): number {
    return this.queue.bytes;
  }

  get dropped(): number {
    return this.queue.dropped;
  }

  /** Queues one datagram; false (counted) when the queue is full. */
  push(d: ReceivedDatagram): boolean {
    if (!this.queue.push(d)) {
      // Counted per exporter and version too, for the `collector` measurement, but only for an
      // exporter already known: a drop never creates state.
      this.countDropped(d.address, datagramVersion(d.payload), 1);
      return false;
    }
    this.scheduleDrain();
    return true;
  }

  /** Counts dropped datagrams (here, or on the receiving thread) on their exporter, if it is known. */
  countDropped(address: string, version: number, n: number): void {
    const exporter = this.state.exporters.get(address);
    if (exporter === undefined) return;
    exporter.counters.version(versionKey(version)).dropped += n;
  }

  /** Restores persisted templates; returns how many (those not yet expired). */
  restore(persisted: unknown, now = Date.now()): number {
    return this.state.restore(persisted, now);
  }

  /** Restores templates.json; resolves to the number of templates restored (expired ones are not). */
  async restoreTemplates(file: string): Promise<number> {
    return this.restore(JSON.parse(await readFile(file, 'utf8')));
  }

  /** Writes templates.json atomically (temp file and rename). */
  async persistTemplates(file: string): Promise<void> {
    const tmp = `${file}.tmp`;
    await writeFile(tmp, templatesDocument(await this.snapshotParts()));
    await rename(tmp, file);
  }

  /**
   * The persisted form of every proven exporter, one JSON text each (templates.json is these
   * joined by templatesDocument), made an exporter at a time with a yield every 50: thousands of exporters' templates
   * at once held the loop for 300 ms.
   */
  async snapshotParts(): Promise<string[]> {
    const parts: string[] = [];
    let n = 0;
    for (const e of [...this.state.exporters.values()]) {
      const pe = this.state.snapshotExporter(e);
      if (pe !== undefined) parts.push(JSON.stringify(pe));
      if (++n % 50 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return parts;
  }

  /** One step of the sweep; continues in later turns until the pass over the table is done. */
  private sweepStep(): void {
    if (this.sweeping) return;
    this.sweeping = true;
    const step = this.internalErrors.guard('collector.sweep', () => {
      if (this.state.sweep(Date.now(), SWEEP_STEP) || !this.running) this.sweeping = false;
      else setImmediate(step);
    });
    step();
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(this.drainTurn);
  }

  private readonly drainTurn = (): void => {
    try {
      this.drainNow(BATCH, TURN_BUDGET_MS);
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
  private drainNow(limit: number, budgetMs: number): void {
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
      if (out.length >= SINK_BATCH) this.flush();
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
      if (out.length >= SINK_BATCH) this.flush();
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
}
