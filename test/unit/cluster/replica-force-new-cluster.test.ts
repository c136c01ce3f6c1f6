// Replica.open with forceNewCluster, one manager on a MemDisk with peers that
// reach nobody: the logs a manager of a three-voter cluster can be left
// with, the refusals, and a crash at every disk operation of the forced open
// (docs/raft.md, "Forcing a new cluster"). The scenario with three managers
// that lose two is in replica.test.ts.
import { suite, equal, is, ok } from '../../harness.js';
import { Encoder } from 'cbor-x';
import { ManualClock } from '../../../shared/clock.js';
import { seededRand } from '../../../shared/rand.js';
import { Replica, type RaftPeers, type StateMachine } from '../../../agent/cluster/replica.js';
import { encodeConfChange, testRaftConfig, type Entry, type HardState, type NodeId, type RaftMessage } from '../../../agent/cluster/raft/index.js';
import { DISK_CRASHED, MemDisk } from '../../../agent/cluster/wal/mem-disk.js';
import { Wal } from '../../../agent/cluster/wal/wal.js';

const t = suite('replica forceNewCluster');
const SEED = 20260102;
const DIR = '/var/lib/agent/raft';
const SELF = 'm1';
const enc = new TextEncoder();
const dec = new TextDecoder();

class Kv implements StateMachine<void> {
  map = new Map<string, string>();
  apply(_index: number, data: Uint8Array): void {
    const [k, v] = dec.decode(data).split('=') as [string, string];
    this.map.set(k, v);
  }
  skip(): void {}
  snapshot(): Uint8Array {
    return enc.encode(JSON.stringify([...this.map].sort()));
  }
  restore(data: Uint8Array): void {
    this.map = new Map(JSON.parse(dec.decode(data)) as [string, string][]);
  }
}

/** Peers that reach nobody: the other managers are gone. */
class NoPeers implements RaftPeers {
  sent: RaftMessage[] = [];
  send(m: RaftMessage): void {
    this.sent.push(m);
  }
  onMessage(): void {}
  async close(): Promise<void> {}
}

const settle = () => new Promise<void>((r) => setImmediate(r));
const put = (k: string, v: string) => enc.encode(`${k}=${v}`);
const conf = (index: number, id: NodeId): Entry => ({ index, term: 1, type: 'conf', data: encodeConfChange({ type: 'add', id }) });
const cmd = (index: number, term: number, k: string, v: string): Entry => ({ index, term, type: 'normal', data: put(k, v) });
const noop = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array(0) });
// The body of a snapshot file as Replica writes it: [voters, state machine bytes].
const cbor = new Encoder({ useRecords: false, tagUint8Array: false });

/** The log of m1, a follower of a three-voter cluster (bootstrap entries 1-3 at term 1). */
const ENTRIES = [conf(1, 'm1'), conf(2, 'm2'), conf(3, 'm3'), noop(4, 2), cmd(5, 2, 'a', '1'), cmd(6, 2, 'b', '2'), noop(7, 3), cmd(8, 3, 'c', '3')];

interface Shape {
  name: string;
  build(disk: MemDisk): Promise<void>;
  /** What the state machine holds once every stored entry counts as committed. */
  all: [string, string][];
  /** What a plain open of the untouched log applies (up to its commit). */
  old: [string, string][];
}

async function write(disk: MemDisk, hardState: HardState, entries: Entry[], snapshotAt?: { index: number; term: number; kv: [string, string][] }): Promise<void> {
  const { wal } = await Wal.open(disk, DIR);
  await wal.save({ entries, hardState });
  if (snapshotAt) {
    const body = cbor.encode([['m1', 'm2', 'm3'], enc.encode(JSON.stringify(snapshotAt.kv))]);
    await wal.saveSnapshot(body, { index: snapshotAt.index, term: snapshotAt.term });
  }
  wal.close();
}

const SHAPES: Shape[] = [
  {
    // c=3 sits above the commit index this follower knows: the leader may have acknowledged it.
    name: 'entries only, commit lagging',
    build: (d) => write(d, { term: 3, vote: 'm2', commit: 6 }, ENTRIES),
    all: [['a', '1'], ['b', '2'], ['c', '3']],
    old: [['a', '1'], ['b', '2']],
  },
  {
    name: 'a snapshot with entries after it',
    build: (d) => write(d, { term: 3, vote: 'm2', commit: 7 }, ENTRIES, { index: 6, term: 2, kv: [['a', '1'], ['b', '2']] }),
    all: [['a', '1'], ['b', '2'], ['c', '3']],
    old: [['a', '1'], ['b', '2']],
  },
  {
    name: 'a log that ends at its snapshot',
    build: (d) => write(d, { term: 3, vote: 'm2', commit: 8 }, ENTRIES, { index: 8, term: 3, kv: [['a', '1'], ['b', '2'], ['c', '3']] }),
    all: [['a', '1'], ['b', '2'], ['c', '3']],
    old: [['a', '1'], ['b', '2'], ['c', '3']],
  },
];

interface Opened {
  replica: Replica<void>;
  sm: Kv;
  clock: ManualClock;
}

async function open(disk: MemDisk, forceNewCluster: boolean, seed = SEED): Promise<Opened> {
  const clock = new ManualClock();
  const sm = new Kv();
  const replica = await Replica.open({
    id: SELF,
    config: testRaftConfig(),
    clock,
    rand: seededRand(seed),
    disk,
    dir: DIR,
    peers: new NoPeers(),
    sm,
    requestTimeoutMs: 1_000,
    ...(forceNewCluster ? { forceNewCluster: true } : {}),
  });
  await settle();
  return { replica, sm, clock };
}

