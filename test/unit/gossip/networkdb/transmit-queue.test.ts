// The per-network gossip queue (transmit-queue.ts): memberlist's
// TransmitLimitedQueue semantics.
import { suite, equal, is } from '../../../harness.js';
import { TransmitQueue } from '../../../../agent/gossip/networkdb/transmit-queue.js';

const t = suite('networkdb transmit queue');
const all = () => true;

t('each value goes out in `limit` rounds, then leaves the queue', () => {
  const q = new TransmitQueue<string>();
  q.push('k', 'v');
  for (let i = 0; i < 3; i++) equal(q.take(3, all), ['v']);
  is(q.size, 0);
  equal(q.take(3, all), []);
});

t('the least-sent go first, and among equals the newest', () => {
  const q = new TransmitQueue<string>();
  q.push('a', 'A');
  q.take(10, all);
  q.push('b', 'B');
  q.push('c', 'C');
  equal(q.take(10, all), ['C', 'B', 'A']);
  const one: string[] = [];
  equal(q.take(10, (v) => one.length < 1 && one.push(v) > 0), ['C']);
});

t('a newer value for the same id replaces the queued one, with fresh rounds', () => {
  const q = new TransmitQueue<string>();
  q.push('k', 'old');
  q.take(2, all);
  q.push('k', 'new');
  is(q.size, 1);
  equal(q.take(2, all), ['new']);
  equal(q.take(2, all), ['new']);
  is(q.size, 0);
});

t('what does not fit stays queued, and smaller ones behind it still go', () => {
  const q = new TransmitQueue<string>();
  q.push('small', 'x');
  q.push('big', 'xxxxxxxx');
  let room = 4;
  equal(q.take(1, (v) => (v.length <= room ? ((room -= v.length), true) : false)), ['x']);
  equal(q.take(1, all), ['xxxxxxxx']);
});

t('retain drops what the predicate rejects', () => {
  const q = new TransmitQueue<string>();
  q.push('a', 'keep');
  q.push('b', 'drop');
  q.retain((v) => v === 'keep');
  equal(q.take(1, all), ['keep']);
});

t.run();
