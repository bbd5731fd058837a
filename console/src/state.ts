/**
 * What every page shares: the route (hash: `#/capacity?exporter=192.0.2.1`), the time range, the
 * time zone, and the refresh tick that makes every page fetch again.
 */
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { type ApiFailure, get } from './api.js';

export const PAGES = ['overview', 'capacity', 'anomalies', 'collector'] as const;
export type Page = (typeof PAGES)[number];

export interface Route {
  readonly page: Page;
  readonly params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = text.split('?', 2);
  const page = (PAGES as readonly string[]).includes(path) ? (path as Page) : 'overview';
  return { page, params: new URLSearchParams(search) };
}

export function href(page: Page, params: Record<string, string | number | undefined | null> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return `#/${page}${s === '' ? '' : `?${s}`}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

/** The preset ranges, as the API's relative times. */
export const RANGES: Readonly<Record<string, { label: string; seconds: number }>> = {
  '15m': { label: 'last 15 minutes', seconds: 900 },
  '1h': { label: 'last hour', seconds: 3600 },
  '6h': { label: 'last 6 hours', seconds: 6 * 3600 },
  '24h': { label: 'last day', seconds: 86_400 },
  '7d': { label: 'last week', seconds: 7 * 86_400 },
  '30d': { label: 'last 30 days', seconds: 30 * 86_400 },
};

/** A resolved range: Unix milliseconds, plus whether its end is "now" (it moves on refresh). */
export interface Range {
  readonly from: number;
  readonly to: number;
  readonly live: boolean;
  /** Parameters for the API. */
  readonly query: { from: string; to: string };
}

/** The range in the route (`range=6h`, or `from` and `to` as RFC 3339), else the page's default. */
export function resolveRange(params: URLSearchParams, fallback: string, now: number): Range {
  const from = params.get('from');
  const to = params.get('to');
  if (from !== null && to !== null) {
    const f = Date.parse(from);
    const t = Date.parse(to);
    if (Number.isFinite(f) && Number.isFinite(t) && f < t) {
      return {
        from: f,
        to: t,
        live: false,
        query: { from: new Date(f).toISOString(), to: new Date(t).toISOString() },
      };
    }
  }
  const preset = RANGES[params.get('range') ?? fallback] ?? RANGES['1h']!;
  const start = now - preset.seconds * 1000;
  return {
    from: start,
    to: now,
    live: true,
    query: { from: new Date(start).toISOString(), to: new Date(now).toISOString() },
  };
}

export interface Shared {
  readonly utc: boolean;
  /** Bumps on every refresh (automatic or asked for). */
  readonly tick: number;
  /** When the tick last bumped (Unix ms): "now" for every request of that refresh. */
  readonly now: number;
}

export const SharedContext = createContext<Shared>({ utc: false, tick: 0, now: Date.now() });
export const useShared = () => useContext(SharedContext);

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: ApiFailure | Error | undefined;
  readonly loading: boolean;
}

/**
 * GETs `path` (null: nothing to fetch yet), again on every refresh tick and whenever the path
 * changes; the previous answer stays on screen while the next one loads.
 */
export function useApi<T>(path: string | null): Loaded<T> {
  const { tick } = useShared();
  const [state, setState] = useState<Loaded<T>>({
    data: undefined,
    error: undefined,
    loading: path !== null,
  });
  useEffect(() => {
    if (path === null) {
      setState({ data: undefined, error: undefined, loading: false });
      return;
    }
    const abort = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    get<T>(path, abort.signal).then(
      (data) => {
        // An answer to a request this hook has moved on from must not replace a newer one.
        if (!abort.signal.aborted) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (abort.signal.aborted) return;
        setState((s) => ({
          data: s.data,
          error: error instanceof Error ? error : new Error(String(error)),
          loading: false,
        }));
      },
    );
    return () => abort.abort();
  }, [path, tick]);
  return state;
}
