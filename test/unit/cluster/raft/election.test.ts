// Leader election: paper §5.2 (randomized timeouts, one vote per term),
// §5.4.1 (election restriction), thesis §9.6 (pre-vote), thesis §6.2 and
// §4.2.3 (check-quorum, leader stickiness).
import { suite, equal, is, ok } from '../../../harness.js';
import { RaftNetwork } from './network.js';
import { RaftNode } from '../../../../agent/cluster/raft/raft-node.js';
import { testRaftConfig } from '../../../../agent/cluster/raft/config.js';
import type { RaftMessage, VoteRequest, VoteResponse } from '../../../../agent/cluster/raft/messages.js';
import { seededRand } from '../../../../shared/rand.js';

const t = suite('raft election');

t('§5.2 basic election: three nodes agree on one leader and commit its no-op', () => {
  for (const seed of [1, 2, 3]) {
    const net = new RaftNetwork(['a', 'b', 'c'], { seed });
    const l = net.elect();
    const term = net.node(l).term;
    for (const id of ['a', 'b', 'c']) {
      const s = net.node(id).status();
      is(s.leaderId, l, `${id} knows the leader (${net.why})`);
      is(s.term, term, net.why);
      // 3 bootstrap conf entries + the leader's no-op (§8)
      is(s.commit, 4, `${id} commit (${net.why})`);
      is(s.applied, 4, net.why);
    }
  }
});

t('§5.2 a single-node cluster elects itself on its first timeout', () => {
  const net = new RaftNetwork(['solo'], { seed: 7 });
  is(net.elect(), 'solo');
  net.propose('x');
  equal(net.applied.get('solo'), ['x']);
});

t('§5.2 election timeouts are drawn from [electionTicks, 2·electionTicks)', () => {
  const cfg = testRaftConfig();
  const seen = new Set<number>();
  for (let seed = 0; seed < 60; seed++) {
    const n = new RaftNode({ id: 'a', config: cfg, rand: seededRand(seed), bootstrap: ['a', 'b', 'c'] });
    let ticks = 0;
    while (n.role === 'follower') {
      n.tick();
      ticks++;
    }
    ok(ticks >= cfg.electionTicks && ticks < 2 * cfg.electionTicks, `timeout ${ticks} (seed ${seed})`);
    seen.add(ticks);
  }
  ok(seen.size > 3, 'timeouts vary with the seed');
});

// Table: election safety must hold whatever the features, under reordering,
// loss, split votes and concurrent proposals.
const chaosCases = [
  { name: 'plain Raft', preVote: false, checkQuorum: false },
  { name: 'pre-vote + check-quorum', preVote: true, checkQuorum: true },
];
for (const c of chaosCases) {
  t(`§5.2 election safety and §5.4.3 state machine safety under chaos (${c.name})`, () => {
    for (let seed = 100; seed < 116; seed++) {
      // electionTicks 2 makes timeouts collide often: split votes galore.
      const net = new RaftNetwork(['a', 'b', 'c', 'd', 'e'], { seed, config: { preVote: c.preVote, checkQuorum: c.checkQuorum, electionTicks: 2 } });
      const rand = seededRand(seed * 7919);
      let maxTerm = 0;
      let leaders = 0;
      for (let step = 0; step < 4000; step++) {
        net.chaosStep(rand, 0.1);
        if (net.leader() !== undefined) leaders++;
        for (const n of net.nodes.values()) maxTerm = Math.max(maxTerm, n.term);
      }
      ok(maxTerm > 3, `several elections happened (max term ${maxTerm}, ${net.why})`);
      ok(leaders > 0, `some leader was elected (${net.why})`);
      // Heal: the cluster must converge on one leader that commits. An
      // uncommitted proposal may be lost to a late election (clients retry),
      // and a probe lost in the chaos is retried after a heartbeat round.
      const everywhere = () => [...net.nodes.keys()].every((id) => net.applied.get(id)!.includes('final'));
      for (let attempt = 0; attempt < 10 && !everywhere(); attempt++) {
        net.elect(400);
        net.propose('final');
        net.tick(3);
      }
      ok(everywhere(), `every node applied the last value (${net.why})`);
    }
  });
}

