/**
 * The analytics worker thread: receives tasks (tasks.ts) from the main thread, runs them, posts
 * the result back. Model fitting happens here so that the thread receiving datagrams never waits
 * for it.
 */
import { type MessagePort, parentPort } from 'node:worker_threads';
import { settleThread } from '../../common/thread.js';
import { RemoteStore } from '../../storage/thread/client.js';
import { JOBS, type JobName, type JobResult, type JobSettings, type TaskRunner } from './jobs.js';
import { Pacer } from './pace.js';
import { runTask, type Task } from './tasks.js';

/** Model fitting gives way to everything else on a busy machine (common/thread.ts). */
const ANALYTICS_NICE = 10;

if (parentPort === null) throw new Error('analytics/jobs/worker runs as a worker thread only');
const port = parentPort;
settleThread('flowcast-jobs', ANALYTICS_NICE);

/** One run of a job, with the port to the store it reads and writes through. */
export interface JobTask {
  readonly type: 'job';
  readonly name: JobName;
  readonly settings: JobSettings;
  /** The run's clock. */
  readonly now: number;
  readonly port: MessagePort;
}

export interface JobWarning {
  readonly obj: Record<string, unknown>;
  readonly msg: string;
}

/** Warnings a run sends back for the service's log; past this many only their number. */
const MAX_WARNINGS = 50;

const runner: TaskRunner = { run: (task: Task) => runTask(task) } as TaskRunner;

/**
 * A whole job here: the store's answers (up to hundreds of thousands of interface rows after a
 * flood of spoofed exporters), the series, and the points written (480,000 for one forecast run of
 * 1,000 series) are made on this thread. On the receiving thread they held it 90-106 ms (store
 * answers) and 68-101 ms (the series posted to this worker, and the collections after them) in
 * bench/survive.ts's profile.
 */
async function job(task: JobTask): Promise<{ result: JobResult; warnings: JobWarning[]; more: number }> {
  const warnings: JobWarning[] = [];
  let more = 0;
  const pacer = new Pacer(task.settings.dutyCycle);
  try {
    const result = await JOBS[task.name]({
      // A port the store thread never read (it died first) is never closed: the hello bounds the wait.
      store: new RemoteStore(task.port, { helloTimeoutMs: 10_000 }),
      worker: runner,
      settings: task.settings,
      now: () => task.now,
      pace: () => pacer.pause(),
      warn: (obj, msg) => {
        if (warnings.length < MAX_WARNINGS) warnings.push({ obj, msg });
        else more++;
      },
    });
    return { result, warnings, more };
  } finally {
    task.port.close();
  }
}

port.on('message', (message: { id: number; task: Task | JobTask }) => {
  const { id, task } = message;
  const result: Promise<unknown> = task.type === 'job' ? job(task) : runTask(task);
  result.then(
    (value) => port.postMessage({ id, result: value }),
    (err: unknown) => port.postMessage({ id, error: err instanceof Error ? err.message : String(err) }),
  );
});
