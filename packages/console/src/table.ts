/**
 * Aligned text tables for command output, in the manner of `consul members`: a header row, then
 * one row per entry, columns separated by two spaces, numbers right-aligned. The last column is
 * not padded, so no row ends in spaces.
 */

export interface TableColumn {
  header: string;
  /** Numbers read best right-aligned; default left. */
  align?: 'left' | 'right';
}

export function formatTable(columns: readonly TableColumn[], rows: readonly string[][]): string[] {
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        if (c.align === 'right') return cell.padStart(widths[i]!);
        return i === columns.length - 1 ? cell : cell.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)];
}
