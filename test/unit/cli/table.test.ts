// The table layout of docker's CLI: Go's text/tabwriter with minwidth 10,
// padding 3, spaces. The expected strings are spelled out cell by cell.
import { suite, is } from '../../harness.js';
import { formatTable } from '../../../agent/cli/table.js';

const t = suite('table');

const pad = (s: string, w: number): string => s + ' '.repeat(w - s.length);

t('each column is its widest cell plus 3, at least 10; the last cell is not padded', () => {
  const out = formatTable([
    ['ID', 'HOSTNAME', 'STATUS'],
    ['abcdefghijkl', 'h', 'Ready'],
    ['x', 'a-much-longer-host', 'Down'],
  ]);
  is(
    out,
    pad('ID', 15) + pad('HOSTNAME', 21) + 'STATUS\n' + pad('abcdefghijkl', 15) + pad('h', 21) + 'Ready\n' + pad('x', 15) + pad('a-much-longer-host', 21) + 'Down\n',
  );
});

t('empty cells are padded, so an empty last-but-one column leaves spaces before the last', () => {
  is(formatTable([['A', '', 'z'], ['B', 'y', '']]), pad('A', 10) + pad('', 10) + 'z\n' + pad('B', 10) + pad('y', 10) + '\n');
});

t('widths count code points, as tabwriter counts runes', () => {
  is(formatTable([['h\u00e9h\u00e9h\u00e9h\u00e9x', 'v'], ['a', 'w']]), 'h\u00e9h\u00e9h\u00e9h\u00e9x   v\n' + pad('a', 12) + 'w\n');
});

t('a shorter row ends a column block: rows after it are sized on their own', () => {
  const out = formatTable([['a-very-long-cell', 'x'], ['single'], ['b', 'y']], { minWidth: 0, padding: 1 });
  is(out, 'a-very-long-cell x\nsingle\nb y\n');
});

t('options: minWidth and padding', () => {
  is(formatTable([['ab', 'c'], ['d', 'e']], { minWidth: 0, padding: 2 }), 'ab  c\nd   e\n');
  is(formatTable([['ab', 'c']], { minWidth: 6, padding: 1 }), 'ab    c\n');
});

t('no rows, no text', () => {
  is(formatTable([]), '');
});

t.run();
