// The checker is a clever search; it is checked against a dumb twin that tries
// every order of every subset of unknown-outcome ops (STYLE habit 5), and on
// the textbook histories.
import { suite, is, ok } from '../harness.js';
import { seededRand, type Rand } from '../../shared/rand.js';
import { checkLinearizable, type Op } from './linearizability.js';

const t = suite('linearizability');

const put = (client: string, value: string, invokeMs: number, completeMs?: number): Op => ({ client, kind: 'put', key: 'k', value, invokeMs, ...(completeMs === undefined ? {} : { completeMs }) });
const get = (client: string, result: string | undefined, invokeMs: number, completeMs?: number): Op => ({ client, kind: 'get', key: 'k', result, invokeMs, ...(completeMs === undefined ? {} : { completeMs }) });

t('sequential history is linearizable; a stale read after a completed write is not', () => {
  ok(checkLinearizable([put('a', '1', 0, 1), get('b', '1', 2, 3)]).ok);
  const v = checkLinearizable([put('a', '1', 0, 1), put('a', '2', 2, 3), get('b', '1', 4, 5)]);
  ok(!v.ok);
  if (!v.ok) ok(v.message.startsWith('history of key "k" (3 ops) is not linearizable'));
});

t('concurrent ops may take either order', () => {
  ok(checkLinearizable([put('a', '1', 0, 10), get('b', '1', 1, 2), get('c', undefined, 0, 1)]).ok);
  // Two reads that see the write in opposite orders while not overlapping: not linearizable.
  ok(!checkLinearizable([put('a', '1', 0, 10), get('b', '1', 1, 2), get('c', undefined, 3, 4)]).ok);
});

t('an op with unknown outcome may or may not have happened, but only after its invocation', () => {
  ok(checkLinearizable([put('a', '1', 0), get('b', undefined, 1, 2)]).ok);
  ok(checkLinearizable([put('a', '1', 0), get('b', '1', 1, 2)]).ok);
  ok(!checkLinearizable([get('b', '1', 0, 1), put('a', '1', 2)]).ok);
});

t('keys are independent (locality)', () => {
  const h: Op[] = [
    { client: 'a', kind: 'put', key: 'x', value: '1', invokeMs: 0, completeMs: 1 },
    { client: 'b', kind: 'get', key: 'y', result: undefined, invokeMs: 2, completeMs: 3 },
  ];
  ok(checkLinearizable(h).ok);
});

/** Dumb twin: every subset of unknown ops, every permutation, real-time order respected. */
function bruteForce(ops: Op[]): boolean {
  const unknown = ops.filter((o) => o.completeMs === undefined);
  const known = ops.filter((o) => o.completeMs !== undefined);
  for (let mask = 0; mask < 1 << unknown.length; mask++) {
    const chosen = [...known, ...unknown.filter((_, i) => mask & (1 << i))];
    if (permutations(chosen).some(valid)) return true;
  }
  return false;
}

function valid(order: Op[]): boolean {
  for (let i = 0; i < order.length; i++)
    for (let j = i + 1; j < order.length; j++) if ((order[j]!.completeMs ?? Infinity) < order[i]!.invokeMs) return false;
  let v: string | undefined;
  for (const o of order) {
    if (o.kind === 'put') v = o.value;
    else if (o.completeMs !== undefined && o.result !== v) return false;
  }
  return true;
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

function randomHistory(r: Rand): Op[] {
  const n = 2 + r.int(5);
  const ops: Op[] = [];
  for (let i = 0; i < n; i++) {
    const invokeMs = r.int(10);
    const completeMs = r.float() < 0.2 ? undefined : invokeMs + r.int(6);
    const client = `c${i}`;
    if (r.float() < 0.5) ops.push(put(client, String(r.int(3)), invokeMs, completeMs));
    else ops.push(get(client, r.float() < 0.25 ? undefined : String(r.int(3)), invokeMs, completeMs));
  }
  return ops;
}

t('agrees with brute force on 3,000 random small histories', () => {
  let yes = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const h = randomHistory(seededRand(seed));
    const want = bruteForce(h);
    is(checkLinearizable(h).ok, want, `seed ${seed}`);
    if (want) yes++;
  }
  ok(yes > 300 && yes < 2700, `both verdicts must be exercised, got ${yes} linearizable`);
});

t.run();
