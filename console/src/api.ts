/**
 * The console's only way to its data: the public HTTP API (docs/api.md), same origin. Answer types
 * come from the API's own zod schemas, so a change there fails the console's type check.
 *
 * When flowcast has an API token, the first answer is 401: the console asks for the token once
 * (see {@link TokenPrompt} in main.tsx), keeps it in sessionStorage for this tab's session only,
 * and asks again only if the API refuses it.
 */
import type { z } from 'zod';
import type {
  anomaliesBody,
  capacityBody,
  exporterDetailBody,
  exportersBody,
  forecastsBody,
  healthBody,
  interfacesBody,
  jobsBody,
  protocolsBody,
  seriesBody,
  topBody,
  trafficBody,
} from '../../api/schemas.js';

export type Traffic = z.infer<typeof trafficBody>;
export type Interfaces = z.infer<typeof interfacesBody>;
export type InterfaceRow = Interfaces['interfaces'][number];
export type Exporters = z.infer<typeof exportersBody>;
export type ExporterDetail = z.infer<typeof exporterDetailBody>;
export type Top = z.infer<typeof topBody>;
export type Protocols = z.infer<typeof protocolsBody>;
export type Forecasts = z.infer<typeof forecastsBody>;
export type Series = z.infer<typeof seriesBody>;
export type Capacity = z.infer<typeof capacityBody>;
export type CapacityRow = Capacity['capacity'][number];
export type Anomalies = z.infer<typeof anomaliesBody>;
export type AnomalyRow = Anomalies['anomalies'][number];
export type Jobs = z.infer<typeof jobsBody>;
export type Health = z.infer<typeof healthBody>;

const TOKEN_KEY = 'flowcast.apiToken';

/** An answer other than 2xx, with the API's error code and message. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

type TokenAsker = (wrong: boolean) => Promise<string>;
let askForToken: TokenAsker | undefined;
/** The one prompt in flight, shared by every request that got 401 at the same time. */
let asking: Promise<string> | undefined;

/** Installs the function that asks the person for the token (the prompt in main.tsx). */
export function onTokenNeeded(ask: TokenAsker): void {
  askForToken = ask;
}

function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function fetchWith(path: string, token: string | null, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token !== null) headers['Authorization'] = `Bearer ${token}`;
  return fetch(path, { headers, ...(signal !== undefined && { signal }) });
}

/** GET one API path (with its query string) as JSON. */
export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  let token = storedToken();
  let res = await fetchWith(path, token, signal);
  while (res.status === 401 && askForToken !== undefined) {
    const wrong = token !== null;
    if (asking === undefined) {
      asking = askForToken(wrong).finally(() => {
        asking = undefined;
      });
    }
    const given = await asking;
    sessionStorage.setItem(TOKEN_KEY, given);
    token = given;
    res = await fetchWith(path, token, signal);
  }
  if (!res.ok) {
    let code = 'http';
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiFailure(res.status, code, message);
  }
  return (await res.json()) as T;
}

/** A query string from the defined entries. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text === '' ? '' : `?${text}`;
}
