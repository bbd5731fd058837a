/**
 * The durable spool: line-protocol batches that could not be written, kept on disk until they can.
 *
 * Batches are appended as records to segment files `<dir>/<sequence>.seg` and fsync'd before
 * `append` resolves, so a batch the writer has handed over survives a crash or SIGKILL. Segments are
 * replayed oldest first and a segment is deleted only once all of it has been written. The spool is
 * bounded in bytes: to make room the oldest segments are dropped, and the points they held counted.
 *
 * A record is framed as: magic u32, payload length u32, point count u32, CRC-32 (of length, count
 * and payload) u32, then the UTF-8 payload; all big-endian. A crash mid-append leaves a torn last
 * record: `open` detects it by length or checksum, logs it, and truncates the segment there.
 */
import { type FileHandle, mkdir, open, readdir, readFile, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from 'pino';

const MAGIC = 0x46435350; // "FCSP"
const HEADER_BYTES = 16;
const SEGMENT_NAME = /^(\d{16})\.seg$/;

/** Configuration of a {@link Spool}. */
export interface SpoolOptions {
  /** Directory of the segment files; created when missing. */
  readonly dir: string;
  /**
   * Upper bound of the spool's size on disk. Appending past it drops the oldest segments; only the
   * segment being replayed at that moment is kept, so the bound can be exceeded by that one segment.
   */
  readonly maxBytes: number;
  /** Size at which the segment being appended to is closed and the next one started. */
  readonly segmentBytes?: number;
  readonly log: Logger;
}

/** One spooled batch: line protocol and the number of points in it. */
export interface SpoolRecord {
  readonly payload: string;
  readonly points: number;
}

/** A segment handed out for replay by {@link Spool.oldest}; give its id to {@link Spool.remove}. */
export interface SpoolSegment {
  readonly id: number;
  readonly records: readonly SpoolRecord[];
}

interface SegmentInfo {
  readonly id: number;
  bytes: number;
  points: number;
}

interface ActiveSegment {
  readonly info: SegmentInfo;
  readonly handle: FileHandle;
}

interface ParsedSegment {
  records: SpoolRecord[];
  /** Bytes of whole, valid records from the start of the file. */
  validBytes: number;
  /** Why parsing stopped before the end of the file, when it did. */
  problem?: string;
}

function encodeRecord(payload: string, points: number): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const record = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  record.writeUInt32BE(MAGIC, 0);
  record.writeUInt32BE(body.length, 4);
  record.writeUInt32BE(points, 8);
  body.copy(record, HEADER_BYTES);
  record.writeUInt32BE(crc32(body, crc32(record.subarray(4, 12))), 12);
  return record;
}

function parseSegment(data: Buffer): ParsedSegment {
  const records: SpoolRecord[] = [];
  let offset = 0;
  while (offset < data.length) {
    const left = data.length - offset;
    if (left < HEADER_BYTES) return { records, validBytes: offset, problem: `torn header (${left} bytes)` };
    if (data.readUInt32BE(offset) !== MAGIC) return { records, validBytes: offset, problem: 'bad magic' };
    const length = data.readUInt32BE(offset + 4);
    if (length > left - HEADER_BYTES) {
      return {
        records,
        validBytes: offset,
        problem: `torn record (${left - HEADER_BYTES} of ${length} bytes)`,
      };
    }
    const body = data.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
    const expected = crc32(body, crc32(data.subarray(offset + 4, offset + 12)));
    if (data.readUInt32BE(offset + 12) !== expected)
      return { records, validBytes: offset, problem: 'bad checksum' };
    records.push({ payload: body.toString('utf8'), points: data.readUInt32BE(offset + 8) });
    offset += HEADER_BYTES + length;
  }
  return { records, validBytes: offset };
}

const segmentFile = (dir: string, id: number) => join(dir, `${String(id).padStart(16, '0')}.seg`);

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A bounded, durable, ordered queue of line-protocol batches on disk. */
export class Spool {
  private readonly segmentBytes: number;
  private readonly segments: SegmentInfo[] = [];
  private active: ActiveSegment | undefined;
  /** The segment handed out for replay, which dropping must leave alone. */
  private leased: number | undefined;
  private nextId = 1;
  /** Operations run one at a time, in call order. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SpoolOptions) {
    this.segmentBytes =
      options.segmentBytes ?? Math.max(1, Math.min(16 * 1024 * 1024, Math.floor(options.maxBytes / 8)));
  }

  /** Points waiting in the spool. */
  get points(): number {
    return this.segments.reduce((sum, s) => sum + s.points, 0);
  }

  /** Whether the spool holds no segment at all. */
  get empty(): boolean {
    return this.segments.length === 0;
  }

