/**
 * What people run flowcast with outside a terminal: the systemd unit is valid for systemd itself,
 * starts node (not npm, whose SIGTERM would leave flowcast running with parent 1), and keeps the
 * hardening it promises.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findExecutable, requireTool } from './support/tools.js';

const UNIT = join(import.meta.dirname, '..', 'deploy', 'flowcast.service');
const hasSystemd = requireTool('systemd-analyze');

describe('deploy/flowcast.service', () => {
  const text = readFileSync(UNIT, 'utf8');
  const settings = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m !== null) settings.set(m[1]!, m[2]!);
  }

  it.skipIf(!hasSystemd)('passes systemd-analyze verify without a warning', () => {
    const r = spawnSync(findExecutable('systemd-analyze')!, ['verify', UNIT], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('runs node on the built command directly, with time to write the open interval at stop', () => {
    expect(settings.get('ExecStart')).toMatch(/^\/usr\/bin\/node \S+\/dist\/cli\/flowcast\.js serve /);
    expect(settings.get('ExecStart')).not.toContain('npm');
    expect(Number(settings.get('TimeoutStopSec'))).toBeGreaterThanOrEqual(10);
    expect(settings.get('User')).toBe('flowcast');
  });

  it('keeps the hardening options, and none that breaks the JavaScript engine', () => {
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['CapabilityBoundingSet', ''],
      ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
    ] as const) {
      expect(settings.get(key), key).toBe(value);
    }
    // V8 writes the machine code it compiles: W^X memory would kill it at start.
    expect(settings.has('MemoryDenyWriteExecute')).toBe(false);
  });
});
