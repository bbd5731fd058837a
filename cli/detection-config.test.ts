import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowcast-detect-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(yaml: string) {
  const file = join(dir, `${Math.random()}.yaml`);
  await writeFile(file, yaml);
  return loadConfig(file, {});
}

async function problem(yaml: string): Promise<string> {
  try {
    await load(yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('detection: configuration', () => {
  it('has working defaults: 5 s tick, FastNetMon-like global thresholds, no sinks', async () => {
    const c = (await load('{}')).detection;
    expect(c).toMatchObject({
      enabled: true,
      tick: 5,
      thresholds: { pps: 20_000, mbps: 1000, flows: 3500 },
      hostGroups: [],
      baseline: { factor: 10, minPps: 1000 },
    });
    expect(c.alertmanager).toBeUndefined();
  });

  it('reads host groups with IPv4 and IPv6 prefixes and sinks', async () => {
    const c = (
      await load(`
detection:
  tick: 2
  hostGroups:
    - name: web
      networks: [192.0.2.0/24, "2001:db8::/32", 198.51.100.7]
      thresholds: { synPps: 5000, udpPps: 20000 }
  alertmanager: { url: "http://127.0.0.1:9093", labels: { team: noc } }
  webhook: { url: "https://hooks.example/flowcast", headers: { Authorization: "Bearer t" } }
  command: { path: /usr/local/bin/notify, timeout: 3 }
`)
    ).detection;
    expect(c.hostGroups[0]).toMatchObject({ name: 'web', thresholds: { synPps: 5000, udpPps: 20000 } });
    expect(c.alertmanager).toMatchObject({
      url: 'http://127.0.0.1:9093',
      attempts: 5,
      severity: { scan: 'warning' },
    });
    expect(c.command).toMatchObject({ path: '/usr/local/bin/notify', timeout: 3, args: [] });
  });

  it('stops start-up on an invalid CIDR, naming the key', async () => {
    const message = await problem(`
detection:
  hostGroups:
    - name: web
      networks: [192.0.2.0/24, 10.0.0.0/33]
`);
    expect(message).toContain('detection.hostGroups.0.networks.1: not a CIDR prefix');
  });

  it('stops start-up on a threshold of the wrong type, naming the key', async () => {
    const message = await problem(`
detection:
  hostGroups:
    - name: web
      networks: [192.0.2.0/24]
      thresholds: { pps: "lots" }
`);
    expect(message).toMatch(/detection\.hostGroups\.0\.thresholds\.pps: .*number/);
    expect(await problem('detection:\n  thresholds: { synPps: -5 }\n')).toContain(
      'detection.thresholds.synPps',
    );
    expect(await problem('detection:\n  thresholds: { ppps: 5 }\n')).toContain(
      'detection.thresholds.ppps: unknown key',
    );
    expect(await problem('detection:\n  alertmanager: { url: "not a url" }\n')).toContain(
      'detection.alertmanager.url',
    );
    expect(
      await problem(
        'detection:\n  hostGroups:\n    - { name: a, networks: [10.0.0.0/8] }\n    - { name: a, networks: [10.0.0.0/8] }\n',
      ),
    ).toContain('host group names must differ');
  });
});
