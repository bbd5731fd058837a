/**
 * The compose stack and the Dockerfile, checked as far as a machine without a container engine can:
 * `docker-compose config` (Debian's docker-compose, offline: it never talks to a Docker daemon)
 * must accept docker-compose.yml with the secrets of a filled-in .env and refuse it, naming the
 * variable, without them; the resolved configuration must have what a production start needs
 * (pinned images, healthchecks, restart policies, named volumes, no database or API published to
 * the world, Grafana provisioning mounted where its files say). Starting the stack needs Docker and
 * is not done here.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { requireTool } from './support/tools.js';

const REPO = join(import.meta.dirname, '..');
const hasCompose = requireTool('docker-compose');
const SECRETS = ['INFLUXDB_ADMIN_PASSWORD', 'FLOWCAST_INFLUX_TOKEN', 'GRAFANA_ADMIN_PASSWORD'];

interface Port {
  target: number;
  protocol: string;
  host_ip?: string;
}

interface Volume {
  type: 'volume' | 'bind';
  source: string;
  target: string;
}

interface Service {
  image?: string;
  build?: unknown;
  restart?: string;
  healthcheck?: { test: string[] };
  ports?: (string | { target: number; published: number; protocol?: string; host_ip?: string })[];
  volumes?: (string | { type: 'volume' | 'bind'; source: string; target: string })[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
}

/** A published port, from either form docker-compose 1.29 prints (`ip:published:target/proto` or long). */
function port(p: NonNullable<Service['ports']>[number]): Port {
  if (typeof p !== 'string') {
    return {
      target: p.target,
      protocol: p.protocol ?? 'tcp',
      ...(p.host_ip !== undefined ? { host_ip: p.host_ip } : {}),
    };
  }
  const m = /^(?:(.+):)?(\d+):(\d+)(?:\/(\w+))?$/.exec(p);
  if (m === null) throw new Error(`unexpected port ${p}`);
  return { target: Number(m[3]), protocol: m[4] ?? 'tcp', ...(m[1] !== undefined ? { host_ip: m[1] } : {}) };
}

/** A mount, from either form (`source:target[:mode]` or long). */
function volume(v: NonNullable<Service['volumes']>[number]): Volume {
  if (typeof v !== 'string') return v;
  const [source = '', target = ''] = v.split(':');
  return { type: source.startsWith('/') ? 'bind' : 'volume', source, target };
}

