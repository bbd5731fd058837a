/**
 * The analytics worker thread: receives tasks (tasks.ts) from the main thread, runs them, posts
 * the result back. Model fitting happens here so that the thread receiving datagrams never waits
 * for it.
 */
import { parentPort, type TransferListItem } from 'node:worker_threads';
import { RemoteStore } from '../../storage/thread/client.js';
import { type LoadedSeries, loadSeries } from './series.js';
import { type LoadTask, runTask, type Task } from './tasks.js';

if (parentPort === null) throw new Error('analytics/jobs/worker runs as a worker thread only');
const port = parentPort;

/**
 * A job's series, read here through the port to the store it came with: the store's answers (up
 * to hundreds of thousands of interface rows after a flood of spoofed exporters) are made into
 * objects on this thread, and the series go back as transferred buffers.
 */
async function load(task: LoadTask): Promise<LoadedSeries[]> {
  try {
    return await loadSeries(new RemoteStore(task.port), task.options);
  } finally {
    task.port.close();
  }
}

port.on('message', (message: { id: number; task: Task | LoadTask }) => {
  const { id, task } = message;
  const result: Promise<unknown> = task.type === 'load' ? load(task) : runTask(task);
  result.then(
    (value) => {
      const transfer: TransferListItem[] =
        task.type === 'load' ? (value as LoadedSeries[]).map((s) => s.values.buffer as ArrayBuffer) : [];
      port.postMessage({ id, result: value }, transfer);
    },
    (err: unknown) => port.postMessage({ id, error: err instanceof Error ? err.message : String(err) }),
  );
});
