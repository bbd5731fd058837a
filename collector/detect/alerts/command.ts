/**
 * Command sink (FastNetMon's notify script): runs a program per episode start and end (updates are
 * not sent), with the event as JSON on stdin (see `eventJson`) and its state, kind and subject as
 * the arguments after the configured ones. One run at a time, from a bounded queue; a run that
 * exceeds the timeout is killed (its process group) and counted as a failure, as is a non-zero exit.
 */
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import type { EpisodeEvent } from '../episodes.js';
import { type DeliveryListener, eventJson, QueuedSink, type QueueOptions } from './sink.js';

export interface CommandOptions extends QueueOptions {
  /** Program to run (no shell). */
  readonly path: string;
  readonly args: readonly string[];
  readonly timeoutMs: number;
}

export class CommandError extends Error {
  readonly code = 'FLOWCAST_ALERT_COMMAND';
}

function runOnce(options: CommandOptions, event: EpisodeEvent, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const e = event.episode;
    const child = spawn(options.path, [...options.args, event.state, e.kind, e.subject], {
      stdio: ['pipe', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    let settled = false;
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      kill();
      finish(new CommandError(`${options.path} did not finish within ${options.timeoutMs} ms (killed)`));
    }, options.timeoutMs);
    const onAbort = () => {
      kill();
      finish(new CommandError(`${options.path} aborted at stop`));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const finish = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(stderr);
    };
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    child.on('error', (err) => finish(new CommandError(`${options.path}: ${err.message}`, { cause: err })));
    child.on('exit', (code, sig) => {
      if (code === 0) finish(undefined);
      else
        finish(
          new CommandError(
            `${options.path} exited with ${code ?? sig}${stderr ? `: ${stderr.trim().slice(0, 300)}` : ''}`,
          ),
        );
    });
    // A program that does not read stdin closes it early: not an error.
    child.stdin.on('error', () => {});
    child.stdin.end(`${JSON.stringify(eventJson(event))}\n`);
  });
}

export class CommandSink extends QueuedSink {
  constructor(options: CommandOptions, deps: { log: Logger; onResult: DeliveryListener }) {
    super(
      'command',
      options,
      async (event, signal) => {
        await runOnce(options, event, signal);
      },
      deps,
      'command: run failed',
    );
  }

  override deliver(event: EpisodeEvent): void {
    if (event.state === 'update') return;
    super.deliver(event);
  }
}
