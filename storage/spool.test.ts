/**
 * The durable spool on a real temporary directory: order, bounds, torn and corrupt records, and a
 * writer process killed with SIGKILL while appending.
 */
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool, type SpoolRecord } from './spool.js';

let dir: string;
let warnings: string[];

const log = () =>
  pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg as string) });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowcast-spool-'));
  warnings = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Replays everything, oldest first, removing each segment as a writer would. */
async function drain(spool: Spool): Promise<SpoolRecord[]> {
  const out: SpoolRecord[] = [];
  for (let segment = await spool.oldest(); segment !== undefined; segment = await spool.oldest()) {
    out.push(...segment.records);
    await spool.remove(segment.id);
  }
  return out;
}

const segmentFiles = async () => (await readdir(dir)).filter((f) => f.endsWith('.seg')).sort();

describe('Spool', () => {
  it('keeps batches across a reopen and replays them in order', async () => {
    const first = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 64, log: log() });
    await first.open();
    for (let i = 0; i < 10; i++) expect(await first.append(`m v=${i}i ${i}`, i + 1)).toBe(0);
    expect(first.points).toBe(55);
    expect((await segmentFiles()).length).toBeGreaterThan(1);
    await first.close();

    const second = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 64, log: log() });
    await second.open();
    expect(second.points).toBe(55);
    const records = await drain(second);
    expect(records.map((r) => r.payload)).toEqual(Array.from({ length: 10 }, (_, i) => `m v=${i}i ${i}`));
    expect(records.map((r) => r.points)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(second.points).toBe(0);
    expect(second.bytes).toBe(0);
    expect(await segmentFiles()).toEqual([]);
  });

  it('skips a segment file removed by hand, counting its points lost, instead of sticking', async () => {
    const spool = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 1, log: log() });
    await spool.open();
    await spool.append('a', 3);
    await spool.append('b', 4);
    await spool.append('c', 5);
    const files = await segmentFiles();
    await rm(join(dir, files[0]!));
    await rm(join(dir, files[1]!));
    expect((await drain(spool)).map((r) => r.payload)).toEqual(['c']);
    expect(spool.takeLost()).toBe(7);
    expect(spool.takeLost()).toBe(0);
    expect(spool.points).toBe(0);
    expect(warnings).toContain('spool: segment file missing, skipped');
  });

  it('keeps appending to a new segment while the oldest one is replayed', async () => {
    const spool = new Spool({ dir, maxBytes: 1 << 20, log: log() });
    await spool.open();
    await spool.append('a', 1);
    const leased = await spool.oldest();
    await spool.append('b', 1);
    expect(leased?.records.map((r) => r.payload)).toEqual(['a']);
    await spool.remove(leased!.id);
    expect((await drain(spool)).map((r) => r.payload)).toEqual(['b']);
  });

  it('drops the oldest segments when full and reports the points dropped', async () => {
    // Each record is 16 bytes of header + 10 of payload; one record per segment.
    const spool = new Spool({ dir, maxBytes: 100, segmentBytes: 1, log: log() });
    await spool.open();
    const dropped: number[] = [];
    for (let i = 0; i < 6; i++)
      dropped.push(await spool.append(`batch-${String(i).padStart(4, '0')}`, 10 + i));
    // 3 records (78 bytes) fit; the 4th, 5th and 6th each push the oldest one out.
    expect(dropped).toEqual([0, 0, 0, 10, 11, 12]);
    expect(spool.bytes).toBeLessThanOrEqual(100);
    expect((await drain(spool)).map((r) => r.payload)).toEqual(['batch-0003', 'batch-0004', 'batch-0005']);
    expect(warnings.filter((w) => w.includes('dropping the oldest segment'))).toHaveLength(3);
  });

  it('never drops the segment being replayed', async () => {
    const spool = new Spool({ dir, maxBytes: 60, segmentBytes: 1, log: log() });
    await spool.open();
    await spool.append('0123456789', 1);
    const leased = await spool.oldest();
    await spool.append('0123456789', 2);
    expect(await spool.append('0123456789', 3)).toBe(2);
    await spool.remove(leased!.id);
    expect((await drain(spool)).map((r) => r.points)).toEqual([3]);
  });

  it('drops a batch larger than the whole spool', async () => {
    const spool = new Spool({ dir, maxBytes: 20, log: log() });
    await spool.open();
    expect(await spool.append('x'.repeat(100), 7)).toBe(7);
    expect(spool.points).toBe(0);
  });

  it('skips a torn last record (a crash mid-append) and truncates it away', async () => {
    const spool = new Spool({ dir, maxBytes: 1 << 20, log: log() });
    await spool.open();
    await spool.append('first', 1);
    await spool.append('second', 2);
    await spool.close();
    const [file] = await segmentFiles();
    const path = join(dir, file!);
    const good = (await readFile(path)).length;
    // What a crash leaves after the header and part of the payload of a third record reached disk.
    const torn = Buffer.alloc(16 + 4);
    torn.writeUInt32BE(0x46435350, 0);
    torn.writeUInt32BE(100, 4);
    torn.writeUInt32BE(5, 8);
    await appendFile(path, torn);

    const reopened = new Spool({ dir, maxBytes: 1 << 20, log: log() });
    await reopened.open();
    expect(warnings.some((w) => w.includes('damaged end of a segment'))).toBe(true);
    expect((await readFile(path)).length).toBe(good);
    expect(reopened.points).toBe(3);
    await reopened.append('third', 3);
    expect((await drain(reopened)).map((r) => r.payload)).toEqual(['first', 'second', 'third']);
  });

  it('skips a last record whose checksum does not match, and a torn header', async () => {
    const spool = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 1, log: log() });
    await spool.open();
    await spool.append('keep', 1);
    await spool.append('flip', 1);
    await spool.append('half', 1);
    await spool.close();
    const [, second, third] = await segmentFiles();
    const flipped = await readFile(join(dir, second!));
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 1) ^ 0xff, flipped.length - 1);
    await writeFile(join(dir, second!), flipped);
    await writeFile(join(dir, third!), (await readFile(join(dir, third!))).subarray(0, 7));

    const reopened = new Spool({ dir, maxBytes: 1 << 20, log: log() });
    await reopened.open();
    expect(reopened.points).toBe(1);
    expect((await drain(reopened)).map((r) => r.payload)).toEqual(['keep']);
    expect(warnings.filter((w) => w.includes('damaged end of a segment'))).toHaveLength(2);
    expect(await segmentFiles()).toEqual([]);
  });

  it('survives SIGKILL of a process in the middle of appending', async () => {
    const spoolModule = fileURLToPath(new URL('./spool.ts', import.meta.url));
    const script = join(dir, 'writer.mts');
    await writeFile(
      script,
      // A stand-in logger: the script runs outside the project, where pino does not resolve.
      `import { Spool } from ${JSON.stringify(spoolModule)};
       const spool = new Spool({ dir: ${JSON.stringify(join(dir, 'spool'))}, maxBytes: 1 << 30, segmentBytes: 4096, log: { warn() {}, info() {} } });
       await spool.open();
       for (let i = 0; ; i++) {
         await spool.append('m n=' + i + 'i ' + 'x'.repeat(i % 300), 1);
         process.stdout.write(i + '\\n');
       }`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acknowledged = -1;
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = chunk.trim().split('\n');
        acknowledged = Number(lines[lines.length - 1]);
        if (acknowledged >= 300) {
          child.removeAllListeners('exit');
          child.kill('SIGKILL');
          child.on('exit', () => resolve());
        }
      });
    });

    const spool = new Spool({ dir: join(dir, 'spool'), maxBytes: 1 << 30, log: log() });
    await spool.open();
    const records = await drain(spool);
    // Every acknowledged append is there, in order, with nothing invented after the last one.
    expect(records.length).toBeGreaterThan(acknowledged);
    records.forEach((r, i) => {
      expect(r.payload.startsWith(`m n=${i}i `)).toBe(true);
    });
  });
});
