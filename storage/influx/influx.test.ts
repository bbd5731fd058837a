/**
 * The InfluxDB store against a real influxd 1.6.7 (the contract suite, the `/write` path, HTTP 400,
 * an outage, a SIGKILL'd writer), and the `/api/v2/write` request shape against a small local HTTP
 * server that reports version 2.7.1, since 1.6.7 cannot serve that endpoint.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Influxd, influxdAvailable } from '../../test/support/influxd.js';
import { storeContract } from '../store.contract.js';
import type { Point } from '../store.js';
import { serverInfo } from './http.js';
import { InfluxStore, type InfluxStoreOptions } from './influx-store.js';

const silent = pino({ level: 'silent' });
const T0 = Date.UTC(2024, 0, 1);

/** `n` traffic points, one per second from `start`, each its own point (no overwrites). */
const trafficPoints = (n: number, start = T0, exporter = '192.0.2.1'): Point[] =>
  Array.from({ length: n }, (_, i) => ({
    measurement: 'traffic',
    tags: { exporter, ifIndex: String(i % 4), direction: 'in' },
    fields: { bytes: 1000 + i, packets: 1, flows: 1 },
    time: start + i * 1000,
  }));

async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const temporaryDirs: string[] = [];
async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flowcast-influx-store-'));
  temporaryDirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe.skipIf(!influxdAvailable())(
  'InfluxStore on a real influxd 1.6.7 (skipped when influxd is missing)',
  () => {
    let influxd: Influxd;
    const stores: InfluxStore[] = [];

    beforeAll(async () => {
      influxd = await Influxd.launch();
    });
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.stop()));
    });
    afterAll(async () => {
      await influxd?.destroy();
    });

    async function makeStore(
      options: Partial<InfluxStoreOptions> = {},
    ): Promise<{ store: InfluxStore; database: string }> {
      const database = options.database ?? `flowcast_${randomUUID().slice(0, 8)}`;
      const store = new InfluxStore({
        url: influxd.url,
        database,
        dataDir: await dataDir(),
        log: silent,
        ...options,
      });
      stores.push(store);
      return { store, database };
    }

    async function count(database: string, measurement = 'traffic'): Promise<number> {
      const answer = await influxd.query(database, `SELECT count("bytes") FROM "${measurement}"`);
      const value = answer.results?.[0]?.series?.[0]?.values?.[0]?.[1];
      return typeof value === 'number' ? value : 0;
    }

    const accessLog = async () => (await readFile(join(influxd.dir, 'influxd.log'), 'utf8')).split('\n');

    storeContract('InfluxDB 1.6.7', async () => {
      const database = `contract_${randomUUID().slice(0, 8)}`;
      const store = new InfluxStore({ url: influxd.url, database, dataDir: await dataDir(), log: silent });
      return {
        store,
        cleanup: async () => {
          await influxd.query(database, `DROP DATABASE "${database}"`);
        },
      };
    });

    it('detects 1.6.7, creates the database and writes through /write with ms precision', async () => {
      const { store, database } = await makeStore();
      await store.start();
      expect(store.server).toEqual({ version: '1.6.7~rc0', major: 1, writeApi: 'v1' });
      const databases = await influxd.query('', 'SHOW DATABASES');
      expect(databases.results?.[0]?.series?.[0]?.values?.flat()).toContain(database);

      store.write(trafficPoints(3));
      await store.flush();
      expect(await count(database)).toBe(3);
      await until('the access log line', async () =>
        (await accessLog()).some((l) => l.includes(`"POST /write?db=${database}&precision=ms HTTP/1.1" 204`)),
      );
      expect((await accessLog()).some((l) => l.includes('/api/v2/write'))).toBe(false);
    });

    it('stores interface names with backslashes and control characters instead of refusing them', async () => {
      const { store } = await makeStore();
      await store.start();
      const names = ['ge-0/0/0\\', 'a\\ b', 'line\nbreak'];
      store.write(
        names.map((ifName, i) => ({
          measurement: 'traffic',
          tags: { exporter: '192.0.2.1', ifIndex: String(i), ifName, direction: 'in' },
          fields: { bytes: 1, packets: 1, flows: 1 },
          time: Date.UTC(2024, 0, 1),
        })),
      );
      await store.flush();
      expect(store.stats.rejected).toBe(0);
      expect(store.stats.pointsWritten).toBe(3);
      const stored = (await store.interfaces({ limit: 10 })).map((i) => i.ifName).sort();
      expect(stored).toEqual(['a/ b', 'ge-0/0/0/', 'line break']);
    });

    it('reads the names of the busiest interfaces in several queries past one batch', async () => {
      const { store } = await makeStore();
      await store.start();
      // More interfaces than one name query asks about (500), each busier than the one before.
      const n = 1100;
      store.write(
        Array.from({ length: n }, (_, i) => ({
          measurement: 'traffic',
          tags: { exporter: '192.0.2.1', ifIndex: String(i), ifName: `if ${i}`, direction: 'in' },
          fields: { bytes: i + 1, packets: 1, flows: 1 },
          time: Date.UTC(2024, 0, 1),
        })),
      );
      await store.flush();
      const listed = await store.interfaces({ limit: 1050 });
      expect(listed).toHaveLength(1050);
      expect(listed[0]).toEqual({ exporter: '192.0.2.1', ifIndex: n - 1, ifName: `if ${n - 1}` });
      expect(listed.at(-1)).toEqual({ exporter: '192.0.2.1', ifIndex: n - 1050, ifName: `if ${n - 1050}` });
      expect(listed.every((i) => i.ifName === `if ${i.ifIndex}`)).toBe(true);
      // A query naming hundreds of interfaces goes in a POST body: a proxy in front of InfluxDB
      // (nginx: 8 KiB by default) would refuse it as a URL. Every GET's request line stays short.
      const queries = (await accessLog()).filter((l) => l.includes(' /query?'));
      const gets = queries.map((l) => /"GET (\S+)/.exec(l)?.[1]).filter((u) => u !== undefined);
      expect(Math.max(...gets.map((u) => u.length))).toBeLessThan(8192);
      expect(queries.some((l) => l.includes('"POST /query?'))).toBe(true);
    });

    it('does not retry a 400 partial write; counts and logs the refused point', async () => {
      const logged: Array<Record<string, unknown>> = [];
      const log = pino({ level: 'warn' }, { write: (line: string) => logged.push(JSON.parse(line)) });
      const { store, database } = await makeStore({ log, flushIntervalMs: 10_000 });
      await store.start();
      // A field outside the schema takes its type from the first value: float, then an integer.
      const extra = (time: number, value: number | bigint): Point => ({
        measurement: 'traffic',
        tags: { exporter: 'x' },
        fields: { bytes: 1, extra: value },
        time,
      });
      store.write([extra(T0, 1.5)]);
      await store.flush();
      store.write([extra(T0 + 1000, 2), extra(T0 + 2000, 7n), extra(T0 + 3000, 3)]);
      await store.flush();

      expect(store.stats).toMatchObject({ pointsWritten: 3, rejected: 1, writeErrors: 0, spoolPoints: 0 });
      expect(await count(database)).toBe(3);
      const requests = (await accessLog()).filter((l) => l.includes(`POST /write?db=${database}&`));
      expect(requests.filter((l) => l.includes('" 400 '))).toHaveLength(1);
      const refusal = logged.find((l) => l['msg'] === 'InfluxDB refused points');
      expect(refusal).toMatchObject({ status: 400, rejected: 1 });
      expect(String(refusal?.['body'])).toContain('field type conflict: input field \\"extra\\"');
    });

    it('rejects malformed reads with typed errors and escapes user input in InfluxQL', async () => {
      const { store } = await makeStore();
      await store.start();
      const kind = `it's "quoted", a=b`;
      const message = `it's "quoted" \\ back\nslash`;
      store.write([
        { measurement: 'anomaly', tags: { kind, exporter: 'x' }, fields: { score: 1, message }, time: T0 },
      ]);
      await store.flush();
      const rows = await store.anomalies({ from: T0, to: T0 + 1, kind });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ kind, message });
      expect(await store.rows(`traffic" WHERE 1=1; DROP DATABASE "x`, { from: T0, to: T0 + 1 })).toEqual([]);
      await expect(store.traffic({ from: T0, to: T0 + 1, stepSeconds: 0 })).rejects.toMatchObject({
        code: 'FLOWCAST_INFLUX_ARGUMENT',
      });
      await expect(store.traffic({ from: 0.5, to: T0, stepSeconds: 60 })).rejects.toMatchObject({
        code: 'FLOWCAST_INFLUX_ARGUMENT',
      });
      const notStarted = (await makeStore()).store;
      await expect(notStarted.exporters()).rejects.toMatchObject({ code: 'FLOWCAST_INFLUX_NOT_STARTED' });
    });

    it('loses nothing when influxd stops mid-stream and comes back', async () => {
      const { store, database } = await makeStore({
        batchSize: 25,
        flushIntervalMs: 20,
        maxRetries: 1,
        minRetryDelayMs: 20,
        maxRetryDelayMs: 100,
        healthCheckIntervalMs: 100,
        requestTimeoutMs: 2000,
      });
      await store.start();
      const rounds = 30;
      const perRound = 20;
      let maxSpooled = 0;
      for (let round = 0; round < rounds; round++) {
        if (round === 10) await influxd.stop();
        if (round === 20) await influxd.start();
        store.write(trafficPoints(perRound, T0 + round * perRound * 1000));
        await new Promise((resolve) => setTimeout(resolve, 30));
        maxSpooled = Math.max(maxSpooled, store.stats.spoolPoints);
      }
      await store.flush();
      await until('the spool to drain', () => store.stats.spoolPoints === 0);
      expect(maxSpooled).toBeGreaterThan(0);
      expect(store.stats.writeErrors).toBeGreaterThan(0);
      expect(store.stats.pointsWritten).toBe(rounds * perRound);
      expect(store.stats.spoolDropped).toBe(0);
      expect(await count(database)).toBe(rounds * perRound);
    });

    it('replays, after a SIGKILL, what a previous process spooled', async () => {
      const database = `restart_${randomUUID().slice(0, 8)}`;
      const dir = await dataDir();
      const storeModule = fileURLToPath(new URL('./influx-store.ts', import.meta.url));
      const script = join(dir, 'writer.mts');
      // The first process writes while influxd is down, so every point goes to the spool.
      await writeFile(
        script,
        `import { InfluxStore } from ${JSON.stringify(storeModule)};
       const quiet = () => {};
       const log = { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet, fatal: quiet };
       const store = new InfluxStore({ url: ${JSON.stringify(influxd.url)}, database: ${JSON.stringify(database)},
         dataDir: ${JSON.stringify(dir)}, log, maxRetries: 0, healthCheckIntervalMs: 60000 });
       await store.start();
       store.write(${JSON.stringify(trafficPoints(500))});
       await store.flush();
       process.stdout.write(JSON.stringify(store.stats) + '\\n');
       setInterval(() => {}, 1000);`,
      );
      await influxd.stop();
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const stats = await new Promise<Record<string, number>>((resolve, reject) => {
        child.on('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
        child.stdout.setEncoding('utf8').once('data', (line: string) => resolve(JSON.parse(line)));
      });
      expect(stats).toMatchObject({ spoolPoints: 500, pointsWritten: 0 });
      child.removeAllListeners('exit');
      const killed = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await killed;
      await influxd.start();

      const { store } = await makeStore({ database, dataDir: dir, healthCheckIntervalMs: 100 });
      await store.start();
      await until('the spool to drain', () => store.stats.spoolPoints === 0);
      expect(store.stats.pointsWritten).toBe(500);
      expect(await count(database)).toBe(500);
    });
  },
);

