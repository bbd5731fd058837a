/** Numbers and times as people read them: SI bit rates, bytes, percentages, local or UTC times. */

const RATE_UNITS = ['b/s', 'kb/s', 'Mb/s', 'Gb/s', 'Tb/s', 'Pb/s'];
const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

function scaled(value: number, units: readonly string[], base: number): string {
  if (!Number.isFinite(value)) return '–';
  let v = Math.abs(value);
  let i = 0;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  const digits = v >= 100 || i === 0 ? 0 : v >= 10 ? 1 : 2;
  // 9.70 → 9.7: trailing zeros say nothing.
  return `${value < 0 ? '-' : ''}${Number(v.toFixed(digits))} ${units[i]}`;
}

/** 1234567 → "1.23 Mb/s" (network rates are decimal: 1 kb/s = 1000 b/s). */
export const bps = (value: number | null | undefined): string =>
  value === null || value === undefined ? '–' : scaled(value, RATE_UNITS, 1000);

/** 1234567 → "1.23 MB". */
export const bytes = (value: number | null | undefined): string =>
  value === null || value === undefined ? '–' : scaled(value, BYTE_UNITS, 1000);

/** A count with thousands separators. */
export const count = (value: number | null | undefined): string =>
  value === null || value === undefined ? '–' : Math.round(value).toLocaleString();

/** 0.4567 → "45.7 %". */
export const percent = (value: number | null | undefined): string =>
  value === null || value === undefined || !Number.isFinite(value) ? '–' : `${(value * 100).toFixed(1)} %`;

/** Days until something, as people say it. */
export function days(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'not in sight';
  if (value <= 0) return 'now';
  if (value < 1) return `${Math.round(value * 24)} h`;
  return `${value.toFixed(value < 10 ? 1 : 0)} d`;
}

/** Whether times show in UTC (else the browser's zone); kept across visits. */
export function useUtc(): boolean {
  try {
    return localStorage.getItem('flowcast.utc') === '1';
  } catch {
    return false;
  }
}

export function setUtc(utc: boolean): void {
  try {
    localStorage.setItem('flowcast.utc', utc ? '1' : '0');
  } catch {
    // private mode: the choice lasts for this page only
  }
}

/** "2024-05-01 14:03:07" in the chosen zone, with " UTC" when in UTC. */
export function time(value: string | number | Date | null | undefined, utc: boolean): string {
  if (value === null || value === undefined) return '–';
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return '–';
  const f = new Intl.DateTimeFormat('sv-SE', {
    ...(utc && { timeZone: 'UTC' }),
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  return `${f.format(d)}${utc ? ' UTC' : ''}`;
}

/** How long ago, roughly ("3 min ago"). */
export function ago(value: string | null | undefined, now = Date.now()): string {
  if (value === null || value === undefined) return 'never';
  const s = Math.round((now - new Date(value).getTime()) / 1000);
  if (s < 5) return 'just now';
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** An interface as people name it: its name, with the ifIndex when the name is something else. */
export function ifLabel(ifName: string, ifIndex: number | string): string {
  if (ifName === '' || ifName === String(ifIndex)) return `ifIndex ${ifIndex}`;
  return `${ifName} (${ifIndex})`;
}
