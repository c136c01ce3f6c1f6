// The Replica shell as scenarios: three replicas over MemNet streams, a
// ManualClock and MemDisks, so every run with the same seed takes the same
// steps. Each test drives the clock one timer at a time and lets the async
// Ready pump settle between steps (as test/sim/raft.ts does).
import { suite, equal, is, ok, throws, until } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import { seededRand, type Rand } from '../../../shared/rand.js';
import { MemNet } from '../../../shared/transport/memnet.js';
import { OutcomeUnknownError, Replica, type StateMachine } from '../../../agent/cluster/replica.js';
import { StreamPeers } from '../../../agent/cluster/stream-peers.js';
import { NotLeaderError, ProposalDroppedError, testRaftConfig, type NodeId, type RaftConfig } from '../../../agent/cluster/raft/index.js';
import { DISK_CRASHED, MemDisk } from '../../../agent/cluster/wal/mem-disk.js';
import type { AppendFile, Disk } from '../../../agent/cluster/wal/disk.js';

const t = suite('replica');
const SEED = 20260101;
const PORT = 2377;
const DIR = '/var/lib/agent/raft';
const REQUEST_TIMEOUT_MS = 300;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** put(k, v) as bytes: "k=v". */
const put = (k: string, v: string) => enc.encode(`${k}=${v}`);

/** A tiny key-value map; apply returns the value it replaced. */
class Kv implements StateMachine<string | undefined> {
  map = new Map<string, string>();
  /** Indexes of the commands applied, in order, since this instance was made. */
  applied: number[] = [];
  restoredAt: number | undefined;

  apply(index: number, data: Uint8Array): string | undefined {
    const [k, v] = dec.decode(data).split('=') as [string, string];
    const prev = this.map.get(k);
    this.map.set(k, v);
    this.applied.push(index);
    return prev;
  }
  skip(): void {}
  snapshot(): Uint8Array {
    return enc.encode(JSON.stringify([...this.map].sort()));
  }
  restore(data: Uint8Array, index: number): void {
    this.map = new Map(JSON.parse(dec.decode(data)) as [string, string][]);
    this.restoredAt = index;
  }
}

interface Member {
  id: NodeId;
  ip: string;
  disk: Disk & { halted?: boolean };
  mem: MemDisk;
  peers?: StreamPeers;
  replica?: Replica<string | undefined>;
  sm: Kv;
}

const settle = () => new Promise<void>((r) => setImmediate(r));

/** Three managers m1..m3 on 10.0.0.1..3. */
class World {
  readonly clock = new ManualClock();
  readonly rand: Rand;
  readonly net: MemNet;
  readonly members: Member[];
  /** Given to replicas as they start. */
  requestTimeoutMs = REQUEST_TIMEOUT_MS;

  constructor(
    readonly config: RaftConfig = testRaftConfig(),
    seed = SEED,
  ) {
    this.rand = seededRand(seed);
    this.net = new MemNet({ clock: this.clock, rand: this.rand.fork(), latencyMs: 1, jitterMs: 2 });
    this.members = [1, 2, 3].map((n) => {
      const mem = new MemDisk({ rand: this.rand.fork() });
      return { id: `m${n}`, ip: `10.0.0.${n}`, disk: mem, mem, sm: new Kv() };
    });
  }

  m(id: NodeId): Member {
    const m = this.members.find((x) => x.id === id);
    if (!m) throw new Error(`no member ${id}`);
    return m;
  }

  /** Open (or re-open, with a fresh state machine) one member on its disk. */
  async start(m: Member, opts: { forceNewCluster?: boolean } = {}): Promise<void> {
    m.sm = new Kv();
    m.peers = await StreamPeers.start({
      id: m.id,
      transport: this.net.stream(m.ip),
      listen: { host: m.ip, port: PORT },
      addrOf: (id) => {
        const x = this.members.find((y) => y.id === id);
        return x && { host: x.ip, port: PORT };
      },
      clock: this.clock,
      connectTimeoutMs: 200,
    });
    m.replica = await Replica.open({
      id: m.id,
      config: this.config,
      clock: this.clock,
      rand: this.rand.fork(),
      disk: m.disk,
      dir: DIR,
      peers: m.peers,
      sm: m.sm,
      ...(opts.forceNewCluster ? { forceNewCluster: true } : { bootstrap: this.members.map((x) => x.id) }),
      requestTimeoutMs: this.requestTimeoutMs,
    });
    await settle();
  }