function voteReq(from: string, to: string, term: number, lastIndex: number, lastTerm: number, type: 'vote' | 'preVote' = 'vote', transfer = false): VoteRequest {
  return { type, from, to, term, lastIndex, lastTerm, transfer };
}

function take(n: RaftNode): RaftMessage[] {
  const rd = n.ready();
  n.advance();
  return rd.messages;
}

function answer(msgs: RaftMessage[]): VoteResponse {
  is(msgs.length, 1);
  const m = msgs[0]!;
  ok(m.type === 'voteResp' || m.type === 'preVoteResp');
  return m as VoteResponse;
}

t('§5.4.1 a vote goes only to a candidate whose log is at least as up to date', () => {
  const cfg = { ...testRaftConfig(), preVote: false };
  // Log: bootstrap entries 1..3 at term 1.
  const cases = [
    { lastIndex: 3, lastTerm: 1, grant: true, why: 'same last entry' },
    { lastIndex: 5, lastTerm: 1, grant: true, why: 'longer log, same last term' },
    { lastIndex: 2, lastTerm: 1, grant: false, why: 'shorter log, same last term' },
    { lastIndex: 1, lastTerm: 2, grant: true, why: 'higher last term wins over length' },
    { lastIndex: 9, lastTerm: 0, grant: false, why: 'lower last term loses despite length' },
  ];
  for (const c of cases) {
    const n = new RaftNode({ id: 'a', config: cfg, rand: seededRand(1), bootstrap: ['a', 'b', 'c'] });
    take(n);
    n.step(voteReq('b', 'a', 2, c.lastIndex, c.lastTerm));
    const r = answer(take(n));
    is(r.reject, !c.grant, c.why);
    is(n.term, 2, `${c.why}: a higher term is adopted either way (§5.1)`);
  }
});

t('§5.2 one vote per term, kept across a restart from persisted state', () => {
  const cfg = { ...testRaftConfig(), preVote: false };
  const n = new RaftNode({ id: 'a', config: cfg, rand: seededRand(1), bootstrap: ['a', 'b', 'c'] });
  take(n);
  n.step(voteReq('b', 'a', 2, 3, 1));
  const rd = n.ready();
  equal(rd.hardState, { term: 2, vote: 'b', commit: 3 }, 'the vote is in the hard state to persist before answering');
  is((rd.messages[0] as VoteResponse).reject, false);
  n.advance();
  n.step(voteReq('c', 'a', 2, 3, 1));
  is(answer(take(n)).reject, true, 'second candidate of the same term is refused');
  n.step(voteReq('b', 'a', 2, 3, 1));
  is(answer(take(n)).reject, false, 'a retransmitted request from the same candidate is granted again');

  // Restart from what the host persisted: same term, same vote.
  const restarted = new RaftNode({
    id: 'a',
    config: cfg,
    rand: seededRand(2),
    persisted: { hardState: rd.hardState!, snapshot: undefined, entries: rd.entries.length ? rd.entries : n.entries(1, 4) },
  });
  is(restarted.term, 2);
  is(restarted.status().vote, 'b');
  restarted.step(voteReq('c', 'a', 2, 3, 1));
  is(answer(take(restarted)).reject, true, 'never votes twice in a term, even after a restart');
});

