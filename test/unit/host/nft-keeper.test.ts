// The rule-set keeper under the VIP rules and the routing mesh
// (agent/host/nft-keeper.ts), driven directly with a scripted runner and a
// ManualClock: the host's slot runs nft in the host netns, an unchanged key
// is never reloaded (nor its script made), failures are retried after a
// growing pause and said once per streak, forget and close stop the work.
// (vip-balancer.test.ts covers the same through VipBalancer.)
import { suite, equal, is, ok } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import { createLogger } from '../../../agent/daemon/log.js';
import { HOST_NETNS, NftKeeper } from '../../../agent/host/nft-keeper.js';

const t = suite('host/nft-keeper');

interface Call {
  netns: string | undefined;
  script: string;
  resolve(): void;
  reject(e: Error): void;
}

function world(opts: { retryMs?: number } = {}) {
  const clock = new ManualClock();
  const calls: Call[] = [];
  const logs: { level: string; msg: string; [k: string]: unknown }[] = [];
  const log = createLogger({ level: 'debug', format: 'json', write: (l) => void logs.push(JSON.parse(l)), nowIso: () => 'T' });
  const k = new NftKeeper({
    run: (netns, script) => new Promise<void>((resolve, reject) => void calls.push({ netns, script, resolve, reject })),
    clock,
    log,
    what: 'test rules',
    ...(opts.retryMs === undefined ? {} : { retryMs: opts.retryMs }),
  });
  /** script() for want(), counting how often it is made. */
  let made = 0;
  const script = (s: string) => () => (made++, s);
  return { k, clock, calls, logs, script, made: () => made, turn: () => new Promise<void>((r) => setImmediate(r)) };
}

t('HOST_NETNS runs in the host netns (netns undefined); any other key names its netns; namespaces lists the slots', async () => {
  const w = world();
  w.k.want(HOST_NETNS, 'h1', w.script('HOST'));
  w.k.want('sbox', 's1', w.script('SBOX'));
  equal(w.calls.map((c) => [c.netns, c.script]), [
    [undefined, 'HOST'],
    ['sbox', 'SBOX'],
  ]);
  equal(w.k.namespaces, [HOST_NETNS, 'sbox']);
  is(w.k.holds(HOST_NETNS, 'h1'), false, 'not before the run ends');
  for (const c of w.calls) c.resolve();
  await w.turn();
  ok(w.k.holds(HOST_NETNS, 'h1') && w.k.holds('sbox', 's1'));
  is(w.k.holds('sbox', 'other'), false);
  is(w.k.holds('never', 's1'), false);
  w.k.close();
});

t('an unchanged key is not reloaded, nor its script made; a new key is; one run at a time, the latest wins', async () => {
  const w = world();
  w.k.want('ns', 'a', w.script('A'));
  w.calls[0]!.resolve();
  await w.turn();
  w.k.want('ns', 'a', w.script('A'));
  w.k.want('ns', 'a', w.script('A'));
  is(w.calls.length, 1);
  is(w.made(), 1, 'the script of a key in place is not even made');
  w.k.want('ns', 'b', w.script('B'));
  w.k.want('ns', 'c', w.script('C')); // while b runs
  equal(w.calls.map((c) => c.script), ['A', 'B']);
  w.calls[1]!.resolve();
  await w.turn();
  equal(w.calls.map((c) => c.script), ['A', 'B', 'C']);
  w.calls[2]!.resolve();
  await w.turn();
  ok(w.k.holds('ns', 'c'));
  is(w.clock.pending(), 0);
  w.k.close();
});

