/**
 * `--profile` of `npm run bench:ingest`: flowcast runs with cpu-profiler.ts loaded, profiles exactly
 * the time the stream is sent and drained, and the functions with the most self time are printed.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/**
 * The `top` functions by self time in the V8 CPU profile `file`, as lines `share  function
 * file`; idle time is left out of the shares.
 */
export async function topFunctions(file: string, top = 12): Promise<string[]> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile | { error: string };
  if ('error' in profile) return [`the profiler failed: ${profile.error}`];
  const names = new Map<number, string>();
  for (const node of profile.nodes) {
    // No line: under tsx the profile's positions are those of the transpiled code.
    const { functionName, url } = node.callFrame;
    const where = url === '' ? '' : `  ${basename(url)}`;
    names.set(node.id, `${functionName || '(anonymous)'}${where}`);
  }
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const name = names.get(profile.samples[i]!) ?? '?';
    if (name === '(idle)') continue;
    // A sample's delta is the time since the previous one: the time it stands for.
    const delta = profile.timeDeltas[i] ?? 0;
    self.set(name, (self.get(name) ?? 0) + delta);
    total += delta;
  }
  if (total === 0) return ['the profile holds no busy sample'];
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => `${((us / total) * 100).toFixed(1).padStart(5)} %  ${name}`)
    .concat(`(${(total / 1e6).toFixed(2)} s of busy samples)`);
}