t('§9.6 pre-vote: a pre-vote changes nobody\'s term and is granted only for an up-to-date log', () => {
  const n = new RaftNode({ id: 'a', config: testRaftConfig(), rand: seededRand(1), bootstrap: ['a', 'b', 'c'] });
  take(n);
  n.step(voteReq('b', 'a', 5, 3, 1, 'preVote'));
  const r = answer(take(n));
  is(r.type, 'preVoteResp');
  is(r.reject, false);
  is(r.term, 5, 'granted at the asked term');
  is(n.term, 1, 'the voter keeps its term');
  is(n.status().vote, undefined, 'and records no vote');
  n.step(voteReq('c', 'a', 5, 2, 1, 'preVote'));
  is(answer(take(n)).reject, true, 'stale log refused');
});

// Table: a node partitioned away comes back. With pre-vote it never bumped
// its term and the leader stays; without, its higher term deposes the leader.
const rejoin = [
  { name: 'pre-vote on', preVote: true, checkQuorum: true, disrupts: false },
  { name: 'pre-vote off', preVote: false, checkQuorum: false, disrupts: true },
];
for (const c of rejoin) {
  t(`thesis §9.6 a partitioned node rejoining (${c.name}) ${c.disrupts ? 'disrupts' : 'does not disrupt'} the leader`, () => {
    const net = new RaftNetwork(['a', 'b', 'c'], { seed: 42, config: { preVote: c.preVote, checkQuorum: c.checkQuorum } });
    const l = net.elect();
    const term = net.node(l).term;
    const lone = ['a', 'b', 'c'].find((id) => id !== l)!;
    net.isolate(lone);
    net.tick(100);
    is(net.leader(), l, net.why);
    if (c.disrupts) ok(net.node(lone).term > term, 'the lone node kept campaigning at higher terms');
    else is(net.node(lone).term, term, 'pre-vote kept the lone node at the old term');
    net.heal();
    net.tick(2 * net.config.electionTicks);
    if (c.disrupts) {
      ok(net.node(l).term > term, 'the old leader was forced to a new term');
    } else {
      is(net.leader(), l, `the leader survived (${net.why})`);
      for (const id of ['a', 'b', 'c']) is(net.node(id).term, term, `${id} term unchanged (${net.why})`);
      is(net.node(lone).leaderId, l, 'the lone node follows the leader again');
    }
  });
}

const isolation = [
  { name: 'check-quorum on', checkQuorum: true, stepsDown: true },
  { name: 'check-quorum off', checkQuorum: false, stepsDown: false },
];
for (const c of isolation) {
  t(`thesis §6.2 an isolated leader (${c.name}) ${c.stepsDown ? 'steps down' : 'stays leader'} within two election timeouts`, () => {
    const net = new RaftNetwork(['a', 'b', 'c'], { seed: 5, config: { checkQuorum: c.checkQuorum } });
    const l = net.elect();
    net.isolate(l);
    // The first check may still count answers from before the cut.
    net.tick(2 * net.config.electionTicks);
    is(net.node(l).role === 'leader', !c.stepsDown, net.why);
    const others = ['a', 'b', 'c'].filter((id) => id !== l);
    const l2 = net.elect(200, others);
    ok(l2 !== l);
    ok(net.node(l2).term > net.node(l).term || c.stepsDown, net.why);
  });
}

t('thesis §4.2.3 a follower that hears from a live leader ignores a higher-term vote request, unless it comes from a transfer', () => {
  const net = new RaftNetwork(['a', 'b', 'c'], { seed: 9 });
  const l = net.elect();
  const f = ['a', 'b', 'c'].find((id) => id !== l)!;
  const other = ['a', 'b', 'c'].find((id) => id !== l && id !== f)!;
  const node = net.node(f);
  const term = node.term;
  const last = node.status().lastIndex;
  node.step(voteReq(other, f, term + 1, last, term));
  is(node.term, term, 'ignored: term unchanged');
  is(node.ready().messages.length, 0, 'and no answer');
  node.advance();
  node.step(voteReq(other, f, term + 1, last, term, 'vote', true));
  is(node.term, term + 1, 'a transfer campaign is heard');
  is(answer(take(node)).reject, false);
});

t.run();
