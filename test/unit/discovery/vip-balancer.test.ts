// vip-balancer.ts with a scripted nft runner and a ManualClock: changes are
// coalesced, unchanged rules are not re-applied, one apply runs at a time per
// netns, failures are retried with one log line per streak, gone endpoints
// are forgotten, and nothing throws.
import { suite, equal, is, ok, match, unreachable } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import { createLogger } from '../../../agent/daemon/log.js';
import { hostNftRunner, VipBalancer, type VipEndpoint } from '../../../agent/discovery/vip-balancer.js';
import { nftScript } from '../../../agent/discovery/vip-rules.js';
import type { ServiceRecord } from '../../../agent/discovery/records.js';

const t = suite('vip-balancer');

async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    match((e as Error).message, re);
    return;
  }
  unreachable('expected a rejection');
}

interface Call {
  netns: string;
  script: string;
  resolve(): void;
  reject(e: Error): void;
}

/** The world a balancer sees: mutable records and endpoints, a runner whose calls the test settles, the log lines. */
function world(opts: { settleMs?: number } = {}) {
  const records: Record<string, ServiceRecord[]> = {};
  let endpoints: VipEndpoint[] = [];
  const calls: Call[] = [];
  const logs: { level: string; msg: string; [k: string]: unknown }[] = [];
  const clock = new ManualClock();
  const log = createLogger({ level: 'debug', format: 'json', write: (l) => void logs.push(JSON.parse(l)), nowIso: () => 'T' });
  const b = new VipBalancer({
    view: { records: (nid) => records[nid] ?? [], networkId: () => undefined },
    endpoints: () => endpoints,
    run: (netns, script) =>
      new Promise<void>((resolve, reject) => {
        calls.push({ netns: netns ?? '', script, resolve, reject });
      }),
    clock,
    log,
    ...(opts.settleMs === undefined ? {} : { settleMs: opts.settleMs }),
  });
  return {
    b,
    clock,
    calls,
    logs,
    records,
    setEndpoints: (e: VipEndpoint[]) => void (endpoints = e),
    /** Let settled promises run their callbacks (a macrotask turn; no time passes). */
    turn: () => new Promise<void>((r) => setImmediate(r)),
  };
}

const web = (ips: string[]): ServiceRecord[] => ips.map((ip, i) => ({ name: `web.${i + 1}.t${i}`, ip, service: 'web', vip: '10.0.0.2' }));
const script = (backends: string[]) => nftScript(new Map([['10.0.0.2', backends]]));

t('changed() coalesces for settleMs from the first change; each endpoint gets its rules once', async () => {
  const w = world();
  w.records.front = web(['10.0.0.5', '10.0.0.6']);
  w.setEndpoints([
    { netns: 'ep-a', networks: ['front'] },
    { netns: 'ep-b', networks: ['front', 'back'] },
  ]);
  w.b.changed();
  w.clock.advance(15);
  w.b.changed(); // does not push the window back
  w.b.changed();
  w.clock.advance(4);
  equal(w.calls.length, 0);
  w.clock.advance(1);
  equal(
    w.calls.map((c) => [c.netns, c.script]),
    [
      ['ep-a', script(['10.0.0.5', '10.0.0.6'])],
      ['ep-b', script(['10.0.0.5', '10.0.0.6'])],
    ],
  );
  is(w.clock.pending(), 0);
  w.b.close();
});

t('settleMs is a knob', () => {
  const w = world({ settleMs: 100 });
  w.setEndpoints([{ netns: 'ep-a', networks: [] }]);
  w.b.changed();
  w.clock.advance(99);
  is(w.calls.length, 0);
  w.clock.advance(1);
  is(w.calls.length, 1);
  w.b.close();
});

t('rules already in place are not re-applied; only the endpoints a change touches get a run', async () => {
  const w = world();
  w.records.front = web(['10.0.0.5']);
  w.records.back = [{ name: 'db.1.x', ip: '10.1.0.5', service: 'db', vip: '10.1.0.2' }];
  w.setEndpoints([
    { netns: 'ep-a', networks: ['front'] },
    { netns: 'ep-b', networks: ['back'] },
  ]);
  w.b.changed();
  w.clock.advance(20);
  for (const c of w.calls.splice(0)) c.resolve();
  await w.turn();

  w.b.changed();
  w.clock.advance(20);
  equal(w.calls.length, 0, 'nothing changed');

  w.records.front = web(['10.0.0.5', '10.0.0.6']);
  w.b.changed();
  w.clock.advance(20);
  equal(
    w.calls.map((c) => [c.netns, c.script]),
    [['ep-a', script(['10.0.0.5', '10.0.0.6'])]],
  );
  w.calls.splice(0)[0]!.resolve();
  await w.turn();

  // Back to an earlier state: a different key from the last applied, so it runs.
  w.records.front = web(['10.0.0.5']);
  w.b.changed();
  w.clock.advance(20);
  equal(w.calls.map((c) => c.script), [script(['10.0.0.5'])]);
  w.b.close();
});