  async startAll(): Promise<void> {
    for (const m of this.members) await this.start(m);
  }

  async stop(m: Member): Promise<void> {
    await m.replica?.close();
    await m.peers?.close();
    m.replica = undefined;
    m.peers = undefined;
  }

  async stopAll(): Promise<void> {
    for (const m of this.members) await this.stop(m);
  }

  /** Fire timers until ms of simulated time have passed. */
  async runFor(ms: number): Promise<void> {
    const end = this.clock.nowMs() + ms;
    for (let due = this.clock.nextDueMs(); due !== undefined && due <= end; due = this.clock.nextDueMs()) {
      this.clock.runNext();
      await settle();
    }
    this.clock.advanceTo(end);
  }

  /** Fire timers one by one until cond holds; fail after maxMs of simulated time. */
  async runUntil(cond: () => boolean, what: string, maxMs = 5_000): Promise<void> {
    const end = this.clock.nowMs() + maxMs;
    while (!cond()) {
      if (this.clock.nowMs() > end || !this.clock.runNext()) throw new Error(`seed ${SEED}: no ${what} within ${maxMs} ms of simulated time`);
      await settle();
    }
  }

  live(): Member[] {
    return this.members.filter((m) => m.replica && !m.replica.failure);
  }

  /** The single leader that every live member agrees on, if there is one. */
  agreedLeader(): Member | undefined {
    const live = this.live();
    const leaders = live.filter((m) => m.replica!.role === 'leader');
    if (leaders.length !== 1) return undefined;
    const l = leaders[0]!;
    return live.every((m) => m.replica!.leaderId === l.id && m.replica!.term === l.replica!.term) ? l : undefined;
  }

  async elect(): Promise<Member> {
    await this.runUntil(() => this.agreedLeader() !== undefined, 'agreed leader');
    return this.agreedLeader()!;
  }

  followers(): Member[] {
    const l = this.agreedLeader();
    return this.live().filter((m) => m !== l);
  }

  /** Propose on the leader and run until it resolves. */
  async write(k: string, v: string): Promise<string | undefined> {
    const p = track(this.agreedLeader()!.replica!.propose(put(k, v)));
    await this.runUntil(() => p.done, `commit of ${k}=${v}`);
    if (p.error) throw p.error;
    return p.value;
  }
}

interface Tracked<T> {
  done: boolean;
  value: T | undefined;
  error: unknown;
}

function track<T>(p: Promise<T>): Tracked<T> {
  const s: Tracked<T> = { done: false, value: undefined, error: undefined };
  p.then(
    (v) => Object.assign(s, { done: true, value: v }),
    (e: unknown) => Object.assign(s, { done: true, error: e }),
  );
  return s;
}

async function withWorld(fn: (w: World) => Promise<void>, config?: RaftConfig, requestTimeoutMs?: number): Promise<void> {
  const w = new World(config);
  if (requestTimeoutMs !== undefined) w.requestTimeoutMs = requestTimeoutMs;
  try {
    await w.startAll();
    await fn(w);
  } finally {
    await w.stopAll();
  }
}

const sameMaps = (w: World, ids: Member[]) => () => {
  const first = JSON.stringify([...ids[0]!.sm.map]);
  return ids.every((m) => JSON.stringify([...m.sm.map]) === first);
};

const sortedIds = (ms: Member[]) => ms.map((m) => m.id).sort();
const kvs = (m: Member) => [...m.sm.map].sort();

t('three replicas elect one leader that all of them follow', () =>
  withWorld(async (w) => {
    const l = await w.elect();
    is(w.members.filter((m) => m.replica!.role === 'leader').length, 1);
    for (const f of w.followers()) {
      is(f.replica!.role, 'follower');
      is(f.replica!.leaderId, l.id);
    }
    // It stays leader while the network is healthy (heartbeats, check-quorum).
    const term = l.replica!.term;
    await w.runFor(20 * w.config.electionTicks * w.config.tickMs);
    is(w.agreedLeader(), l);
    is(l.replica!.term, term);
  }),
);

