// Plain-text tables for terminal output: columns padded to their widest cell.

/** `right[i]` right-aligns column i (numbers); the first row is the header. */
export function table(rows: readonly (readonly string[])[], right: readonly boolean[] = []): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((cell, i) => (right[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd())
    .join('\n');
}
