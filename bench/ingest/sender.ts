/**
 * bench/sender.c, compiled with the machine's compiler into the run's work directory and run once
 * per rate and receiver. See the C file for what it sends and how it paces.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SOURCE = resolve(import.meta.dirname, '..', 'sender.c');

/** What the sender says it did. */
export interface SendReport {
  /** Data datagrams sent. */
  readonly data: number;
  /** Templates datagrams sent (at the start and every template interval). */
  readonly templates: number;
  /** Flow records in the data datagrams sent. */
  readonly flowRecords: number;
  readonly sendErrors: number;
  /** Wall time of the sending, s. */
  readonly seconds: number;
  /** Data datagrams the schedule asked for (rate × seconds). */
  readonly target: number;
  /** Largest backlog behind the schedule, datagrams. */
  readonly maxBehind: number;
}

/** Compiles the sender into `workDir` with `cc -O2`; resolves with the executable and the compiler used. */
export async function buildSender(workDir: string): Promise<string> {
  const output = join(workDir, 'sender');
  await run('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', output, SOURCE]);
  return output;
}

/** Sends the stream file to 127.0.0.1:`port` at `rate` data datagrams/s for `seconds`. */
export async function send(
  sender: string,
  streamFile: string,
  port: number,
  rate: number,
  seconds: number,
  templateIntervalMs: number,
): Promise<SendReport> {
  const { stdout } = await run(
    sender,
    [streamFile, '127.0.0.1', String(port), String(rate), String(seconds), String(templateIntervalMs)],
    { timeout: (seconds * 2 + 15) * 1000 },
  );
  return JSON.parse(stdout) as SendReport;
}

/**
 * Whether the sender kept its rate: everything the schedule asked for was sent without error
 * within 2 % of the time. How far it fell behind on the way (a busy machine makes bursts) is
 * printed beside it.
 */
export function keptRate(report: SendReport, seconds: number): boolean {
  return report.data === report.target && report.sendErrors === 0 && report.seconds <= seconds * 1.02 + 0.01;
}