t('propose resolves with the state machine result once applied on the leader', () =>
  withWorld(async (w) => {
    const l = await w.elect();
    let seenWhenResolved: string | undefined;
    const p = track(l.replica!.propose(put('a', '1')).then((r) => ((seenWhenResolved = l.sm.map.get('a')), r)));
    await w.runUntil(() => p.done, 'first commit');
    is(p.error, undefined);
    is(p.value, undefined, 'nothing was replaced');
    is(seenWhenResolved, '1', 'applied before the promise resolved');
    is(await w.write('a', '2'), '1', 'the replaced value comes back');
    // Concurrent proposals resolve each with its own result, in log order.
    const ps = ['3', '4', '5'].map((v) => track(l.replica!.propose(put('a', v))));
    await w.runUntil(() => ps.every((x) => x.done), 'three concurrent commits');
    equal(ps.map((x) => x.value), ['2', '3', '4']);
    // The followers apply the same commands at the same indexes.
    await w.runUntil(sameMaps(w, w.members), 'followers to apply');
    for (const f of w.followers()) equal(f.sm.applied, l.sm.applied);
    is(l.replica!.applied >= l.sm.applied.at(-1)!, true);
  }),
);

t('a follower refuses proposals and reads with NotLeaderError naming the leader', () =>
  withWorld(async (w) => {
    const l = await w.elect();
    for (const f of w.followers()) {
      throws(() => f.replica!.propose(put('x', 'y')), (e: unknown) => e instanceof NotLeaderError && e.code === 'RAFT_NOT_LEADER' && e.leaderHint === l.id);
      throws(() => f.replica!.readBarrier(), (e: unknown) => e instanceof NotLeaderError && e.leaderHint === l.id);
    }
    await w.runFor(100);
    ok(w.members.every((m) => !m.sm.map.has('x')), 'the refused proposal never took effect');
  }),
);

t('readBarrier on the leader resolves and covers every write acknowledged before it', () =>
  withWorld(async (w) => {
    const l = await w.elect();
    await w.write('k', 'v1');
    const r = track(l.replica!.readBarrier());
    await w.runUntil(() => r.done, 'read barrier');
    is(r.error, undefined);
    is(l.sm.map.get('k'), 'v1');
    // Several at once, interleaved with a write.
    const reads = [l.replica!.readBarrier(), l.replica!.readBarrier()].map(track);
    const wr = track(l.replica!.propose(put('k', 'v2')));
    await w.runUntil(() => wr.done && reads.every((x) => x.done), 'reads and write');
    ok(reads.every((x) => x.error === undefined));
  }),
);

t('a replica closed and re-opened on its disk re-applies what it committed, then catches up', () =>
  withWorld(async (w) => {
    await w.elect();
    for (const k of ['a', 'b', 'c', 'd', 'e']) await w.write(k, '1');
    await w.runUntil(sameMaps(w, w.members), 'all replicas to apply a..e');
    await w.runFor(50); // heartbeats carry the final commit index to the followers' disks
    const f = w.followers()[0]!;
    const before = [...f.sm.applied];
    await w.stop(f);
    // A power loss on top of the close: what was acknowledged must have been fsynced.
    f.mem.crash({ loseUnsynced: true });
    for (const k of ['f', 'g', 'h']) await w.write(k, '2');

    await w.start(f); // a fresh Kv; no simulated time passes
    equal(f.sm.applied, before, 're-applied from its own log, before hearing from anyone');
    equal([...f.sm.map.keys()].sort(), ['a', 'b', 'c', 'd', 'e']);
    is(f.replica!.role, 'follower');

    await w.runUntil(sameMaps(w, w.members), 'the restarted replica to catch up');
    equal(f.sm.applied, w.agreedLeader()!.sm.applied);
    is(f.sm.map.get('h'), '2');
  }),
);

t('a replica that missed more than the leader keeps catches up from a snapshot', () =>
  withWorld(
    async (w) => {
      await w.elect();
      const f = w.followers()[0]!;
      await w.stop(f);
      for (let i = 0; i < 30; i++) await w.write(`k${i % 7}`, String(i));
      const l = w.agreedLeader()!;
      ok(l.replica!.status().firstIndex > 1, 'the leader compacted its log');
      // Long enough for the leader's StreamPeers to have dropped every append meant
      // for f, so f can only catch up through the snapshot.
      await w.runFor(5_000);
      await w.start(f);
      await w.runUntil(sameMaps(w, w.members), 'catch-up by snapshot');
      ok(f.sm.restoredAt !== undefined, 'restored from the leader snapshot');
      is(await w.write('z', 'after'), undefined);
      await w.runUntil(() => f.sm.map.get('z') === 'after', 'follower applies after the snapshot');
    },
    { ...testRaftConfig(), snapshotEveryEntries: 10 },
  ),
);

