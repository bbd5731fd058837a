/**
 * On-demand CPU profiles of every thread, for finding where a running collector spends its time:
 * with FLOWCAST_CPU_PROFILE_DIR set, the first SIGUSR2 starts V8's profiler in the main thread and
 * in every decode worker, the second stops it and each thread writes
 * `<dir>/flowcast-<thread>-<time>.cpuprofile` (open in Chrome DevTools or speedscope). Nothing runs
 * without the variable. Profiling slows the collector by a few per cent while it runs.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { BroadcastChannel, isMainThread } from 'node:worker_threads';

const CHANNEL = 'flowcast-cpu-profile';

/** Installs the profiler in this thread when FLOWCAST_CPU_PROFILE_DIR is set; `name` goes in the file name. */
export function installProfiler(name: string, onError: (err: unknown) => void): void {
  const dir = process.env['FLOWCAST_CPU_PROFILE_DIR'];
  if (dir === undefined || dir === '') return;
  const session = new Session();
  session.connect();
  let running = false;
  const toggle = (start: boolean) => {
    if (start === running) return;
    running = start;
    if (start) {
      session.post('Profiler.enable', () => session.post('Profiler.start'));
      return;
    }
    session.post('Profiler.stop', (err, result) => {
      if (err !== null) return onError(err);
      const file = join(dir, `flowcast-${name}-${Date.now()}.cpuprofile`);
      writeFile(file, JSON.stringify(result.profile)).catch(onError);
    });
  };
  const channel = new BroadcastChannel(CHANNEL);
  (channel as unknown as { unref(): void }).unref();
  if (isMainThread) {
    process.on('SIGUSR2', () => {
      const start = !running;
      toggle(start);
      channel.postMessage(start);
    });
  } else {
    channel.onmessage = (event) => toggle((event as MessageEvent).data === true);
  }
}
