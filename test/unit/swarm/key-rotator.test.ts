// The leader's key rotation timer (agent/swarm/key-rotator.ts) with a
// ManualClock and a seeded Rand over a real store: data keys rotate every
// keyRotationMs (5 s here, as `swarm update --key-rotation 5s` sets it), the
// newest three kept; a changed period takes effect within a second; only the
// leader rotates; a new leader continues from the newest key's createdAtMs;
// a refused proposal is retried a second later, not in a loop.
import { suite, is, ok, equal } from '../../harness.js';
import type { Fields, Logger } from '../../../agent/daemon/log.js';
import type { Command } from '../../../agent/cluster/store/index.js';
import { update } from '../../../agent/cluster/store/index.js';
import { DATA_KEY_SCHEDULE, dataKeysOf } from '../../../agent/swarm/data-keys.js';
import { GOSSIP_KEY_SCHEDULE, gossipKeys } from '../../../agent/swarm/gossip-keys.js';
import { KeyRotator, ROTATION_CHECK_MS, type KeySchedule } from '../../../agent/swarm/key-rotator.js';
import { CLUSTER_ID_KEY } from '../../../agent/swarm/store-ids.js';
import { PERIOD_MS, world, type World } from './data-fixture.js';

const t = suite('swarm/key-rotator');
const SEED = Number(process.env.TEST_SEED ?? 0x0e7a7e);
const FIVE_S = 5_000;

class Log implements Logger {
  readonly lines: { level: string; msg: string; fields?: Fields }[] = [];
  debug(msg: string, fields?: Fields): void {
    this.lines.push({ level: 'debug', msg, ...(fields ? { fields } : {}) });
  }
  info(msg: string, fields?: Fields): void {
    this.lines.push({ level: 'info', msg, ...(fields ? { fields } : {}) });
  }
  warn(msg: string, fields?: Fields): void {
    this.lines.push({ level: 'warn', msg, ...(fields ? { fields } : {}) });
  }
  error(msg: string, fields?: Fields): void {
    this.lines.push({ level: 'error', msg, ...(fields ? { fields } : {}) });
  }
  with(): Logger {
    return this;
  }
}

interface Rig {
  rotator: KeyRotator;
  log: Log;
  proposals: Command[];
  leading: { value: boolean };
  /** Make the next n proposals fail. */
  refuse: { next: number };
}

function rotator(w: World, schedules: readonly KeySchedule[] = [DATA_KEY_SCHEDULE]): Rig {
  const log = new Log();
  const proposals: Command[] = [];
  const leading = { value: true };
  const refuse = { next: 0 };
  const r = new KeyRotator({
    clock: w.clock,
    rand: w.rand.fork(),
    store: () => w.store,
    leading: () => leading.value,
    propose: async (cmd) => {
      proposals.push(cmd);
      if (refuse.next > 0) {
        refuse.next--;
        throw new Error('not committed (test)');
      }
      await w.leader.commit(cmd);
    },
    exclusive: (f) => w.networks.exclusive(f),
    schedules,
    log,
  });
  return { rotator: r, log, proposals, leading, refuse };
}

/** Run timers one by one up to monotonic time `to`, letting each rotation's promises settle before the next. */
async function runTo(w: World, to: number): Promise<void> {
  for (;;) {
    const next = w.clock.nextDueMs();
    if (next === undefined || next > to) break;
    w.clock.runNext();
    await new Promise<void>((r) => setImmediate(r));
  }
  w.clock.advanceTo(to);
  await new Promise<void>((r) => setImmediate(r));
}

const gens = (w: World, nid: string): number[] => dataKeysOf(w.store, nid).map((k) => k.generation);
const made = (w: World, nid: string): number[] => dataKeysOf(w.store, nid).map((k) => k.createdAtMs - w.clock.wallMs() + w.clock.nowMs());

async function setPeriod(w: World, ms: number): Promise<void> {
  const c = w.store.get('cluster', CLUSTER_ID_KEY)!;
  const { meta, ...rest } = c;
  await w.leader.commit(update('cluster', { ...rest, keyRotationMs: ms }, meta.version));
}

t('ROTATION_CHECK_MS is 1 s: a period changed by swarm update is seen within a second', () => {
  is(ROTATION_CHECK_MS, 1_000);
});

t('a 5 s period: a new generation exactly every 5 s, never early, the newest 3 kept', async () => {
  const w = await world(SEED, FIVE_S);
  const sec = await w.net({ Name: 'sec', Options: { encrypted: '' } });
  const rig = rotator(w);
  for (let g = 2; g <= 7; g++) {
    const due = (g - 1) * FIVE_S;
    await runTo(w, due - 1);
    is(gens(w, sec).at(-1), g - 1, `generation ${g} not before ${due} ms`);
    await runTo(w, due);
    is(gens(w, sec).at(-1), g, `generation ${g} at ${due} ms`);
    is(made(w, sec).at(-1), due, 'createdAtMs is when it was due');
  }
  equal(gens(w, sec), [5, 6, 7]);
  equal(made(w, sec), [20_000, 25_000, 30_000]);
  ok(rig.log.lines.some((l) => l.msg === 'data keys rotated' && l.fields?.['networks'] === 'sec:7'), JSON.stringify(rig.log.lines.at(-1)));
  rig.rotator.stop();
  is(w.clock.pending(), 0, 'stop() cancels the timer');
});