/** Propose and let the pump run; a configuration of one commits without any message. */
async function propose(o: Opened, k: string, v: string): Promise<void> {
  let done = false;
  const p = o.replica.propose(put(k, v)).finally(() => (done = true));
  for (let i = 0; i < 20 && !done; i++) await settle();
  await p;
}

/** Tick until the replica leads (one voter: after an election timeout). */
async function untilLeader(o: Opened): Promise<void> {
  const cfg = testRaftConfig();
  const end = o.clock.nowMs() + 4 * cfg.electionTicks * cfg.tickMs;
  while (o.replica.role !== 'leader') {
    ok(o.clock.nowMs() <= end && o.clock.runNext(), `seed ${SEED}: no leader by ${end} ms`);
    await settle();
  }
}

const kvs = (o: Opened) => [...o.sm.map].sort();

for (const shape of SHAPES) {
  t(`${shape.name}: the forced open leads alone with every stored entry applied; a plain restart keeps it so`, async () => {
    const disk = new MemDisk({ rand: seededRand(SEED) });
    await shape.build(disk);
    const first = await open(disk, true);
    is(first.replica.role, 'leader');
    equal(first.replica.voters(), [SELF]);
    equal(kvs(first), shape.all);
    ok(first.replica.term > 3, `term ${first.replica.term} moved past the stored 3`);
    await propose(first, 'd', '4');
    await first.replica.close();

    disk.crash({ loseUnsynced: true });
    const again = await open(disk, false);
    equal(again.replica.voters(), [SELF]);
    equal(kvs(again), [...shape.all, ['d', '4']].sort());
    await untilLeader(again);
    await propose(again, 'e', '5');
    await again.replica.close();
  });
}

t('a dir without a Raft log cannot be forced: fresh, or holding only a term and vote', async () => {
  const fresh = new MemDisk();
  await open(fresh, true).then(
    () => ok(false, 'opened a fresh dir'),
    (e: unknown) => is((e as Error).message, `no state to recover: ${DIR} has no Raft log (forceNewCluster needs the state dir of a manager that was in a cluster)`),
  );
  // A manager that joined and voted but never received an entry.
  const voted = new MemDisk();
  await write(voted, { term: 4, vote: 'm2', commit: 0 }, []);
  await open(voted, true).then(
    () => ok(false, 'opened a dir without entries'),
    (e: unknown) => ok(/^no state to recover: .* has no Raft log/.test((e as Error).message), String(e)),
  );
  // Nothing was written: a plain open still finds the term and vote.
  const o = await Wal.open(voted, DIR);
  equal(o.hardState, { term: 4, vote: 'm2', commit: 0 });
  o.wal.close();
});

t('forceNewCluster and bootstrap together are refused', async () => {
  const err = await Replica.open({
    id: SELF,
    config: testRaftConfig(),
    clock: new ManualClock(),
    rand: seededRand(SEED),
    disk: new MemDisk(),
    dir: DIR,
    peers: new NoPeers(),
    sm: new Kv(),
    bootstrap: [SELF],
    forceNewCluster: true,
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  ok(err instanceof RangeError, String(err));
  is((err as Error).message, 'Replica.open: pass bootstrap (to create a cluster) or forceNewCluster (to recover one), not both');
});

// Every disk operation of the forced open (and of the first Ready after it)
// is in turn the one where the machine loses power, with a torn write. Then a
// plain open must start: from the untouched log (three voters) or from the
// forced one (one voter, every entry), never anything else; and forcing again
// must finish the job.
for (const shape of SHAPES) {
  t(`${shape.name}: a crash at every disk operation of the forced open reopens consistently`, async () => {
    const ref = new MemDisk({ rand: seededRand(SEED) });
    await shape.build(ref);
    const ops0 = ref.ops;
    const done = await open(ref, true);
    await done.replica.close();
    const total = ref.ops - ops0;

    const outcomes = new Set<string>();
    let snapshotWithoutHardState = 0;
    for (let n = 0; n <= total; n++) {
      const where = `${shape.name}, seed ${SEED}: power lost after ${n} of ${total} ops`;
      const disk = new MemDisk({ rand: seededRand(SEED + n) });
      await shape.build(disk);
      disk.crashAfter(n);
      try {
        const o = await open(disk, true);
        await o.replica.close();
      } catch (e) {
        ok((e as Error).message.includes(DISK_CRASHED), `${where}: ${String(e)}`);
      }
      disk.crash({ loseUnsynced: true, torn: true });

      const peek = await Wal.open(disk, DIR);
      if (peek.snapshot?.index === 8 && peek.hardState.commit < 8) snapshotWithoutHardState++;
      peek.wal.close();

      const plain = await open(disk, false);
      const voters = plain.replica.voters();
      if (voters.length === 1) {
        equal(voters, [SELF], where);
        equal(kvs(plain), shape.all, where);
        outcomes.add('forced');
      } else {
        equal(voters, ['m1', 'm2', 'm3'], where);
        equal(kvs(plain), shape.old, where);
        outcomes.add('untouched');
      }
      await plain.replica.close();

      const forced = await open(disk, true);
      is(forced.replica.role, 'leader', where);
      equal(forced.replica.voters(), [SELF], where);
      equal(kvs(forced), shape.all, where);
      await propose(forced, 'd', '4');
      await forced.replica.close();
    }
    equal([...outcomes].sort(), ['forced', 'untouched'], 'the crash points span the forced open');
    if (shape.name === 'entries only, commit lagging') ok(snapshotWithoutHardState > 0, 'some crash point fell between the snapshot and the hard state');
  });
}

t.run();
