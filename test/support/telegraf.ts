/**
 * Reads Telegraf's expected.out (InfluxDB line protocol) from the recorded fixtures, as a
 * reference for decoded values. A deliberately small parser: it handles what these files hold
 * (escaped spaces/commas in tags, quoted string fields, `u`/`i` integers, floats).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TelegrafPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, string | bigint | number | boolean>;
}

function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

const unescapeLp = (s: string) => s.replace(/\\(.)/g, '$1');

function parseValue(v: string): string | bigint | number | boolean {
  if (v.startsWith('"')) return unescapeLp(v.slice(1, -1));
  if (/^-?\d+[ui]$/.test(v)) return BigInt(v.slice(0, -1));
  if (v === 'true' || v === 'false') return v === 'true';
  return Number(v);
}

export function parseLineProtocol(text: string): TelegrafPoint[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [head = '', fieldText = ''] = splitUnescaped(line, ' ');
      const [measurement = '', ...tagParts] = splitUnescaped(head, ',');
      const tags: Record<string, string> = {};
      for (const t of tagParts) {
        const [k = '', v = ''] = splitUnescaped(t, '=');
        tags[unescapeLp(k)] = unescapeLp(v);
      }
      const fields: TelegrafPoint['fields'] = {};
      for (const f of splitUnescaped(fieldText, ',')) {
        const eq = f.indexOf('=');
        fields[unescapeLp(f.slice(0, eq))] = parseValue(f.slice(eq + 1));
      }
      return { measurement: unescapeLp(measurement), tags, fields };
    });
}

/** A fixture folder: its datagrams in the order they were captured, and Telegraf's points. */
export function loadTelegrafCase(dir: string): {
  datagrams: Buffer[];
  names: string[];
  expected: TelegrafPoint[];
} {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return {
    names,
    datagrams: names.map((n) => readFileSync(join(dir, n))),
    expected: parseLineProtocol(readFileSync(join(dir, 'expected.out'), 'utf8')),
  };
}
