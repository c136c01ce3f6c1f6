// Linearizable reads without writing to the log (thesis §6.4).
import { suite, equal, is } from '../../../harness.js';
import { RaftNetwork } from './network.js';

const t = suite('raft read index');

t('thesis §6.4 a read is released only after a heartbeat round reaches a majority', () => {
  const net = new RaftNetwork(['a', 'b', 'c'], { seed: 81 });
  const l = net.elect();
  net.propose('x');
  const commit = net.node(l).status().commit;
  net.dropIf = (m) => m.type === 'heartbeatResp';
  net.node(l).readIndex('r1');
  net.tick(3);
  equal(net.reads.get(l), [], 'no quorum of answers, no read');
  net.dropIf = (m) => m.type === 'heartbeatResp' && m.from !== ['a', 'b', 'c'].find((id) => id !== l);
  net.tick(1);
  equal(net.reads.get(l), [{ index: commit, ctx: 'r1' }], 'one follower + the leader is a majority of three');
  net.node(l).readIndex('r2');
  net.node(l).readIndex('r3');
  net.stabilize();
  equal(net.reads.get(l)!.map((r) => r.ctx), ['r1', 'r2', 'r3'], 'released in order');
});

t('thesis §6.4 a new leader serves reads only after committing an entry of its term (its no-op)', () => {
  const net = new RaftNetwork(['a', 'b', 'c'], { seed: 82, config: { preVote: false, electionTicks: 1000 } });
  net.dropIf = (m) => m.type === 'append';
  net.node('a').campaign();
  net.stabilize();
  is(net.node('a').role, 'leader');
  is(net.node('a').status().commit, 3, 'the no-op (index 4) is not committed');
  net.node('a').readIndex('early');
  net.tick(2);
  equal(net.reads.get('a'), [], 'held back although heartbeats are answered');
  net.dropIf = undefined;
  net.tick(1);
  equal(net.reads.get('a'), [{ index: 4, ctx: 'early' }], 'index is the no-op, committed in the leader\'s term');
  is(net.node('a').status().applied >= 4, true);
});

t('thesis §6.4 a single-node cluster answers reads at once', () => {
  const net = new RaftNetwork(['s'], { seed: 83 });
  net.elect();
  net.node('s').readIndex('q');
  net.stabilize();
  equal(net.reads.get('s'), [{ index: 2, ctx: 'q' }]);
});

t.run();
