/**
 * The flowcast console: a static page served by flowcast at `/` that reads only the public HTTP
 * API. Four pages behind hash routes (Overview, Capacity, Anomalies, Collector), one shared time
 * range and time zone, and a refresh every 30 s.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { onTokenNeeded } from './api.js';
import * as fmt from './format.js';
import { Anomalies } from './pages/anomalies.js';
import { Capacity } from './pages/capacity.js';
import { Collector } from './pages/collector.js';
import { Overview } from './pages/overview.js';
import { href, PAGES, type Page, RANGES, type Route, SharedContext, useRoute } from './state.js';
import './style.css';

const REFRESH_MS = 30_000;
const TITLES: Record<Page, string> = {
  overview: 'Overview',
  capacity: 'Capacity',
  anomalies: 'Anomalies',
  collector: 'Collector',
};
const DEFAULT_RANGE: Record<Page, string> = {
  overview: '1h',
  capacity: '7d',
  anomalies: '24h',
  collector: '1h',
};

/** The token form, shown when the API answers 401; resolves the pending requests once submitted. */
function TokenPrompt(props: { wrong: boolean; onToken: (token: string) => void }) {
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <div class="overlay">
      <form
        class="token"
        onSubmit={(e) => {
          e.preventDefault();
          const value = input.current?.value.trim() ?? '';
          if (value !== '') props.onToken(value);
        }}
      >
        <h2>API token</h2>
        <p>
          {props.wrong ? 'That token was refused. ' : ''}This flowcast needs its API token (
          <code>FLOWCAST_API_TOKEN</code>). It is kept for this browser tab only.
        </p>
        <input ref={input} type="password" name="token" autocomplete="off" aria-label="API token" />
        <button type="submit">Continue</button>
      </form>
    </div>
  );
}

/** `datetime-local` value of a Unix millisecond time in the chosen zone. */
function localInput(ms: number, utc: boolean): string {
  const d = new Date(ms);
  const shifted = utc ? d : new Date(ms - d.getTimezoneOffset() * 60_000);
  return shifted.toISOString().slice(0, 16);
}

function fromInput(value: string, utc: boolean): number {
  return utc ? Date.parse(`${value}:00Z`) : new Date(value).getTime();
}

function RangePicker(props: { route: Route; utc: boolean }) {
  const p = props.route.params;
  const custom = p.has('from') && p.has('to');
  const current = custom ? 'custom' : (p.get('range') ?? DEFAULT_RANGE[props.route.page]);
  const go = (changes: Record<string, string | undefined>) => {
    const next: Record<string, string | undefined> = Object.fromEntries(p.entries());
    Object.assign(next, changes);
    location.hash = href(props.route.page, next);
  };
  const now = Date.now();
  const from = custom ? Date.parse(p.get('from')!) : now - 3_600_000;
  const to = custom ? Date.parse(p.get('to')!) : now;
  return (
    <div class="range">
      <select
        name="range"
        aria-label="time range"
        value={current}
        onChange={(e) => {
          const v = e.currentTarget.value;
          if (v === 'custom')
            go({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), range: undefined });
          else go({ range: v, from: undefined, to: undefined });
        }}
      >
        {Object.entries(RANGES).map(([key, r]) => (
          <option value={key} key={key}>
            {r.label}
          </option>
        ))}
        <option value="custom">custom…</option>
      </select>
      {custom && (
        <>
          <input
            type="datetime-local"
            aria-label="from"
            value={localInput(from, props.utc)}
            onChange={(e) =>
              go({ from: new Date(fromInput(e.currentTarget.value, props.utc)).toISOString() })
            }
          />
          <span class="muted">to</span>
          <input
            type="datetime-local"
            aria-label="to"
            value={localInput(to, props.utc)}
            onChange={(e) => go({ to: new Date(fromInput(e.currentTarget.value, props.utc)).toISOString() })}
          />
        </>
      )}
    </div>
  );
}

function App() {
  const route = useRoute();
  const [utc, setUtc] = useState(fmt.useUtc());
  const [auto, setAuto] = useState(true);
  const [clock, setClock] = useState({ tick: 0, now: Date.now() });
  const [token, setToken] = useState<{ wrong: boolean; resolve: (t: string) => void } | undefined>();

  useEffect(() => {
    onTokenNeeded((wrong) => new Promise((resolve) => setToken({ wrong, resolve })));
  }, []);
  useEffect(() => {
    if (!auto) return;
    const timer = setInterval(() => setClock((c) => ({ tick: c.tick + 1, now: Date.now() })), REFRESH_MS);
    return () => clearInterval(timer);
  }, [auto]);
  useEffect(() => {
    document.title = `${TITLES[route.page]} · flowcast`;
  }, [route.page]);

  const refresh = () => setClock((c) => ({ tick: c.tick + 1, now: Date.now() }));
  return (
    <SharedContext.Provider value={{ utc, tick: clock.tick, now: clock.now }}>
      <header class="top">
        <a class="brand" href="#/overview">
          flowcast
        </a>
        <nav>
          {PAGES.map((page) => (
            <a key={page} href={href(page)} class={route.page === page ? 'active' : ''} data-page={page}>
              {TITLES[page]}
            </a>
          ))}
        </nav>
        <div class="controls">
          {route.page !== 'collector' && <RangePicker route={route} utc={utc} />}
          <label title="Show times in UTC instead of this browser's time zone">
            <input
              type="checkbox"
              checked={utc}
              onChange={(e) => {
                setUtc(e.currentTarget.checked);
                fmt.setUtc(e.currentTarget.checked);
              }}
            />{' '}
            UTC
          </label>
          <label title={`Refresh every ${REFRESH_MS / 1000} s`}>
            <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.currentTarget.checked)} /> auto
          </label>
          <button type="button" onClick={refresh} title="Refresh now">
            ↻
          </button>
          <span class="muted updated">{fmt.time(clock.now, utc).slice(11)}</span>
        </div>
      </header>
      <main data-page={route.page}>
        {route.page === 'overview' && <Overview route={route} />}
        {route.page === 'capacity' && <Capacity route={route} />}
        {route.page === 'anomalies' && <Anomalies route={route} />}
        {route.page === 'collector' && <Collector />}
      </main>
      {token !== undefined && (
        <TokenPrompt
          wrong={token.wrong}
          onToken={(t) => {
            token.resolve(t);
            setToken(undefined);
          }}
        />
      )}
    </SharedContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
