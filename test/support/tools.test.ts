/**
 * Tests for the external-tool helpers: finding executables, and skip-or-fail when one is missing.
 */
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { findExecutable, requireTool } from './tools.js';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Some executable that only /usr/sbin has (softflowd, on the CI image), if any. */
const sbinTool = existsSync('/usr/sbin')
  ? readdirSync('/usr/sbin').find(
      (name) =>
        isExecutable(`/usr/sbin/${name}`) &&
        !['/usr/local/sbin', '/usr/local/bin', '/usr/bin', '/bin'].some((dir) =>
          existsSync(`${dir}/${name}`),
        ),
    )
  : undefined;

describe('findExecutable', () => {
  it('finds a program on PATH and nothing for a made-up name', () => {
    expect(findExecutable('sh')).toMatch(/\/sh$/);
    expect(findExecutable('flowcast-no-such-tool')).toBeUndefined();
  });

  it('looks in /usr/sbin even when PATH lacks it, and nowhere else', () => {
    vi.stubEnv('PATH', '/nonexistent');
    expect(findExecutable('sh')).toBeUndefined();
    if (sbinTool !== undefined) expect(findExecutable(sbinTool)).toBe(`/usr/sbin/${sbinTool}`);
    vi.unstubAllEnvs();
  });
});

describe('requireTool', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('says yes for an available tool, quietly', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.stubEnv('CI', 'true');
    expect(requireTool('sh')).toBe(true);
    expect(requireTool('anything', true)).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  });

  it('skips with a warning naming the tool outside CI', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.stubEnv('CI', '');
    expect(requireTool('flowcast-no-such-tool')).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('flowcast-no-such-tool is not installed'));
  });

  it('fails under CI=true instead of skipping', () => {
    vi.stubEnv('CI', 'true');
    expect(() => requireTool('tshark', false)).toThrow(/tshark is required when CI=true/);
  });
});
