/**
 * CSV (RFC 4180) for the tabular endpoints, for capacity planners who live in spreadsheets: a header
 * row, CRLF line ends, fields quoted when they hold a comma, quote or line break. A text cell that a
 * spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR; exporter names and
 * anomaly messages come from the network) is prefixed with `'`, as OWASP advises.
 */

/** A cell as the API produces it. */
export type Cell = string | number | boolean | null | undefined;

const FORMULA = /^[=+\-@\t\r]/;

function field(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rows as CSV, columns in the order given. */
export function toCsv(columns: readonly string[], rows: Iterable<Readonly<Record<string, Cell>>>): string {
  const lines = [columns.map(field).join(',')];
  for (const row of rows) lines.push(columns.map((c) => field(row[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
