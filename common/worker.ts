/**
 * Starting a worker thread on one of our modules: the compiled .js in production; under the tests
 * and `tsx`, where the calling module is TypeScript, the .ts through tsx's loader, registered inside
 * the worker before the module is imported.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `relative` is the module's path from `base` without extension (e.g. './worker'). */
export function startWorker(base: string, relative: string, options: WorkerOptions = {}): Worker {
  if (!base.endsWith('.ts')) return new Worker(new URL(`${relative}.js`, base), options);
  const entry = JSON.stringify(new URL(`${relative}.ts`, base).href);
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); })`;
  return new Worker(boot, { ...options, eval: true });
}
