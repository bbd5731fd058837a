/**
 * Loaded into `flowcast serve` by `npm run bench:ingest -- --profile` (through NODE_OPTIONS, after
 * tsx): the first SIGUSR2 starts V8's CPU profiler, the second stops it and writes the profile to
 * BENCH_INGEST_PROFILE, so the profile covers exactly the bench's send window and not start-up.
 * Nothing else of flowcast is touched (`--cpu-prof` is not allowed in NODE_OPTIONS).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const target = process.env['BENCH_INGEST_PROFILE'];
if (target !== undefined) {
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () => session.post('Profiler.start'));
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, result) => {
      writeFileSync(
        target,
        err === null ? JSON.stringify(result.profile) : JSON.stringify({ error: String(err) }),
      );
    });
  });
}
