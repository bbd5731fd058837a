/** The logger a person reads: readable lines on request, stacks only when debugging, bounded warnings. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger, RateLimitedLog } from './logger.js';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('createLogger', () => {
  it('pretty: one readable line per event, no JSON, no stack at info', () => {
    const out = sink();
    const log = createLogger('info', 'pretty', out.stream);
    log.warn({ err: new Error('socket closed'), exporter: '192.0.2.1' }, 'UDP socket error');
    const line = out.text();
    expect(line).toContain('UDP socket error');
    expect(line).toContain('192.0.2.1');
    expect(line).toContain('socket closed');
    expect(line).not.toMatch(/^\{/);
    expect(line).not.toContain('at ');
    expect(line.trim().split('\n')).toHaveLength(1);
  });

  it('json: one object per line; the stack only at debug', () => {
    const info = sink();
    createLogger('info', 'json', info.stream).error({ err: new Error('boom') }, 'failed');
    const parsed = JSON.parse(info.text()) as { msg: string; err: { message: string; stack?: string } };
    expect(parsed.msg).toBe('failed');
    expect(parsed.err.message).toBe('boom');
    expect(parsed.err.stack).toBeUndefined();
    const debug = sink();
    createLogger('debug', 'json', debug.stream).error({ err: new Error('boom') }, 'failed');
    expect((JSON.parse(debug.text()) as { err: { stack?: string } }).err.stack).toContain('logger.test.ts');
  });

  it('auto: JSON when the destination is not a terminal', () => {
    const out = sink();
    createLogger('info', 'auto', out.stream).info('started');
    expect((JSON.parse(out.text()) as { msg: string }).msg).toBe('started');
  });
});

describe('RateLimitedLog', () => {
  it('limits per key and over all keys, and reports what it suppressed', () => {
    const out = sink();
    const log = createLogger('info', 'json', out.stream);
    const limited = new RateLimitedLog(log, { intervalMs: 1000, burst: 2, globalBurst: 10, maxKeys: 100 });
    // 5,000 sources, three warnings each, within one window.
    for (let i = 0; i < 5000; i++)
      for (let k = 0; k < 3; k++) limited.warn(`decode:${i}`, { i }, 'malformed', 0);
    const lines = () =>
      out
        .text()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { msg: string; suppressed?: number });
    expect(lines()).toHaveLength(10);
    // The next window opens with a summary of what the global limit held back.
    limited.warn('decode:1', {}, 'malformed', 1000);
    const summary = lines().find((l) => l.msg.includes('global log limit'));
    // 10,000 warnings passed the per-source limit (2 each); 10 were written.
    expect(summary?.suppressed).toBe(10_000 - 10);
  });
});

describe('serviceOutput', () => {
  it('a stdout reader that stops reading never holds the service: lines wait in a bounded buffer, the excess is dropped and counted, the rest arrives whole and in order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flowcast-log-'));
    try {
      const script = join(dir, 'writer.ts');
      const lines = 20_000;
      await writeFile(
        script,
        `import { createLogger, serviceOutput } from ${JSON.stringify(fileURLToPath(new URL('./logger.ts', import.meta.url)))};
         const output = serviceOutput(1 << 20);
         let drops = 0;
         output.stream.on('drop', () => drops++);
         const log = createLogger('info', 'json', output.stream);
         output.write('{"relayed":true}\\n');
         for (let i = 0; i < ${lines}; i++) log.info({ i, pad: 'x'.repeat(200) }, 'line');
         // Reached only if no write blocked: the parent has not read anything yet.
         process.stderr.write('done ' + drops + ' ' + output.droppedBytes + '\\n');`,
      );
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Not read until the writer says it is done: the pipe (64 KiB) fills at once.
      child.stdout.pause();
      const done = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the writer blocked on its full stdout')), 20_000);
        let err = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          err += chunk;
          const m = /done (\d+) (\d+)/.exec(err);
          if (m !== null) {
            clearTimeout(timer);
            resolve(m[0]);
          }
        });
        child.on('exit', (code) => reject(new Error(`writer exited with ${code}: ${err}`)));
      });
      const [, drops, droppedBytes] = done.split(' ').map(Number) as [string, number, number];
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
      });
      child.stdout.resume();
      await new Promise<void>((resolve) => child.on('close', () => resolve()));

      const received = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { i?: number; relayed?: boolean });
      expect(drops).toBeGreaterThan(0);
      expect(droppedBytes).toBeGreaterThan(0);
      expect(received[0]?.relayed).toBe(true);
      const numbers = received.slice(1).map((r) => r.i as number);
      // Every line not dropped arrives, whole (each parsed above) and in order.
      expect(numbers.length + drops).toBe(lines);
      for (let k = 1; k < numbers.length; k++) expect(numbers[k]).toBeGreaterThan(numbers[k - 1]!);
      // The buffer bound held: what arrived is at most about 1 MiB plus what the pipe took before.
      expect(out.length).toBeLessThan((1 << 20) + (1 << 19));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
