/** `flowcast eval`: the evaluation harness (analytics/eval/harness.ts) as a command. */
import { missedGoals, readGoals } from '../analytics/eval/goals.js';
import { contractJson, formatReport, runEval } from '../analytics/eval/harness.js';

/** Runs the harness and prints its report; false when `goalsFile` is given and a goal is missed. */
export async function evalCommand(
  dirs: readonly string[],
  json: boolean,
  goalsFile?: string,
): Promise<boolean> {
  const goals = goalsFile === undefined ? undefined : readGoals(goalsFile);
  const report = await runEval(dirs, (line) => process.stderr.write(`flowcast eval: ${line}\n`));
  process.stdout.write(json ? `${JSON.stringify(contractJson(report))}\n` : `${formatReport(report)}\n`);
  if (goals === undefined) return true;
  const missed = missedGoals(report, goals);
  for (const m of missed) process.stderr.write(`flowcast eval: goal missed: ${m}\n`);
  if (missed.length === 0) process.stderr.write(`flowcast eval: every goal in ${goalsFile} met\n`);
  return missed.length === 0;
}
