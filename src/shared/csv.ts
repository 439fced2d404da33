/**
 * CSV of a matrix (or a region of it) for export: written by the host from full-resolution data, and by a notebook
 * output (which has no host) from its payload.
 */
import type { Matrix2D } from './types';
import { formatFloat32 } from './format';

export interface CsvRegion {
  r0: number;
  c0: number;
  rows: number;
  cols: number;
}

/**
 * RFC 4180 field: quoted when it holds a comma, quote or line break. Labels come from files, so a label that a
 * spreadsheet would run as a formula (=, +, -, @, tab, CR) is prefixed with an apostrophe.
 */
export function csvField(s: string): string {
  let v = s;
  if (/^[=+\-@\t\r]/.test(v) && !/^[-+]?(\d|\.\d|inf|nan)/i.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * The matrix as CSV: with column labels, a header row (first cell "query\\key"); with row labels, a first column.
 * Values are the shortest decimals that read back as the same float32.
 */
export function toCsv(m: Matrix2D, rowLabels?: readonly string[], colLabels?: readonly string[], region?: CsvRegion): string {
  const r0 = region ? region.r0 : 0;
  const c0 = region ? region.c0 : 0;
  const rows = region ? region.rows : m.rows;
  const cols = region ? region.cols : m.cols;
  const lines: string[] = [];
  const hasRowLabels = !!rowLabels && rowLabels.length >= r0 + rows;
  if (colLabels && colLabels.length >= c0 + cols) {
    const head = colLabels.slice(c0, c0 + cols).map(csvField);
    lines.push((hasRowLabels ? ['query\\key', ...head] : head).join(','));
  }
  for (let r = r0; r < r0 + rows; r++) {
    const cells: string[] = hasRowLabels ? [csvField(rowLabels[r])] : [];
    const base = r * m.cols;
    for (let c = c0; c < c0 + cols; c++) cells.push(formatFloat32(m.data[base + c]));
    lines.push(cells.join(','));
  }
  return lines.join('\n') + '\n';
}