t('a failure is retried after a pause that doubles (200, 400, ...), logged once per streak; a success after says how many failed', async () => {
  const w = world();
  w.k.want(HOST_NETNS, 'a', w.script('A'));
  w.calls[0]!.reject(new Error('nft -f -: Error: Could not process rule\nsecond line'));
  await w.turn();
  equal(w.logs, [{ level: 'warn', msg: 'test rules not applied; retrying', netns: 'host', error: 'nft -f -: Error: Could not process rule', retryMs: 200, time: 'T' }]);
  w.clock.advance(199);
  is(w.calls.length, 1);
  w.clock.advance(1);
  is(w.calls.length, 2);
  is(w.calls[1]!.script, 'A');
  w.calls[1]!.reject(new Error('again'));
  await w.turn();
  is(w.logs.length, 1, 'one line per streak');
  w.clock.advance(399);
  is(w.calls.length, 2);
  w.clock.advance(1);
  w.calls[2]!.resolve();
  await w.turn();
  equal(w.logs[1], { level: 'info', msg: 'test rules applied after failures', netns: 'host', failures: 2, time: 'T' });
  ok(w.k.holds(HOST_NETNS, 'a'));
  is(w.clock.pending(), 0);
  w.k.close();
});

t('retryMs is a knob; the pause stops doubling at 10 s; a runner that throws is a failed apply', async () => {
  const clock = new ManualClock();
  let runs = 0;
  const k = new NftKeeper({
    run: () => {
      runs++;
      throw new Error('spawn nft ENOENT');
    },
    clock,
    log: createLogger({ level: 'error', format: 'text', write: () => {}, nowIso: () => '' }),
    what: 'x',
    retryMs: 1000,
  });
  k.want('ns', 'a', () => 'A');
  const pauses: number[] = [];
  for (let i = 0; i < 6; i++) {
    await new Promise<void>((r) => setImmediate(r));
    const at = clock.nowMs();
    clock.runNext();
    pauses.push(clock.nowMs() - at);
  }
  equal(pauses, [1000, 2000, 4000, 8000, 10_000, 10_000]);
  is(runs, 7);
  k.close();
  is(clock.pending(), 0);
});

t('a streak that ends because the rules in place are wanted again is over: the next failure is said again, from the first pause', async () => {
  const w = world();
  w.k.want('ns', 'a', w.script('A'));
  w.calls[0]!.resolve();
  await w.turn();
  w.k.want('ns', 'b', w.script('B'));
  w.calls[1]!.reject(new Error('first streak'));
  await w.turn();
  // Back to what is loaded while the retry waits: nothing to run.
  w.k.want('ns', 'a', w.script('A'));
  w.clock.advance(200);
  is(w.calls.length, 2, 'a is in place: the retry runs nothing');
  ok(w.k.holds('ns', 'a'));
  w.k.want('ns', 'c', w.script('C'));
  w.calls[2]!.reject(new Error('second streak'));
  await w.turn();
  equal(
    w.logs.map((l) => [l.msg, l.error, l.retryMs]),
    [
      ['test rules not applied; retrying', 'first streak', 200],
      ['test rules not applied; retrying', 'second streak', 200],
    ],
  );
  w.k.close();
});

t('forget: no more retries, a run in flight is not taken as applied, the same netns later starts afresh', async () => {
  const w = world();
  w.k.want('ns', 'a', w.script('A'));
  w.calls[0]!.reject(new Error('boom'));
  await w.turn();
  is(w.clock.pending(), 1);
  w.k.forget('ns');
  is(w.clock.pending(), 0);
  equal(w.k.namespaces, []);
  w.k.forget('ns'); // idempotent
  w.k.forget('never');
  w.k.want('ns', 'a', w.script('A'));
  is(w.calls.length, 2, 'programmed from scratch');
  w.k.forget('ns');
  w.calls[1]!.resolve();
  await w.turn();
  is(w.k.holds('ns', 'a'), false);
  w.k.want('ns', 'a', w.script('A'));
  is(w.calls.length, 3, 'the forgotten run did not count as applied');
  w.k.close();
});

t('close: retries dropped, later wants do nothing', async () => {
  const w = world();
  w.k.want(HOST_NETNS, 'a', w.script('A'));
  w.calls[0]!.reject(new Error('boom'));
  await w.turn();
  w.k.close();
  is(w.clock.pending(), 0);
  equal(w.k.namespaces, []);
  w.k.want(HOST_NETNS, 'b', w.script('B'));
  w.clock.advance(60_000);
  is(w.calls.length, 1);
  is(w.made(), 1);
  w.k.close();
});

t.run();
