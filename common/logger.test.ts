/** The logger a person reads: readable lines on request, stacks only when debugging, bounded warnings. */
import { Writable } from 'node:stream';
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