/**
 * A Disk that fails every append to a live log segment once a snapshot file
 * has been renamed into place: the crash point between saving a snapshot
 * from the leader and saving the hard state that goes with it.
 */
function failAfterSnapshotRename(inner: Disk): Disk {
  let snapshotted = false;
  return {
    mkdirp: (d) => inner.mkdirp(d),
    openAppend(path) {
      const f = inner.openAppend(path);
      const live = /wal-[0-9a-f]{16}\.log$/.test(path);
      return {
        append(b) {
          if (live && snapshotted) throw new Error('injected: write failed after the snapshot was saved');
          f.append(b);
        },
        sync: () => f.sync(),
        close: () => f.close(),
      } satisfies AppendFile;
    },
    readFile: (p) => inner.readFile(p),
    truncate: (p, n) => inner.truncate(p, n),
    list: (d) => inner.list(d),
    rename(from, to) {
      inner.rename(from, to);
      if (to.endsWith('.snap')) snapshotted = true;
    },
    remove: (p) => inner.remove(p),
    syncDir: (d) => inner.syncDir(d),
  };
}

// A snapshot from the leader is saved before the hard state of the same
// Ready; stopped between the two writes, the log holds snapshot S with an
// older commit. Replica.open raises commit to S (a snapshot covers only
// committed entries), so the manager restarts.
t('a replica stopped between saving a leader snapshot and its hard state restarts', () =>
  withWorld(
    async (w) => {
      await w.elect();
      const f = w.followers()[0]!;
      await w.stop(f);
      for (let i = 0; i < 30; i++) await w.write(`k${i % 7}`, String(i));
      await w.runFor(5_000);
      f.disk = failAfterSnapshotRename(f.mem);
      await w.start(f);
      await w.runUntil(() => f.replica!.failure !== undefined, 'the injected failure');
      await w.stop(f);
      f.disk = f.mem;
      await w.start(f); // today: RangeError "RaftNode: persisted commit 4 outside 30..30"
      await w.runUntil(sameMaps(w, w.members), 'catch-up after the restart');
    },
    { ...testRaftConfig(), snapshotEveryEntries: 10 },
  ),
);

t('a failing disk stops the replica: failure set, pending proposals rejected, the others go on', () =>
  withWorld(async (w) => {
    const l = await w.elect();
    await w.write('a', '1');
    l.mem.crashAfter(0); // the next disk operation fails, and every one after it
    const p = track(l.replica!.propose(put('a', '2')));
    const q = track(l.replica!.propose(put('b', '2')));
    await w.runUntil(() => p.done && q.done, 'pending proposals to fail');
    ok(l.replica!.failure, 'failure is set');
    ok(l.replica!.failure!.message.includes(DISK_CRASHED), l.replica!.failure!.message);
    is(p.error, l.replica!.failure);
    is(q.error, l.replica!.failure);
    throws(() => l.replica!.propose(put('c', '3')), (e: unknown) => e === l.replica!.failure);
    throws(() => l.replica!.readBarrier(), (e: unknown) => e === l.replica!.failure);

    // It no longer takes part: the other two elect a leader among themselves and carry on.
    await w.runUntil(() => w.agreedLeader() !== undefined && w.agreedLeader() !== l, 'a new leader');
    is(await w.write('c', '3'), undefined);
    ok(!l.sm.map.has('c'), 'the stopped replica applies nothing more');
  }),
);