  /** Bytes the spool holds on disk. */
  get bytes(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0);
  }

  /**
   * Reads the segments a previous run left, counting their points; truncates a torn last record.
   * Appends always go to a new segment.
   */
  open(): Promise<void> {
    return this.serialised(async () => {
      const { dir, log } = this.options;
      await this.closeActive();
      this.segments.length = 0;
      this.leased = undefined;
      await mkdir(dir, { recursive: true });
      const ids = (await readdir(dir))
        .map((name) => SEGMENT_NAME.exec(name)?.[1])
        .filter((id) => id !== undefined)
        .map(Number)
        .sort((a, b) => a - b);
      for (const id of ids) {
        const file = segmentFile(dir, id);
        const data = await readFile(file);
        const parsed = parseSegment(data);
        if (parsed.problem !== undefined) {
          log.warn(
            {
              file,
              problem: parsed.problem,
              keptBytes: parsed.validBytes,
              discardedBytes: data.length - parsed.validBytes,
            },
            'spool: skipping the damaged end of a segment (a crash during an append)',
          );
          await truncate(file, parsed.validBytes);
        }
        if (parsed.records.length === 0) {
          await unlink(file);
          continue;
        }
        const points = parsed.records.reduce((sum, r) => sum + r.points, 0);
        this.segments.push({ id, bytes: parsed.validBytes, points });
      }
      this.nextId = (ids[ids.length - 1] ?? 0) + 1;
      if (this.segments.length > 0) {
        log.info(
          { segments: this.segments.length, points: this.points, bytes: this.bytes },
          'spool: data to replay',
        );
      }
    });
  }

  /**
   * Appends one batch and fsyncs it. Resolves with the number of points dropped to stay within
   * `maxBytes` (oldest segments first, or this batch itself when it alone is larger than the bound).
   */
  append(payload: string, points: number): Promise<number> {
    return this.serialised(async () => {
      const record = encodeRecord(payload, points);
      if (record.length > this.options.maxBytes) {
        this.options.log.warn(
          { bytes: record.length, points },
          'spool: batch larger than the spool, dropped',
        );
        return points;
      }
      const dropped = await this.makeRoom(record.length);
      const active = await this.activeSegment();
      try {
        await active.handle.write(record);
        await active.handle.datasync();
      } catch (err) {
        // Keep a half-written record (disk full) from ending up between good ones: cut it off and
        // start the next append in a new segment.
        await active.handle.truncate(active.info.bytes).catch(() => undefined);
        await this.closeActive();
        throw err;
      }
      active.info.bytes += record.length;
      active.info.points += points;
      return dropped;
    });
  }

  /**
   * The oldest segment's records, for replay; the segment stays on disk until {@link remove}. When
   * the oldest segment is the one being appended to, it is closed first.
   */
  oldest(): Promise<SpoolSegment | undefined> {
    return this.serialised(async () => {
      let first = this.segments[0];
      let bytes: Buffer | undefined;
      while (first !== undefined && bytes === undefined) {
        if (this.active?.info === first) await this.closeActive();
        bytes = await readFile(segmentFile(this.options.dir, first.id)).catch((err: unknown) => {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          return undefined;
        });
        if (bytes === undefined) {
          // Removed by hand: count what it held as lost and go on, or the spool would stay stuck
          // behind it for good.
          this.options.log.warn(
            { segment: first.id, points: first.points },
            'spool: segment file missing, skipped',
          );
          this.lost += first.points;
          this.segments.shift();
          first = this.segments[0];
        }
      }
      if (first === undefined || bytes === undefined) return undefined;
      const file = segmentFile(this.options.dir, first.id);
      const parsed = parseSegment(bytes);
      if (parsed.problem !== undefined) {
        this.options.log.warn(
          { file, problem: parsed.problem },
          'spool: segment damaged since it was written',
        );
      }
      this.leased = first.id;
      return { id: first.id, records: parsed.records };
    });
  }

  /** Points in segments that vanished from disk before replay; `takeLost()` reports them once. */
  private lost = 0;

  /** Returns the points lost to missing segment files since the last call. */
  takeLost(): number {
    const n = this.lost;
    this.lost = 0;
    return n;
  }

  /** Deletes a segment once everything in it has been written. */
  remove(id: number): Promise<void> {
    return this.serialised(async () => {
      if (this.leased === id) this.leased = undefined;
      await this.deleteSegment(id);
    });
  }

  /** Closes the segment being appended to; the spool's content stays for the next `open`. */
  close(): Promise<void> {
    return this.serialised(() => this.closeActive());
  }

  private serialised<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.chain.then(operation);
    this.chain = result.catch(() => undefined);
    return result;
  }

  private async makeRoom(needed: number): Promise<number> {
    let dropped = 0;
    while (this.bytes + needed > this.options.maxBytes) {
      const victim = this.segments.find((s) => s.id !== this.leased);
      if (victim === undefined) break;
      this.options.log.warn(
        { segment: victim.id, points: victim.points, bytes: victim.bytes },
        'spool: full, dropping the oldest segment',
      );
      if (this.active?.info === victim) await this.closeActive();
      await this.deleteSegment(victim.id);
      dropped += victim.points;
    }
    return dropped;
  }

  private async activeSegment(): Promise<ActiveSegment> {
    if (this.active !== undefined && this.active.info.bytes < this.segmentBytes) return this.active;
    await this.closeActive();
    const id = this.nextId++;
    const file = segmentFile(this.options.dir, id);
    const handle = await open(file, 'a');
    await syncDir(this.options.dir);
    const info: SegmentInfo = { id, bytes: 0, points: 0 };
    this.segments.push(info);
    this.active = { info, handle };
    return this.active;
  }

  private async closeActive(): Promise<void> {
    const active = this.active;
    this.active = undefined;
    await active?.handle.close();
  }

  private async deleteSegment(id: number): Promise<void> {
    const index = this.segments.findIndex((s) => s.id === id);
    if (index < 0) return;
    this.segments.splice(index, 1);
    await unlink(segmentFile(this.options.dir, id)).catch((err: unknown) => {
      // Already gone (removed by hand): what matters is that it is not replayed again.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    });
    await syncDir(this.options.dir);
  }
}