describe('InfluxStore request shape on /api/v2/write (a local server reporting 2.7.1)', () => {
  interface Recorded {
    method: string | undefined;
    url: string;
    headers: IncomingHttpHeaders;
    body: string;
  }
  const recorded: Recorded[] = [];
  const collectorSeries = {
    name: 'collector',
    tags: { exporter: '192.0.2.1' },
    columns: ['time', 'last'],
    values: [[T0, 5]],
  };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      recorded.push({ method: req.method, url: req.url ?? '', headers: req.headers, body });
      res.setHeader('X-Influxdb-Version', '2.7.1');
      if (req.url?.startsWith('/query')) {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ results: [{ statement_id: 0, series: [collectorSeries] }] }));
        return;
      }
      res.statusCode = 204;
      res.end();
    });
  });
  let url: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  afterEach(() => {
    recorded.length = 0;
  });

  const points: Point[] = [
    {
      measurement: 'traffic',
      tags: { exporter: '192.0.2.1', ifIndex: '3', ifName: 'Gi 0/1', direction: 'in' },
      fields: { bytes: 2n ** 40n, packets: 10, flows: 2 },
      time: T0,
    },
    {
      measurement: 'anomaly',
      tags: { kind: 'scan', exporter: '192.0.2.1' },
      fields: { score: 0.5, message: 'a "b", c' },
      time: T0 + 60_000,
    },
  ];
  const lines =
    'traffic,direction=in,exporter=192.0.2.1,ifIndex=3,ifName=Gi\\ 0/1 bytes=1099511627776i,flows=2i,packets=10i 1704067200000\n' +
    'anomaly,exporter=192.0.2.1,kind=scan message="a \\"b\\", c",score=0.5 1704067260000';

  it('writes line protocol with org, bucket, ms precision and a Token header', async () => {
    const store = new InfluxStore({
      url,
      database: 'flowcast',
      org: 'acme',
      token: 'secret-token',
      dataDir: await dataDir(),
      log: silent,
    });
    await store.start();
    expect(store.server).toEqual({ version: '2.7.1', major: 2, writeApi: 'v2' });
    store.write(points);
    await store.flush();
    await store.stop();

    expect(recorded.map((r) => `${r.method} ${new URL(r.url, url).pathname}`)).toEqual([
      'GET /ping',
      'POST /api/v2/write',
    ]);
    const write = recorded[1]!;
    const query = new URL(write.url, url).searchParams;
    expect(Object.fromEntries(query)).toEqual({ org: 'acme', bucket: 'flowcast', precision: 'ms' });
    expect(write.headers['authorization']).toBe('Token secret-token');
    expect(write.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(write.body).toBe(lines);
    expect(store.stats).toMatchObject({ pointsWritten: 2, writeErrors: 0, spoolPoints: 0 });
  });

  it('sends username:password as the v1-compatible token, with an empty org', async () => {
    const store = new InfluxStore({
      url,
      database: 'flowcast',
      username: 'grafana',
      password: 'p@ss',
      dataDir: await dataDir(),
      log: silent,
    });
    await store.start();
    store.write(points.slice(0, 1));
    await store.flush();
    await store.stop();
    const write = recorded.find((r) => r.url.startsWith('/api/v2/write'))!;
    expect(Object.fromEntries(new URL(write.url, url).searchParams)).toEqual({
      org: '',
      bucket: 'flowcast',
      precision: 'ms',
    });
    expect(write.headers['authorization']).toBe('Token grafana:p@ss');
  });

  it('reads with InfluxQL over GET /query with db, epoch=ms and the token', async () => {
    const store = new InfluxStore({
      url,
      database: 'flowcast',
      token: 'secret-token',
      dataDir: await dataDir(),
      log: silent,
    });
    await store.start();
    expect(await store.exporters()).toEqual([{ exporter: '192.0.2.1', lastSeen: T0 }]);
    await store.stop();
    const read = recorded.find((r) => r.url.startsWith('/query'))!;
    expect(read.method).toBe('GET');
    expect(Object.fromEntries(new URL(read.url, url).searchParams)).toEqual({
      db: 'flowcast',
      epoch: 'ms',
      q: 'SELECT last("packets") FROM "collector" GROUP BY "exporter"',
    });
    expect(read.headers['authorization']).toBe('Token secret-token');
  });
});