t('a proposal on a cut-off leader times out with OutcomeUnknownError', () =>
  withWorld(async (w) => {
    const l = await w.elect();
    await w.write('a', '1');
    w.net.partition([l.ip], w.followers().map((m) => m.ip));
    const t0 = w.clock.nowMs();
    const p = track(l.replica!.propose(put('a', 'lost?')));
    const r = track(l.replica!.readBarrier());
    await w.runUntil(() => p.done && r.done, 'the proposal to give up', 2 * REQUEST_TIMEOUT_MS);
    ok(p.error instanceof OutcomeUnknownError, String(p.error));
    is((p.error as OutcomeUnknownError).code, 'EOUTCOME');
    is(w.clock.nowMs() - t0, REQUEST_TIMEOUT_MS);
    // The read fails sooner: check-quorum deposes the leader (thesis §6.2) and reads die with leadership.
    ok(r.error instanceof NotLeaderError, String(r.error));

    w.net.heal();
    const l2 = await w.elect();
    is(await w.write('b', '2'), undefined);
    await w.runUntil(sameMaps(w, w.members), 'all replicas to agree after the heal');
    ok(l2.replica!.term > 1);
  }),
);

// ---- membership (thesis §4.1) ---------------------------------------------

t('proposeConfChange resolves once the change is applied, and voters() follows the log', () =>
  withWorld(async (w) => {
    const l = await w.elect();
    await w.write('a', '1'); // the leader's no-op is committed: changes are allowed
    equal(l.replica!.voters(), sortedIds(w.members));
    const [stay, victim] = w.followers() as [Member, Member];
    const index = l.replica!.status().lastIndex + 1;
    let seen: { applied: number; voters: readonly NodeId[] } | undefined;
    const p = track(l.replica!.proposeConfChange({ type: 'remove', id: victim.id }).then(() => (seen = { applied: l.replica!.applied, voters: l.replica!.voters() })));
    // In force as soon as it is in the log (thesis §4.1), before it commits.
    equal(l.replica!.voters(), sortedIds([l, stay]));
    const second = track(l.replica!.proposeConfChange({ type: 'add', id: 'm9' }));
    await w.runUntil(() => p.done && second.done, 'the change to commit');
    is(p.error, undefined);
    ok(seen && seen.applied >= index, `applied ${seen?.applied} when it resolved, entry at ${index}`);
    equal(seen!.voters, sortedIds([l, stay]));
    ok(second.error instanceof ProposalDroppedError && second.error.reason === 'conf-change-pending', String(second.error));

    // Refusals are rejections too, never throws (callers .catch() changes they do not await).
    const refused = [
      l.replica!.proposeConfChange({ type: 'remove', id: victim.id }),
      l.replica!.proposeConfChange({ type: 'add', id: stay.id }),
      stay.replica!.proposeConfChange({ type: 'add', id: victim.id }),
    ].map(track);
    await w.runUntil(() => refused.every((r) => r.done), 'the refusals');
    ok(refused[0]!.error instanceof RangeError && /m\d is not a voter/.test(refused[0]!.error.message), String(refused[0]!.error));
    ok(refused[1]!.error instanceof RangeError && /m\d is already a voter/.test(refused[1]!.error.message), String(refused[1]!.error));
    ok(refused[2]!.error instanceof NotLeaderError && refused[2]!.error.leaderHint === l.id, String(refused[2]!.error));

    // Writes go on with two voters; the victim, back in, catches up.
    is(await w.write('b', '2'), undefined);
    const back = track(l.replica!.proposeConfChange({ type: 'add', id: victim.id }));
    await w.runUntil(() => back.done, 'the re-add to commit');
    is(back.error, undefined);
    equal(l.replica!.voters(), sortedIds(w.members));
    await w.runUntil(sameMaps(w, w.members), 'the re-added voter to catch up');
    equal(victim.replica!.voters(), sortedIds(w.members));
  }),
);

t('a conf change on a cut-off leader times out with OutcomeUnknownError', () =>
  withWorld(async (w) => {
    const l = await w.elect();
    await w.write('a', '1');
    w.net.partition([l.ip], w.followers().map((m) => m.ip));
    const t0 = w.clock.nowMs();
    const p = track(l.replica!.proposeConfChange({ type: 'remove', id: w.followers()[0]!.id }));
    await w.runUntil(() => p.done, 'the change to give up', 2 * REQUEST_TIMEOUT_MS);
    ok(p.error instanceof OutcomeUnknownError, String(p.error));
    ok(/conf change at index \d+ not applied within 300 ms/.test((p.error as Error).message), (p.error as Error).message);
    is(w.clock.nowMs() - t0, REQUEST_TIMEOUT_MS);
    w.net.heal();
    await w.elect();
    await w.runUntil(() => w.members.every((m) => m.replica!.voters().length === 3), 'the old leader to drop its uncommitted change');
  }),
);

