/**
 * Starting a worker thread on one of our modules: the compiled .js in production; under the tests
 * and `tsx`, where the calling module is TypeScript, the .ts through tsx's loader, registered inside
 * the worker before the module is imported.
 */
import { writeFileSync } from 'node:fs';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `relative` is the module's path from `base` without extension (e.g. './worker'). */
export function startWorker(base: string, relative: string, options: WorkerOptions = {}): Worker {
  if (!base.endsWith('.ts')) return new Worker(new URL(`${relative}.js`, base), options);
  const entry = JSON.stringify(new URL(`${relative}.ts`, base).href);
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/**
 * Names the calling thread for the operating system (Linux: at most 15 bytes, through
 * /proc/thread-self/comm), so that `top -H`, `ps -L` and /proc/<pid>/task tell a decode worker from
 * the engine's helper threads, which all carry the process's name; elsewhere, or when the write is
 * refused, the name stays. The CPU a thread takes is then read per thread (bench/ingest/proc.ts).
 */
export function nameThread(name: string): void {
  if (process.platform !== 'linux') return;
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // not mounted, or not ours to name
  }
}