t('a period shortened by swarm update takes effect within a second (12 h -> 5 s)', async () => {
  const w = await world(SEED);
  const sec = await w.net({ Name: 'sec', Options: { encrypted: '' } });
  const rig = rotator(w);
  await runTo(w, 10_000);
  equal(gens(w, sec), [1]);
  await setPeriod(w, FIVE_S);
  await runTo(w, 11_000);
  equal(gens(w, sec), [1, 2], 'the key was 10 s old: rotated at the next check');
  ok(made(w, sec)[1]! <= 11_000 && made(w, sec)[1]! > 10_000);
  const second = made(w, sec)[1]!;
  await runTo(w, second + FIVE_S - 1);
  equal(gens(w, sec), [1, 2]);
  await runTo(w, second + FIVE_S);
  equal(gens(w, sec), [1, 2, 3]);
  rig.rotator.stop();
});

t('only the leader rotates: a rotator whose manager stopped leading proposes nothing and stops looking', async () => {
  const w = await world(SEED, FIVE_S);
  const sec = await w.net({ Name: 'sec', Options: { encrypted: '' } });
  const rig = rotator(w);
  await runTo(w, 3_000);
  rig.leading.value = false;
  await runTo(w, 60_000);
  equal(rig.proposals, []);
  equal(gens(w, sec), [1]);
  is(w.clock.pending(), 0, 'no timer left');
  rig.rotator.stop();
});

t('a new leader continues the schedule from the newest key (neither skipping nor adding a rotation)', async () => {
  const w = await world(SEED);
  const sec = await w.net({ Name: 'sec', Options: { encrypted: '' } });
  // The old leader runs half a period, then loses leadership.
  const old = rotator(w);
  await runTo(w, PERIOD_MS / 2);
  old.rotator.stop();
  // Nobody leads for a quarter period; then a new leader.
  await runTo(w, (PERIOD_MS * 3) / 4);
  const next = rotator(w);
  await runTo(w, PERIOD_MS - 1);
  equal(gens(w, sec), [1], 'not one period after the new leader took over: one after the key');
  await runTo(w, PERIOD_MS);
  equal(gens(w, sec), [1, 2]);
  next.rotator.stop();
  // A leader that takes over long after a rotation was due: one new generation at once, then one period later.
  await runTo(w, 3 * PERIOD_MS + 123);
  const late = rotator(w);
  await runTo(w, 3 * PERIOD_MS + 123);
  equal(gens(w, sec), [1, 2, 3], 'one generation, not one per missed period');
  is(made(w, sec)[2], 3 * PERIOD_MS + 123);
  await runTo(w, 4 * PERIOD_MS + 122);
  equal(gens(w, sec), [1, 2, 3]);
  await runTo(w, 4 * PERIOD_MS + 123);
  equal(gens(w, sec), [2, 3, 4]);
  late.rotator.stop();
});

t('a refused proposal is retried one check later, not in a loop', async () => {
  const w = await world(SEED, FIVE_S);
  const sec = await w.net({ Name: 'sec', Options: { encrypted: '' } });
  const rig = rotator(w);
  rig.refuse.next = 1;
  await runTo(w, FIVE_S);
  is(rig.proposals.length, 1);
  equal(gens(w, sec), [1]);
  ok(rig.log.lines.some((l) => l.level === 'debug' && l.msg === 'data keys rotation not committed'));
  await runTo(w, FIVE_S + ROTATION_CHECK_MS - 1);
  is(rig.proposals.length, 1, 'no retry within the second');
  await runTo(w, FIVE_S + ROTATION_CHECK_MS);
  is(rig.proposals.length, 2);
  equal(gens(w, sec), [1, 2]);
  rig.rotator.stop();
});

t('a rotation waits for a network write in flight (NetworkOps.exclusive) and is decided on the store it meets', async () => {
  const w = await world(SEED, FIVE_S);
  const sec = await w.net({ Name: 'sec', Options: { encrypted: '' } });
  const rig = rotator(w);
  let release!: () => void;
  const held = w.networks.exclusive(() => new Promise<void>((r) => (release = r)));
  // Queued behind the held write, before the rotation falls due: it removes the network.
  const removing = w.networks.remove('sec');
  await runTo(w, FIVE_S + 10);
  equal(rig.proposals, [], 'the rotation waits too');
  release();
  await held;
  await removing;
  await runTo(w, FIVE_S + 20);
  equal(dataKeysOf(w.store, sec), []);
  ok(!rig.proposals.some((c) => c.op === 'batch' && c.changes.some((x) => x.op === 'create')), 'no key made for the removed network');
  rig.rotator.stop();
});

t('gossip keys and data keys on one rotator, each on its own schedule', async () => {
  const w = await world(SEED, FIVE_S);
  const rig = rotator(w, [GOSSIP_KEY_SCHEDULE, DATA_KEY_SCHEDULE]);
  await runTo(w, 0);
  equal(gossipKeys(w.store).map((k) => k.generation), [1], 'no gossip key yet: one at once');
  await runTo(w, 2_000);
  const sec = await w.net({ Name: 'sec', Options: { encrypted: '' } });
  await runTo(w, FIVE_S);
  equal(gossipKeys(w.store).map((k) => k.generation), [1, 2]);
  equal(gens(w, sec), [1]);
  await runTo(w, 7_000);
  equal(gens(w, sec), [1, 2]);
  equal(gossipKeys(w.store).map((k) => k.generation), [1, 2]);
  ok(rig.log.lines.some((l) => l.msg === 'gossip key rotated' && l.fields?.['generation'] === 2));
  rig.rotator.stop();
});

t.run();
