/** `flowcast eval`: the evaluation harness (analytics/eval/harness.ts) as a command. */
import { contractJson, formatReport, runEval } from '../analytics/eval/harness.js';

export async function evalCommand(dirs: readonly string[], json: boolean): Promise<void> {
  const report = await runEval(dirs, (line) => process.stderr.write(`flowcast eval: ${line}\n`));
  process.stdout.write(json ? `${JSON.stringify(contractJson(report))}\n` : `${formatReport(report)}\n`);
}
