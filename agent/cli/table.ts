// Tables laid out as docker lays out its own: Go's text/tabwriter with
// minwidth 10, padding 3 and spaces (docker's cli/command/formatter), so
// `agent node ls` lines up exactly like `docker node ls`.
//
// Each row is a list of cells. Every cell but the last is padded to its
// column's width; the last one is written as it is. As in tabwriter, a
// column's width is set per block of consecutive rows that have a cell in it
// (a shorter row ends the block): the widest cell plus the padding, at least
// minWidth. Widths count code points, as tabwriter counts runes.

export interface TableOptions {
  /** Smallest column width, padding included. */
  minWidth?: number;
  /** Spaces added to the widest cell of a column. */
  padding?: number;
}

/** docker's table settings. */
export const DOCKER_TABLE: Required<TableOptions> = { minWidth: 10, padding: 3 };

function width(s: string): number {
  return [...s].length;
}

/** The rows as text, each ending with a newline. */
export function formatTable(rows: readonly (readonly string[])[], opts: TableOptions = {}): string {
  const minWidth = opts.minWidth ?? DOCKER_TABLE.minWidth;
  const padding = opts.padding ?? DOCKER_TABLE.padding;
  const widths: number[] = [];
  let out = '';

  const writeRows = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const row = rows[i]!;
      row.forEach((cell, j) => {
        out += cell;
        if (j < row.length - 1 && j < widths.length) out += ' '.repeat(Math.max(0, widths[j]! - width(cell)));
      });
      out += '\n';
    }
  };

  // tabwriter's format(): find each block of rows that have a cell in this
  // column, size the column over the block, then lay out the next column
  // within it.
  const layout = (from: number, to: number): void => {
    const column = widths.length;
    let start = from;
    for (let i = from; i < to; i++) {
      if (column >= rows[i]!.length - 1) continue;
      writeRows(start, i);
      start = i;
      let w = minWidth;
      for (; i < to && column < rows[i]!.length - 1; i++) w = Math.max(w, width(rows[i]![column]!) + padding);
      widths.push(w);
      layout(start, i);
      widths.pop();
      start = i;
    }
    writeRows(start, to);
  };

  layout(0, rows.length);
  return out;
}
