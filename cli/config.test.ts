/**
 * Configuration bounds: every value `check-config` accepts is one `serve` can run. Each value here
 * once passed validation and then crashed the service (an uncaught "Invalid array length", a V8
 * abort, BigInt(-Infinity) at start-up, a crash at the first flush).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { storeSpec } from './serve.js';

function withFile(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'flowcast-config-')), 'flowcast.yaml');
  writeFileSync(file, yaml);
  return file;
}

function refusal(yaml: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig(withFile(yaml), env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`accepted: ${yaml}`);
}

describe('configuration bounds', () => {
  it.each([
    ['collector:\n  queueSize: 1e12', 'collector.queueSize'],
    ['collector:\n  queueSize: 2e9', 'collector.queueSize'],
    ['collector:\n  receiveBuffer: 1e15', 'collector.receiveBuffer'],
    ['storage:\n  retentionDays: 1e306', 'storage.retentionDays'],
    ['storage:\n  embeddedThreads: 0', 'storage.embeddedThreads'],
    ['storage:\n  embeddedThreads: 1.5', 'storage.embeddedThreads'],
    [
      'collector:\n  exporters:\n    "192.0.2.1": { samplingOverride: 1e306 }',
      'collector.exporters.192.0.2.1.samplingOverride',
    ],
    [
      'collector:\n  exporters:\n    "192.0.2.1": { samplingRate: 1e10 }',
      'collector.exporters.192.0.2.1.samplingRate',
    ],
    ['collector:\n  templateLifetime: 1e300', 'collector.templateLifetime'],
    ['collector:\n  stateMemoryMegabytes: 1e9', 'collector.stateMemoryMegabytes'],
    ['collector:\n  queueMaxMegabytes: 0', 'collector.queueMaxMegabytes'],
    ['storage:\n  spoolMaxMegabytes: 1e300', 'storage.spoolMaxMegabytes'],
    ['storage:\n  rawFlows: { sampleOneIn: 1e300 }', 'storage.rawFlows.sampleOneIn'],
    ['collector:\n  allowedExporters: ["10.0.0.0/33"]', 'collector.allowedExporters.0'],
    ['collector:\n  allowedExporters: ["not-a-network"]', 'collector.allowedExporters.0'],
    ['collector:\n  allowedExporters: ["2001:db8::/129"]', 'collector.allowedExporters.0'],
    ['collector:\n  workers: 0', 'collector.workers'],
    ['collector:\n  workers: 1.5', 'collector.workers'],
    ['collector:\n  workers: 100000', 'collector.workers'],
  ])('refuses %j naming the key', (yaml, key) => {
    expect(refusal(yaml)).toContain(`${key}:`);
  });

  it("hands the embedded store's thread count to the store it opens: one by default", () => {
    expect(storeSpec(loadConfig(undefined, {}), '/tmp/x')).toMatchObject({ options: { threads: 1 } });
    const four = loadConfig(withFile('storage:\n  embeddedThreads: 4'), {});
    expect(storeSpec(four, '/tmp/x')).toMatchObject({ kind: 'embedded', options: { threads: 4 } });
  });

  it('takes the number of decode workers from FLOWCAST_WORKERS, and leaves it unset by default', () => {
    expect(loadConfig(undefined, { FLOWCAST_WORKERS: '3' }).collector.workers).toBe(3);
    expect(loadConfig(undefined, {}).collector.workers).toBeUndefined();
    expect(refusal('{}', { FLOWCAST_WORKERS: '0' })).toContain('collector.workers (from FLOWCAST_WORKERS)');
  });

  it('names the environment variable a bad value came from', () => {
    expect(refusal('{}', { FLOWCAST_ROLLUP_INTERVAL: '1e9' })).toContain(
      'storage.rollupInterval (from FLOWCAST_ROLLUP_INTERVAL)',
    );
  });

  it('accepts networks and addresses in the allow-list, and the largest values it allows', () => {
    const config = loadConfig(
      withFile(
        [
          'collector:',
          '  allowedExporters: ["192.0.2.0/24", "2001:db8::/32", "198.51.100.7", "::1"]',
          '  queueSize: 1048576',
          '  exporters:',
          '    "192.0.2.1": { samplingOverride: 4294967296 }',
          'storage:',
          '  retentionDays: 36500',
        ].join('\n'),
      ),
      {},
    );
    expect(config.collector.allowedExporters).toHaveLength(4);
    expect(config.collector.queueSize).toBe(1 << 20);
    expect(config.collector.stateMemoryMegabytes).toBe(128);
    expect(config.collector.exporterMemoryMegabytes).toBe(16);
  });
});