t('a new endpoint with no VIP still gets one apply (it replaces any leftover table), then none', async () => {
  const w = world();
  w.setEndpoints([{ netns: 'ep-a', networks: ['front'] }]);
  w.b.changed();
  w.clock.advance(20);
  equal(w.calls.map((c) => c.script), [nftScript(new Map())]);
  w.calls.splice(0)[0]!.resolve();
  await w.turn();
  w.b.changed();
  w.clock.advance(20);
  is(w.calls.length, 0);
  w.b.close();
});

t('one apply at a time per netns: changes during a run are coalesced into one run of the latest rules', async () => {
  const w = world();
  w.records.front = web(['10.0.0.5']);
  w.setEndpoints([{ netns: 'ep-a', networks: ['front'] }]);
  w.b.changed();
  w.clock.advance(20);
  is(w.calls.length, 1);

  w.records.front = web(['10.0.0.5', '10.0.0.6']);
  w.b.changed();
  w.clock.advance(20);
  w.records.front = web(['10.0.0.5', '10.0.0.6', '10.0.0.7']);
  w.b.changed();
  w.clock.advance(20);
  is(w.calls.length, 1, 'the first run is still in flight');

  w.calls[0]!.resolve();
  await w.turn();
  equal(w.calls.map((c) => c.script).slice(1), [script(['10.0.0.5', '10.0.0.6', '10.0.0.7'])]);
  w.calls[1]!.resolve();
  await w.turn();
  is(w.calls.length, 2);
  w.b.close();
});

t('other netns do not wait for a slow one', () => {
  const w = world();
  w.records.front = web(['10.0.0.5']);
  w.setEndpoints([
    { netns: 'ep-a', networks: ['front'] },
    { netns: 'ep-b', networks: ['front'] },
  ]);
  w.b.changed();
  w.clock.advance(20);
  equal(w.calls.map((c) => c.netns), ['ep-a', 'ep-b']);
  w.b.close();
});

t('a failed apply is retried after a pause that doubles, logged once per streak, with the latest rules', async () => {
  const w = world();
  w.records.front = web(['10.0.0.5']);
  w.setEndpoints([{ netns: 'ep-a', networks: ['front'] }]);
  w.b.changed();
  w.clock.advance(20);
  w.calls[0]!.reject(new Error('ip netns exec ep-a nft -f -: Error: Could not process rule: No such file or directory\nmore'));
  await w.turn();
  equal(w.logs, [{ level: 'warn', msg: 'vip rules not applied; retrying', netns: 'ep-a', error: 'ip netns exec ep-a nft -f -: Error: Could not process rule: No such file or directory', retryMs: 200, time: 'T' }]);

  // A change while the retry waits does not jump the queue; the retry takes it.
  w.records.front = web(['10.0.0.5', '10.0.0.6']);
  w.b.changed();
  w.clock.advance(20);
  is(w.calls.length, 1);
  w.clock.advance(179);
  is(w.calls.length, 1);
  w.clock.advance(1);
  is(w.calls.length, 2);
  is(w.calls[1]!.script, script(['10.0.0.5', '10.0.0.6']));

  w.calls[1]!.reject(new Error('again'));
  await w.turn();
  is(w.logs.length, 1, 'one line per streak');
  w.clock.advance(399);
  is(w.calls.length, 2);
  w.clock.advance(1);
  is(w.calls.length, 3);
  w.calls[2]!.resolve();
  await w.turn();
  equal(w.logs[1], { level: 'info', msg: 'vip rules applied after failures', netns: 'ep-a', failures: 2, time: 'T' });

  // Applied now: nothing more, and a new streak logs again.
  w.clock.advance(60_000);
  is(w.calls.length, 3);
  w.records.front = web(['10.0.0.6']);
  w.b.changed();
  w.clock.advance(20);
  w.calls[3]!.reject(new Error('third'));
  await w.turn();
  equal(w.logs.slice(2).map((l) => [l.msg, l.error, l.retryMs]), [['vip rules not applied; retrying', 'third', 200]]);
  w.b.close();
  is(w.clock.pending(), 0);
});

