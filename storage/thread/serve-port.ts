/**
 * A store answering on a channel: what the store thread (host.ts) does on its parent port and on
 * every port handed to it, and what a store living on this thread does for a client elsewhere
 * (`storePort`). Only the methods of the Store interface can be called; a message of another shape
 * is ignored.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { batchLength } from '../columns.js';
import type { Store } from '../store.js';
import { type Endpoint, type FromStore, isMethod, type ToStore, toWire } from './protocol.js';

/** What a served channel reports: the points of its writes handed to the store so far. */
export interface Served {
  readonly taken: number;
}

/**
 * Answers `endpoint`'s calls and takes its writes; `connect` messages go to `onConnect`. Says hello
 * at once (a `stats` message), so a client can tell a channel that is served from one that is not.
 */
export function serveStore(
  store: Store,
  endpoint: Endpoint,
  onConnect?: (port: MessagePort) => void,
): Served {
  const served = { taken: 0 };
  const reply = (m: FromStore) => endpoint.postMessage(m);
  reply({ type: 'stats', stats: store.stats, taken: 0 });
  endpoint.on('message', (value) => {
    if (value === null || typeof value !== 'object') return;
    const m = value as ToStore;
    if (m.type === 'write') {
      store.write(m.batch);
      served.taken += batchLength(m.batch);
      return;
    }
    if (m.type === 'connect') {
      onConnect?.(m.port);
      return;
    }
    if (m.type !== 'call' || !isMethod(m.method) || !Array.isArray(m.args)) return;
    const { id } = m;
    let result: Promise<unknown>;
    try {
      const fn = store[m.method] as (...args: unknown[]) => Promise<unknown>;
      result = Promise.resolve(fn.apply(store, m.args));
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (value) => reply({ type: 'result', id, value, stats: store.stats, taken: served.taken }),
      (err: unknown) =>
        reply({ type: 'error', id, error: toWire(err), stats: store.stats, taken: served.taken }),
    );
  });
  return served;
}

/** A store that can hand out a port of its own to a client on another thread (ThreadStore). */
export interface Connectable {
  connect(): MessagePort;
}

/**
 * A port through which another thread reads and writes `store`: the store thread's own when the
 * store runs in one, else served here, on this thread. The caller transfers the port and the
 * receiver closes it when done.
 */
export function storePort(store: Store): MessagePort {
  const c = store as Partial<Connectable>;
  if (typeof c.connect === 'function') return c.connect();
  const { port1, port2 } = new MessageChannel();
  serveStore(store, port2);
  port2.unref();
  return port1;
}
