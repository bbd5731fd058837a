/**
 * The analytics worker thread: receives tasks (tasks.ts) from the main thread, runs them, posts
 * the result back. Model fitting happens here so that the thread receiving datagrams never waits
 * for it.
 */
import { parentPort } from 'node:worker_threads';
import { runTask, type Task } from './tasks.js';

if (parentPort === null) throw new Error('analytics/jobs/worker runs as a worker thread only');
const port = parentPort;
port.on('message', (message: { id: number; task: Task }) => {
  runTask(message.task).then(
    (result) => port.postMessage({ id: message.id, result }),
    (err: unknown) =>
      port.postMessage({ id: message.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
