/**
 * Test support: finding the external programs that functional tests run (tshark, softflowd, ...)
 * and the one rule for when one is missing: skip with a visible notice on a developer machine,
 * fail under CI (`CI=true`), where a skipped oracle would silently pass.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Directories searched after `PATH`: daemons such as softflowd live in sbin, often not on a user's PATH. */
const EXTRA_DIRECTORIES = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The absolute path of executable `name` on `PATH` or in an sbin directory, or undefined. */
export function findExecutable(name: string): string | undefined {
  const directories = [...(process.env['PATH'] ?? '').split(delimiter), ...EXTRA_DIRECTORIES];
  for (const directory of directories) {
    if (directory === '') continue;
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Decides whether tests that need tool `name` run. Returns `available` when it is true. When it is
 * false: under CI (`process.env.CI === 'true'`) throws, so the suite fails instead of skipping;
 * elsewhere prints a warning naming the tool and returns false.
 *
 * Use at module level: `const hasTshark = requireTool('tshark', tsharkAvailable());` then
 * `describe.skipIf(!hasTshark)(...)`.
 */
export function requireTool(name: string, available: boolean = findExecutable(name) !== undefined): boolean {
  if (available) return true;
  if (process.env['CI'] === 'true') {
    throw new Error(`${name} is required when CI=true but is not installed or does not run`);
  }
  console.warn(`[flowcast tests] ${name} is not installed: skipping the tests that need it`);
  return false;
}

const runs = new Map<string, boolean>();

/** Whether executable `name` is installed and `name ...args` exits 0 (a smoke run). Cached. */
export function toolRuns(name: string, args: readonly string[]): boolean {
  let ok = runs.get(name);
  if (ok === undefined) {
    const path = findExecutable(name);
    ok = path !== undefined && spawnSync(path, args, { stdio: 'ignore' }).status === 0;
    runs.set(name, ok);
  }
  return ok;
}
