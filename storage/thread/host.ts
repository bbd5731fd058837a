/**
 * The store thread: opens the store a spec names (open.ts) and answers its clients, the receiving
 * thread on the parent port and the analytics worker on the ports handed over for each run.
 * DuckDB's appends and the conversion of its answers into rows, or InfluxDB's line-protocol
 * encoding and JSON answers, run here, not on the thread that receives datagrams.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../../common/logger.js';
import { settleThread } from '../../common/thread.js';
import { openStore } from '../open.js';
import type { StoreStats } from '../store.js';
import { copyStats, emptyStats, sameStats } from './protocol.js';
import { serveStore } from './serve-port.js';
import type { StoreThreadSetup } from './thread-store.js';

/** How often changed counters are sent to the receiving thread (its /metrics reads them). */
const STATS_EVERY_MS = 500;

/**
 * Below the receiving thread's priority (common/thread.ts). DuckDB's own work runs on the shared
 * libuv pool and keeps the default.
 */
const STORE_NICE = 5;

if (parentPort === null) throw new Error('storage/thread/host runs as a worker thread only');
const parent = parentPort;
const setup = workerData as StoreThreadSetup;
const log = createLogger(setup.logLevel, setup.logFormat).child({ component: 'store' });
const unsettled = settleThread('flowcast-store', STORE_NICE);
if (unsettled !== undefined) log.debug(unsettled);
const store = openStore(setup.spec, log);
const served = serveStore(store, parent, (port) => serveStore(store, port));

const sent: StoreStats = emptyStats();
let sentTaken = 0;
setInterval(() => {
  if (sameStats(store.stats, sent) && served.taken === sentTaken) return;
  copyStats(store.stats, sent);
  sentTaken = served.taken;
  parent.postMessage({ type: 'stats', stats: sent, taken: sentTaken });
}, STATS_EVERY_MS).unref();
