// Log replication: paper §5.3 (log matching, conflict truncation, fast
// back-off), §5.4.2 and figure 8 (commit only entries of the current term by
// counting), §7 (snapshots), §8 (client interaction: not-leader hints).
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { bytes, RaftNetwork } from './network.js';
import { NotLeaderError } from '../../../../agent/cluster/raft/errors.js';
import type { RaftMessage } from '../../../../agent/cluster/raft/messages.js';

const t = suite('raft replication');

const ABC = ['a', 'b', 'c'];

t('§5.3 entries proposed on the leader are replicated, committed and applied in order everywhere', () => {
  const net = new RaftNetwork(ABC, { seed: 11 });
  const l = net.elect();
  for (const v of ['x', 'y', 'z']) net.propose(v);
  const commit = net.node(l).status().commit;
  for (const id of ABC) {
    equal(net.applied.get(id), ['x', 'y', 'z'], `${id} (${net.why})`);
    is(net.node(id).status().commit, commit, id);
    equal(net.node(id).entries(1, commit + 1).map((e) => e.term), net.node(l).entries(1, commit + 1).map((e) => e.term), `${id} log matches the leader's (§5.3)`);
  }
});

t('§8 a proposal to a follower fails with NotLeaderError carrying the leader id', () => {
  const net = new RaftNetwork(ABC, { seed: 12 });
  const l = net.elect();
  const f = ABC.find((id) => id !== l)!;
  throws(() => net.node(f).propose(bytes('nope')), (e: unknown) => e instanceof NotLeaderError && e.leaderHint === l && e.code === 'RAFT_NOT_LEADER');
  throws(() => net.node(f).readIndex('r1'), (e: unknown) => e instanceof NotLeaderError && e.leaderHint === l);
  throws(() => net.node(l).propose(new Uint8Array(0)), /propose: data must be a non-empty Uint8Array/);
  const lonely = new RaftNetwork(['a', 'b', 'c'], { seed: 13 });
  throws(() => lonely.node('a').propose(bytes('x')), (e: unknown) => e instanceof NotLeaderError && e.leaderHint === undefined, 'no leader known yet');
});

t('§5.4.2 figure 8: a leader does not commit an entry of an older term by counting replicas', () => {
  const ids = ['s1', 's2', 's3', 's4', 's5'];
  // Elections only when the script says so; one entry per append so a
  // message can carry the old entry without the new one.
  const net = new RaftNetwork(ids, { seed: 8, config: { preVote: false, checkQuorum: false, electionTicks: 1000, maxEntriesPerAppendBytes: 1 } });
  const until = (id: string) => {
    for (let i = 0; i < 5 && net.node(id).role !== 'leader'; i++) {
      net.node(id).campaign();
      net.stabilize();
    }
    is(net.node(id).role, 'leader', `${id} won (${net.why})`);
  };
  until('s1'); // term 2; log 1..5 bootstrap, 6 no-op, all committed
  is(net.node('s1').status().commit, 6);

  // (a) S1 replicates index 7 (term 2) to S2 only.
  net.partition(['s1', 's2'], ['s3', 's4', 's5']);
  net.node('s1').propose(bytes('a'));
  net.stabilize();
  is(net.node('s2').entries(7, 8)[0]!.term, 2);

  // (b) S1 crashes; S5 wins term 3 with S3 and S4, and appends index 7 (its no-op) only locally.
  net.crash('s1');
  net.partition(['s2'], ['s3', 's4', 's5']);
  net.dropIf = (m) => m.from === 's5' && m.type === 'append';
  until('s5');
  is(net.node('s5').term, 3);
  is(net.node('s5').entries(7, 8)[0]!.term, 3);

  // (c) S5 crashes, S1 restarts and wins term 4, then replicates index 7
  // (term 2) to S3: it is now on S1, S2 and S3, a majority, yet S1 must not
  // count it committed, because it is not of term 4.
  net.crash('s5');
  net.heal();
  net.start('s1');
  // S4 hears nothing; S3 may take index 7 but not S1's term-4 no-op at 8.
  net.dropIf = (m) =>
    m.from === 's1' && m.type === 'append' && (m.to === 's4' || (m.to === 's3' && m.entries.some((e) => e.index >= 8) && net.node('s3').status().lastIndex >= 7));
  until('s1');
  is(net.node('s1').term, 4);
  is(net.node('s3').entries(7, 8)[0]!.term, 2, 'S3 got the term-2 entry');
  equal([1, 2, 3].map((k) => net.node(`s${k}`).status().lastIndex >= 7), [true, true, true]);
  is(net.node('s1').status().commit, 6, 'index 7 is on a majority but not committed (§5.4.2)');

  // (d) S1 crashes; S5 can still win (its last term 3 beats 2) and it overwrites index 7.
  net.crash('s1');
  net.start('s5');
  net.dropIf = undefined;
  until('s5');
  net.tick(2);
  for (const id of ['s2', 's3', 's4']) is(net.node(id).entries(7, 8)[0]!.term, 3, `${id} index 7 overwritten by the term-3 entry`);
  for (const id of net.nodes.keys()) ok(!net.applied.get(id)!.includes('a'), `${id} never applied the uncommitted value`);
  // (State machine safety is checked by the network on every apply.)
});