t('the retry pause stops doubling at 10 s', async () => {
  const w = world();
  w.setEndpoints([{ netns: 'ep-a', networks: [] }]);
  w.b.changed();
  w.clock.advance(20);
  const pauses: number[] = [];
  for (let i = 0; i < 9; i++) {
    w.calls[i]!.reject(new Error('no nft'));
    await w.turn();
    const at = w.clock.nowMs();
    w.clock.runNext();
    pauses.push(w.clock.nowMs() - at);
  }
  equal(pauses, [200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]);
  w.b.close();
});

t('forget: no more retries, and a run in flight that ends later is not taken as applied', async () => {
  const w = world();
  w.records.front = web(['10.0.0.5']);
  w.setEndpoints([{ netns: 'ep-a', networks: ['front'] }]);
  w.b.changed();
  w.clock.advance(20);
  w.calls[0]!.reject(new Error('boom'));
  await w.turn();
  is(w.clock.pending(), 1);
  w.b.forget('ep-a');
  is(w.clock.pending(), 0);
  w.b.forget('ep-a'); // idempotent
  w.b.forget('never-seen');

  // The same name comes back (a new netns): it is programmed from scratch.
  w.b.changed();
  w.clock.advance(20);
  is(w.calls.length, 2);
  w.b.forget('ep-a');
  w.calls[1]!.resolve();
  await w.turn();
  w.b.changed();
  w.clock.advance(20);
  is(w.calls.length, 3, 'the forgotten run did not count as applied');
  w.b.close();
});

t('an endpoint no longer listed is forgotten: its retries stop', async () => {
  const w = world();
  w.setEndpoints([{ netns: 'ep-a', networks: [] }]);
  w.b.changed();
  w.clock.advance(20);
  w.calls[0]!.reject(new Error('Cannot open network namespace "ep-a"'));
  await w.turn();
  w.setEndpoints([]);
  w.b.changed();
  w.clock.advance(60_000);
  is(w.calls.length, 1);
  is(w.clock.pending(), 0);
  w.b.close();
});

t('close: pending work is dropped, later calls do nothing', async () => {
  const w = world();
  w.setEndpoints([{ netns: 'ep-a', networks: [] }]);
  w.b.changed();
  w.b.close();
  is(w.clock.pending(), 0);
  w.b.changed();
  w.clock.advance(60_000);
  is(w.calls.length, 0);
  w.b.close();
});

t('nothing throws: a failing endpoints() is logged once per streak, a runner that throws is a failed apply', async () => {
  const clock = new ManualClock();
  const logs: { msg: string; error?: string }[] = [];
  const log = createLogger({ level: 'debug', format: 'json', write: (l) => void logs.push(JSON.parse(l)), nowIso: () => 'T' });
  let broken = true;
  let runs = 0;
  const b = new VipBalancer({
    view: { records: () => [], networkId: () => undefined },
    endpoints: () => {
      if (broken) throw new Error('endpoint table busy');
      return [{ netns: 'ep-a', networks: [] }];
    },
    run: () => {
      runs++;
      throw new Error('spawn failed');
    },
    clock,
    log,
  });
  b.changed();
  clock.advance(20);
  b.changed();
  clock.advance(20);
  equal(logs, [{ level: 'warn', msg: 'vip rules not computed', error: 'endpoint table busy', time: 'T' }]);
  broken = false;
  b.changed();
  clock.advance(20);
  await new Promise<void>((r) => setImmediate(r));
  is(runs, 1);
  equal(logs.slice(1).map((l) => [l.msg, l.error]), [['vip rules not applied; retrying', 'spawn failed']]);
  clock.advance(200);
  await new Promise<void>((r) => setImmediate(r));
  is(runs, 2);
  b.close();
});

t('hostNftRunner: ip netns exec NETNS nft -f - with the script on stdin and a timeout; a refusal is one line', async () => {
  const seen: unknown[] = [];
  const ok1 = hostNftRunner({
    run: async (argv, opts) => {
      seen.push([argv, opts]);
      return { code: 0, stdout: '', stderr: '' };
    },
  });
  await ok1('ep-a', 'SCRIPT');
  equal(seen, [[['nft', '-f', '-'], { netns: 'ep-a', input: 'SCRIPT', timeoutMs: 10_000 }]]);
  const timed = hostNftRunner({ timeoutMs: 50, run: async (argv, opts) => (seen.push(opts.timeoutMs), { code: 0, stdout: '', stderr: '' }) });
  await timed('ep-b', '');
  is(seen[1], 50);
  const refused = hostNftRunner({
    run: async () => {
      throw new Error('ip netns exec ep-a nft -f -: /dev/stdin:3:1-5: Error: syntax error');
    },
  });
  await rejects(() => refused('ep-a', 'x'), /^ip netns exec ep-a nft -f -: \/dev\/stdin:3:1-5: Error: syntax error$/);
  ok(true);
});

t.run();