// Paper §5.3: the entry of a deposed leader is replaced by the new leader's.
t('a conf change overwritten by a new leader rejects with overwritten', () =>
  withWorld(
    async (w) => {
      const l = await w.elect();
      await w.write('a', '1');
      await w.runFor(50); // both followers hold every entry
      const followers = w.followers();
      w.net.partition([l.ip], followers.map((m) => m.ip));
      const p = track(l.replica!.proposeConfChange({ type: 'remove', id: followers[0]!.id }));
      await w.runUntil(() => followers.some((f) => f.replica!.role === 'leader'), 'a leader on the majority side');
      w.net.heal();
      await w.runUntil(() => p.done, 'the change to be decided');
      ok(p.error instanceof ProposalDroppedError && p.error.reason === 'overwritten', String(p.error));
      await w.elect();
      await w.runUntil(() => w.members.every((m) => m.replica!.voters().length === 3), 'every voter back in');
    },
    undefined,
    5_000,
  ),
);

// ---- forcing a new cluster (docs/raft.md) -----------------------------------

t('forceNewCluster: the last manager standing leads alone, keeps every acknowledged write, and stays alone after a restart', () =>
  withWorld(async (w) => {
    const l = await w.elect();
    for (const k of ['a', 'b', 'c']) await w.write(k, '1');
    const [keep, gone] = w.followers() as [Member, Member];
    await w.stop(gone); // for good
    // From here every write needs keep's acknowledgement, so keep holds them all.
    for (const k of ['d', 'e']) await w.write(k, '2');
    const acked = kvs(l);
    const before = keep.replica!.status();
    // The commit of e is still on its way to keep: the entry sits above keep's commit index.
    ok(before.commit < before.lastIndex, `keep: commit ${before.commit}, last index ${before.lastIndex}`);
    await w.stop(l); // for good
    await w.stop(keep);
    keep.mem.crash({ loseUnsynced: true });

    await w.start(keep, { forceNewCluster: true });
    is(keep.replica!.role, 'leader', 'leads at once: a configuration of one needs no votes');
    equal(keep.replica!.voters(), [keep.id]);
    equal(kvs(keep), acked);
    ok(keep.replica!.term > before.term);
    is(await w.write('f', '3'), undefined);
    is(await w.write('a', '4'), '1');

    await w.stop(keep);
    keep.mem.crash({ loseUnsynced: true });
    await w.start(keep); // a plain restart (bootstrap is ignored: the dir holds a log)
    equal(keep.replica!.voters(), [keep.id]);
    equal(kvs(keep), [...acked.filter(([k]) => k !== 'a'), ['a', '4'], ['f', '3']].sort());
    await w.elect(); // itself, after an election timeout
    is(await w.write('g', '5'), undefined);
  }),
);

t('forceNewCluster on a log that ends at its snapshot keeps the state and changes the configuration', () =>
  withWorld(
    async (w) => {
      const l = await w.elect();
      for (let i = 0; i < 6; i++) await w.write(`k${i}`, String(i));
      await w.runFor(100); // heartbeats carry the commit index; every replica applies and compacts
      const keep = w.followers()[0]!;
      const before = keep.replica!.status();
      is(before.firstIndex, before.lastIndex + 1, 'nothing after the snapshot');
      const acked = kvs(l);
      await w.stopAll();
      // From here on no compaction rewrites the snapshot: what the restart
      // below reads is what the forced open wrote.
      w.config.snapshotEveryEntries = 1_000;

      await w.start(keep, { forceNewCluster: true });
      is(keep.sm.restoredAt, before.lastIndex);
      is(keep.replica!.role, 'leader');
      equal(keep.replica!.voters(), [keep.id]);
      equal(kvs(keep), acked);
      is(await w.write('z', 'new'), undefined);

      await w.stop(keep);
      await w.start(keep);
      equal(keep.replica!.voters(), [keep.id]);
      is(keep.sm.map.get('z'), 'new');
      await w.elect();
      is(await w.write('k0', 'again'), '0');
    },
    { ...testRaftConfig(), snapshotEveryEntries: 1 },
  ),
);

t.run();