// Table: a leader cut off from the majority keeps accepting proposals that can
// never commit; when it rejoins it steps down and its entries are overwritten.
for (const c of [
  { name: 'check-quorum on', checkQuorum: true, preVote: true },
  { name: 'check-quorum off', checkQuorum: false, preVote: false },
]) {
  t(`§5.3 a stale leader rejoining after a partition (${c.name}) steps down and its uncommitted entries are overwritten`, () => {
    const net = new RaftNetwork(ABC, { seed: 21, config: { checkQuorum: c.checkQuorum, preVote: c.preVote } });
    const old = net.elect();
    const rest = ABC.filter((id) => id !== old);
    net.isolate(old);
    net.node(old).propose(bytes('lost1'));
    net.node(old).propose(bytes('lost2'));
    net.stabilize();
    const oldLast = net.node(old).status().lastIndex;
    const l2 = net.elect(200, rest);
    net.node(l2).propose(bytes('kept'));
    net.stabilize();
    net.heal();
    net.tick(3 * net.config.electionTicks);
    ok(net.leader() !== old || net.node(old).term > net.node(l2).term, net.why);
    is(net.node(old).role === 'leader' && net.node(old).term <= net.node(l2).term, false, 'the stale leader is no longer leader of a current term');
    for (const id of ABC) equal(net.applied.get(id), ['kept'], `${id} (${net.why})`);
    const newTerm = net.node(net.leader()!).entries(oldLast - 1, oldLast + 1).map((e) => e.term);
    equal(net.node(old).entries(oldLast - 1, oldLast + 1).map((e) => e.term), newTerm, 'conflicting entries replaced');
  });
}

t('§5.3 fast back-off: a lagging follower and a divergent one each need at most two rejections', () => {
  const net = new RaftNetwork(ABC, { seed: 31, config: { checkQuorum: false, preVote: false } });
  const l = net.elect();
  const [f1, f2] = ABC.filter((id) => id !== l) as [string, string];
  let rejects = 0;
  net.dropIf = (m: RaftMessage) => {
    if (m.type === 'appendResp' && m.reject) rejects++;
    return false;
  };
  // Lagging: f1 misses 50 entries.
  net.partition([l, f2], [f1]);
  for (let i = 0; i < 50; i++) net.propose(`v${i}`);
  net.heal();
  net.tick(2);
  ok(rejects <= 2, `lagging follower: ${rejects} rejects`);
  is(net.applied.get(f1)!.length, 50);

  // Divergent: the leader, cut off, grows 50 uncommitted entries; the others move on.
  rejects = 0;
  net.isolate(l);
  for (let i = 0; i < 50; i++) net.node(l).propose(bytes(`junk${i}`));
  net.stabilize();
  const l2 = net.elect(200, [f1, f2]);
  net.propose('after');
  net.heal();
  net.tick(2 * net.config.electionTicks);
  ok(rejects <= 2, `divergent follower: ${rejects} rejects`);
  is(net.leader(), l2);
  equal(net.applied.get(l)!.at(-1), 'after');
});

t('§7 a follower behind the first index catches up through InstallSnapshot; its log then starts at the snapshot', () => {
  const net = new RaftNetwork(ABC, { seed: 41, config: { snapshotEveryEntries: 20 } });
  const l = net.elect();
  const lagger = ABC.find((id) => id !== l)!;
  net.crash(lagger);
  for (let i = 0; i < 60; i++) net.propose(`v${i}`);
  for (const id of ABC) if (id !== lagger) net.compact(id);
  const snapIndex = net.node(l).status().firstIndex - 1;
  ok(snapIndex > 60, `leader compacted to ${snapIndex}`);
  net.propose('tail');
  let snapshots = 0;
  net.dropIf = (m) => {
    if (m.type === 'snapshot') snapshots++;
    return false;
  };
  net.start(lagger);
  net.tick(3);
  is(snapshots, 1, 'exactly one snapshot sent');
  const s = net.node(lagger).status();
  is(s.firstIndex, snapIndex + 1, 'log starts after the snapshot');
  is(s.commit, net.node(l).status().commit);
  equal(net.applied.get(lagger), net.applied.get(l), 'state machine restored from the snapshot, then the tail applied');
  is(net.disks.get(lagger)!.snapshot?.index, snapIndex, 'snapshot persisted');
  // It keeps replicating normally afterwards.
  net.propose('more');
  is(net.applied.get(lagger)!.at(-1), 'more');
  // And a restart recovers from the persisted snapshot + log.
  net.crash(lagger);
  net.start(lagger);
  net.tick(2);
  equal(net.applied.get(lagger), net.applied.get(l));
});

t('§7 Ready.shouldSnapshot asks for compaction every snapshotEveryEntries applied entries', () => {
  const net = new RaftNetwork(ABC, { seed: 42, config: { snapshotEveryEntries: 10 } });
  net.autoCompact = true;
  const l = net.elect();
  for (let i = 0; i < 35; i++) net.propose(`v${i}`);
  for (const id of ABC) {
    const s = net.node(id).status();
    ok(s.firstIndex > 20, `${id} compacted (first index ${s.firstIndex})`);
    ok(s.applied - (s.firstIndex - 1) < 10, `${id} keeps fewer than 10 applied entries`);
  }
  equal(net.applied.get(l)!.length, 35);
});

t('§5.3 appends respect maxEntriesPerAppendBytes but always carry at least one entry', () => {
  const net = new RaftNetwork(ABC, { seed: 51, config: { maxEntriesPerAppendBytes: 100 } });
  const l = net.elect();
  let biggest = 0;
  net.dropIf = (m) => {
    if (m.type === 'append') biggest = Math.max(biggest, m.entries.length);
    return false;
  };
  net.partition([l], ABC.filter((id) => id !== l));
  for (let i = 0; i < 20; i++) net.node(l).propose(bytes('0123456789'));
  net.node(l).propose(new Uint8Array(500));
  net.stabilize(); // the appends are lost to the partition
  net.heal();
  net.tick(3);
  ok(biggest > 1 && biggest <= 4, `batches of ${biggest} entries of 26 counted bytes`);
  for (const id of ABC) is(net.node(id).status().commit, net.node(l).status().lastIndex, `${id} caught up`);
});

t.run();
