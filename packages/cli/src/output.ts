// Output formats: a table for people, json / yaml / csv for scripts.
import YAML from 'yaml';

export type Format = 'table' | 'json' | 'yaml' | 'csv';
export const FORMATS: readonly Format[] = ['table', 'json', 'yaml', 'csv'];

type Row = Record<string, unknown>;

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function table(rows: Row[], columns: string[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(r[c]).replace(/[\r\n]+/g, ' ')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

/** A list of records, shown with `columns` in table and csv formats (all fields in json / yaml). */
export function renderList(rows: Row[], columns: string[], format: Format): string {
  switch (format) {
    case 'json':
      return JSON.stringify(rows, null, 2) + '\n';
    case 'yaml':
      return YAML.stringify(rows);
    case 'csv':
      return [columns.join(','), ...rows.map((r) => columns.map((c) => csvField(cell(r[c]))).join(','))].join('\n') + '\n';
    default:
      return rows.length === 0 ? '(none)\n' : table(rows, columns);
  }
}

/** One record: a field/value table, or json / yaml / a one-row csv. */
export function renderOne(record: Row, format: Format, columns: string[] = Object.keys(record)): string {
  switch (format) {
    case 'json':
      return JSON.stringify(record, null, 2) + '\n';
    case 'yaml':
      return YAML.stringify(record);
    case 'csv':
      return renderList([record], columns, 'csv');
    default:
      return table(
        columns.map((c) => ({ field: c, value: record[c] })),
        ['field', 'value'],
      );
  }
}