const dir = mkdtempSync(join(tmpdir(), 'flowcast-compose-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `docker-compose config` with `envFile`, in an environment without flowcast's variables. */
function composeConfig(envFile: string) {
  return spawnSync(
    'docker-compose',
    ['--project-directory', REPO, '-f', join(REPO, 'docker-compose.yml'), '--env-file', envFile, 'config'],
    { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir }, timeout: 60_000 },
  );
}

describe.skipIf(!hasCompose)('docker-compose.yml (docker-compose config)', () => {
  const filled = join(dir, 'filled.env');
  // .env.example with every secret filled in, as the README tells users to.
  writeFileSync(
    filled,
    readFileSync(join(REPO, '.env.example'), 'utf8').replace(
      /^(\w+)=$/gm,
      (_m, name: string) => `${name}=test-secret-${name.toLowerCase()}`,
    ),
  );

  it('refuses to start without the secrets, naming the variable', () => {
    const empty = join(dir, 'empty.env');
    writeFileSync(empty, readFileSync(join(REPO, '.env.example'), 'utf8'));
    const result = composeConfig(empty);
    expect(result.status).not.toBe(0);
    expect(
      SECRETS.some((s) => result.stderr.includes(`set ${s} in .env`)),
      result.stderr,
    ).toBe(true);
  });

  it('accepts the stack with a filled-in .env', () => {
    const result = composeConfig(filled);
    expect(result.status, result.stderr).toBe(0);
    const config = parseYaml(result.stdout) as {
      services: Record<string, Service>;
      volumes: Record<string, unknown>;
    };
    const { services } = config;
    expect(Object.keys(services).sort()).toEqual(['flowcast', 'grafana', 'influxdb', 'prometheus']);

    for (const [name, s] of Object.entries(services)) {
      expect(s.restart, name).toBe('unless-stopped');
      // Pinned: an exact version, never latest or a bare major.
      if (name !== 'flowcast') expect(s.image, name).toMatch(/:v?\d+\.\d+\.\d+$/);
      if (name !== 'flowcast') expect(s.healthcheck?.test.length ?? 0, name).toBeGreaterThan(0);
      for (const v of (s.volumes ?? []).map(volume)) {
        if (v.type === 'volume')
          expect(Object.keys(config.volumes), `${name}: ${v.source}`).toContain(v.source);
      }
      // Nothing but the flow ports and Grafana listens on every interface.
      for (const p of (s.ports ?? []).map(port)) {
        const open = p.host_ip === undefined || p.host_ip === '0.0.0.0' || p.host_ip === '::';
        if (open) expect([2055, 4739, 3000], `${name} publishes ${p.target}`).toContain(p.target);
      }
    }
    const { flowcast, influxdb, grafana } = services;
    expect(flowcast?.build).toBeDefined();
    expect(
      (flowcast?.ports ?? [])
        .map(port)
        .filter((p) => p.protocol === 'udp')
        .map((p) => p.target)
        .sort(),
    ).toEqual([2055, 4739]);
    expect((flowcast?.volumes ?? []).map(volume).map((v) => v.target)).toContain('/var/lib/flowcast');
    // Services wait for a healthy InfluxDB, not for a started one.
    expect(flowcast?.depends_on?.['influxdb']?.condition).toBe('service_healthy');
    expect(grafana?.depends_on?.['influxdb']?.condition).toBe('service_healthy');

    // One token from .env, used by InfluxDB's setup, flowcast and Grafana alike.
    const token = 'test-secret-flowcast_influx_token';
    expect(influxdb?.environment?.['DOCKER_INFLUXDB_INIT_ADMIN_TOKEN']).toBe(token);
    expect(flowcast?.environment?.['FLOWCAST_INFLUX_TOKEN']).toBe(token);
    expect(grafana?.environment?.['FLOWCAST_INFLUX_TOKEN']).toBe(token);
    expect(influxdb?.environment?.['DOCKER_INFLUXDB_INIT_BUCKET']).toBe('flowcast');
    expect(influxdb?.environment?.['DOCKER_INFLUXDB_INIT_RETENTION']).toBe('30d');
    expect(grafana?.environment?.['GF_SECURITY_ADMIN_PASSWORD']).toBe('test-secret-grafana_admin_password');
    expect(grafana?.environment?.['GF_AUTH_ANONYMOUS_ENABLED']).toBe('false');

    // Grafana's provisioning and dashboards are mounted where the provisioning files point.
    const mounts = Object.fromEntries((grafana?.volumes ?? []).map(volume).map((v) => [v.target, v.source]));
    expect(mounts['/etc/grafana/provisioning']).toBe(join(REPO, 'grafana', 'provisioning'));
    expect(mounts['/var/lib/grafana/dashboards']).toBe(join(REPO, 'grafana', 'dashboards'));
    const influxMounts = Object.fromEntries(
      (influxdb?.volumes ?? []).map(volume).map((v) => [v.target, v.source]),
    );
    expect(influxMounts['/docker-entrypoint-initdb.d']).toBe(join(REPO, 'docker', 'influxdb'));
  });
});

describe('the files the compose stack mounts and builds', () => {
  it('the InfluxDB init script creates the DBRP mapping explicitly and is executable', () => {
    const script = join(REPO, 'docker', 'influxdb', '10-flowcast-dbrp.sh');
    accessSync(script, constants.X_OK);
    const text = readFileSync(script, 'utf8');
    expect(text).toMatch(/influx v1 dbrp create/);
    expect(text).toMatch(/--db "\$\{DOCKER_INFLUXDB_INIT_BUCKET\}"/);
    expect(text).toMatch(/--bucket-id "\$\{DOCKER_INFLUXDB_INIT_BUCKET_ID\}"/);
    expect(text).toMatch(/--rp autogen/);
    expect(text).toMatch(/--default/);
  });

  it('the Dockerfile is multi-stage, pinned, runs unprivileged and checks /api/v1/health', () => {
    const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
    const froms = [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const image of froms) expect(image).toMatch(/^node:\d+\.\d+\.\d+-/);
    const user = /^USER (\S+)/m.exec(text)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(text).toMatch(/^HEALTHCHECK .*\n?.*\/api\/v1\/health/m);
  });

  it('Prometheus scrapes flowcast /metrics over the compose network', () => {
    const config = parseYaml(readFileSync(join(REPO, 'docker', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    const job = config.scrape_configs[0];
    expect(job?.metrics_path).toBe('/metrics');
    expect(job?.static_configs[0]?.targets).toEqual(['flowcast:8080']);
  });

  it('.env is never committed nor sent to the image build', () => {
    expect(readFileSync(join(REPO, '.gitignore'), 'utf8').split('\n')).toContain('.env');
    expect(readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n')).toContain('.env');
  });
});
