/**
 * Times as flowcast writes them for people and programs: RFC 3339 in UTC with milliseconds. Shared by
 * the HTTP API and the collector's view of its state, so both write the same instant the same way.
 */

/** 9999-12-31T23:59:59.999Z: the last time RFC 3339 can write. */
export const MAX_TIME_MS = 253_402_300_799_999;

/** Converts Unix milliseconds to RFC 3339 (UTC), clamped to 1970…9999. */
export function iso(ms: number): string {
  return new Date(Math.min(Math.max(ms, 0), MAX_TIME_MS)).toISOString();
}
