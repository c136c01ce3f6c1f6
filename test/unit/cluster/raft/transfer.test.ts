// Leadership transfer (thesis §3.10).
import { suite, is, ok, throws } from '../../../harness.js';
import { bytes, RaftNetwork } from './network.js';
import { ProposalDroppedError } from '../../../../agent/cluster/raft/errors.js';

const t = suite('raft leadership transfer');

t('thesis §3.10 transfer to an up-to-date follower: it campaigns at once and wins the next term', () => {
  const net = new RaftNetwork(['a', 'b', 'c'], { seed: 71 });
  const l = net.elect();
  const term = net.node(l).term;
  const target = ['a', 'b', 'c'].find((id) => id !== l)!;
  let timeoutNow = 0;
  let preVotes = 0;
  net.dropIf = (m) => {
    if (m.type === 'timeoutNow') timeoutNow++;
    if (m.type === 'preVote') preVotes++;
    return false;
  };
  net.node(l).transferLeadership(target);
  net.stabilize();
  is(timeoutNow, 1);
  is(preVotes, 0, 'the target skips pre-vote');
  is(net.leader(), target, net.why);
  is(net.node(target).term, term + 1);
  is(net.node(l).role, 'follower');
  net.propose('after');
});

t('thesis §3.10 a lagging target is first brought up to date; proposals are refused meanwhile', () => {
  const net = new RaftNetwork(['a', 'b', 'c'], { seed: 72 });
  const l = net.elect();
  const target = ['a', 'b', 'c'].find((id) => id !== l)!;
  net.partition([target]);
  for (let i = 0; i < 10; i++) net.propose(`v${i}`);
  net.dropIf = (m) => m.to === target && m.type !== 'heartbeat'; // heal, but let only heartbeats through for now
  net.heal();
  net.node(l).transferLeadership(target);
  net.stabilize();
  throws(() => net.node(l).propose(bytes('x')), (e: unknown) => e instanceof ProposalDroppedError && e.reason === 'transfer-in-progress');
  is(net.node(l).role, 'leader', 'nothing happens until the target catches up');
  net.dropIf = undefined;
  net.tick(1);
  is(net.leader(), target, net.why);
  is(net.applied.get(target)!.length, 10, 'the new leader has every committed entry');
});

t('thesis §3.10 a transfer that does not finish within an election timeout is abandoned', () => {
  const net = new RaftNetwork(['a', 'b', 'c'], { seed: 73 });
  const l = net.elect();
  const target = ['a', 'b', 'c'].find((id) => id !== l)!;
  net.crash(target);
  net.node(l).transferLeadership(target);
  is(net.node(l).status().leadTransferee, target);
  throws(() => net.node(l).propose(bytes('x')), (e: unknown) => e instanceof ProposalDroppedError);
  net.tick(net.config.electionTicks);
  is(net.node(l).status().leadTransferee, undefined);
  is(net.node(l).role, 'leader');
  net.propose('accepted again');
  ok(net.applied.get(l)!.includes('accepted again'));
});

t.run();