describe('InfluxStore against an InfluxDB that accepts connections and never answers', () => {
  it('starts, and stops with everything spooled, within seconds rather than request timeouts', async () => {
    const sockets = new Set<Socket>();
    const hung = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const dataDir = await mkdtemp(join(tmpdir(), 'flowcast-hung-'));
    try {
      const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
      const store = new InfluxStore({
        url,
        database: 'hung',
        dataDir,
        requestTimeoutMs: 30_000,
        stopTimeoutMs: 500,
        startPingTimeoutMs: 500,
        log: pino({ level: 'silent' }),
      });
      let began = performance.now();
      await store.start();
      expect(performance.now() - began).toBeLessThan(5000);
      store.write([
        {
          measurement: 'traffic',
          tags: { exporter: '192.0.2.1', ifIndex: '1', ifName: 'x', direction: 'in' },
          fields: { bytes: 1, packets: 1, flows: 1 },
          time: Date.UTC(2024, 0, 1),
        },
      ]);
      began = performance.now();
      await store.stop();
      // Far below the 30 s request timeout: the stop gave up on the hung request and spooled.
      expect(performance.now() - began).toBeLessThan(5000);
      expect(store.stats.spoolPoints).toBe(1);
      expect(store.stats.pointsWritten).toBe(0);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hung.close(resolve));
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('serverInfo', () => {
  it('picks /write before 1.8 and /api/v2/write from 1.8 on', () => {
    expect(serverInfo('1.6.7~rc0')).toEqual({ version: '1.6.7~rc0', major: 1, writeApi: 'v1' });
    expect(serverInfo('1.7.11').writeApi).toBe('v1');
    expect(serverInfo('1.8.10').writeApi).toBe('v2');
    expect(serverInfo('v2.7.1')).toEqual({ version: 'v2.7.1', major: 2, writeApi: 'v2' });
    expect(serverInfo('3.0.1').writeApi).toBe('v2');
    expect(serverInfo(undefined)).toEqual({ version: undefined, major: undefined, writeApi: 'v2' });
  });
});
