/**
 * Which store to open, as data: a spec crosses to the store thread (thread/host.ts), which opens
 * the store from it there. Only a logger is added on the thread that opens it.
 */
import type { Logger } from 'pino';
import { EmbeddedStore, type EmbeddedStoreOptions } from './embedded/embedded-store.js';
import { InfluxStore, type InfluxStoreOptions } from './influx/influx-store.js';
import type { Store } from './store.js';

export type StoreSpec =
  | { readonly kind: 'embedded'; readonly options: Omit<EmbeddedStoreOptions, 'log'> }
  | { readonly kind: 'influx'; readonly options: Omit<InfluxStoreOptions, 'log'> };

export function openStore(spec: StoreSpec, log: Logger): Store {
  return spec.kind === 'embedded'
    ? new EmbeddedStore({ ...spec.options, log })
    : new InfluxStore({ ...spec.options, log });
}
