import { suite, equal, is } from '../../harness.js';
import { createLogger } from '../../../agent/daemon/log.js';

const t = suite('log');

function capture(level: 'debug' | 'info' | 'warn' | 'error', format: 'text' | 'json') {
  const lines: string[] = [];
  const log = createLogger({ level, format, write: (l) => void lines.push(l), nowIso: () => '2026-11-26T00:00:00.000Z' });
  return { log, lines };
}

t('text lines: time, level, message, quoted fields when needed', () => {
  const { log, lines } = capture('info', 'text');
  log.with({ plane: 'gossip' }).warn('probe failed', { peer: '10.0.0.2', why: 'timed out', n: 3 });
  equal(lines, ['2026-11-26T00:00:00.000Z WARN  probe failed plane=gossip peer=10.0.0.2 why="timed out" n=3\n']);
});

t('json lines parse back with every field', () => {
  const { log, lines } = capture('debug', 'json');
  log.debug('x', { a: 1, b: true });
  equal(JSON.parse(lines[0]!), { time: '2026-11-26T00:00:00.000Z', level: 'debug', msg: 'x', a: 1, b: true });
});

t('lines below the level are dropped', () => {
  const { log, lines } = capture('warn', 'text');
  log.debug('a');
  log.info('b');
  log.error('c');
  is(lines.length, 1);
});

t.run();
