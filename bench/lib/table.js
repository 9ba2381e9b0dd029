// Plain-text tables for the terminal (and the same rows for Markdown).

export function fmt(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (typeof value !== 'number') return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

export function textTable(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c ?? '-')));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const left = (i) => i < 2 || i === headers.length - 1;
  const line = (r) =>
    r
      .map((c, i) => (left(i) ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function markdownTable(headers, rows) {
  const esc = (c) => String(c ?? '-').replace(/\|/g, '\\|');
  return [
    `| ${headers.map(esc).join(' | ')} |`,
    `|${headers.map((_, i) => (i < 2 || i === headers.length - 1 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}
