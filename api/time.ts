/**
 * Times as the API accepts them: RFC 3339 (`2024-05-01T00:00:00Z`, `2024-05-01T02:00:00.5+02:00`),
 * Unix seconds (`1714521600`, `1714521600.25`), `now`, and relative to now (`-24h`, `-15m`,
 * `now-7d`; units s, m, h, d, w). Every result is whole Unix milliseconds between 1970 and 9999.
 */

import { MAX_TIME_MS } from '../common/iso.js';

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const RELATIVE = /^(?:now)?-(\d{1,9})(s|m|h|d|w)$/;
const UNIX_SECONDS = /^(\d{1,12})(?:\.(\d{1,9}))?$/;
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** What the API says a time parameter takes. */
export const TIME_FORMATS = 'RFC 3339, Unix seconds, "now" or relative to now such as -24h (s, m, h, d, w)';

/**
 * The time `text` names, in Unix milliseconds, relative forms counted back from `now`; undefined
 * when `text` is none of the accepted forms or lies outside 1970-01-01 … 9999-12-31.
 */
export function parseTime(text: string, now: number): number | undefined {
  let ms: number | undefined;
  if (text === 'now') ms = now;
  else {
    const relative = RELATIVE.exec(text);
    if (relative !== null) ms = now - Number(relative[1]) * UNIT_MS[relative[2]!]!;
    else {
      const unix = UNIX_SECONDS.exec(text);
      if (unix !== null) ms = Number(unix[1]) * 1000 + Math.floor(Number(`0.${unix[2] ?? '0'}`) * 1000);
      else ms = parseRfc3339(text);
    }
  }
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  ms = Math.floor(ms);
  return ms >= 0 && ms <= MAX_TIME_MS ? ms : undefined;
}

function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // Date.UTC rolls 2024-02-30 over to March: refuse dates that do not exist instead.
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(utc);
  if (
    month < 1 ||
    month > 12 ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    back.getUTCFullYear() !== year ||
    back.getUTCMonth() !== month - 1 ||
    back.getUTCDate() !== day
  ) {
    return undefined;
  }
  const fraction = Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000);
  let offset = 0;
  if (m[8] === undefined) {
    const hours = Number(m[10]);
    const minutes = Number(m[11]);
    if (hours > 23 || minutes > 59) return undefined;
    offset = (m[9] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  return utc + fraction - offset;
}
