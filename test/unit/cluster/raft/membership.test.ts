// Single-server membership changes (thesis §4.1, §4.2.2).
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { RaftNetwork } from './network.js';
import { ProposalDroppedError } from '../../../../agent/cluster/raft/errors.js';

const t = suite('raft membership');

t('thesis §4.1 add a voter, then remove one; quorum follows the current configuration', () => {
  const net = new RaftNetwork(['a', 'b', 'c'], { seed: 61 });
  const l = net.elect();
  net.propose('before');
  net.start('d'); // joins empty: no bootstrap, no persisted state
  is(net.node('d').status().voters.length, 0, 'a joining node knows no configuration');
  net.node(l).proposeConfChange({ type: 'add', id: 'd' });
  net.stabilize();
  net.tick(2);
  for (const id of ['a', 'b', 'c', 'd']) equal(net.node(id).status().voters, ['a', 'b', 'c', 'd'], `${id} (${net.why})`);
  equal(net.applied.get('d'), ['before'], 'the new voter caught up');

  const victim = ['a', 'b', 'c'].find((id) => id !== l)!;
  net.node(l).proposeConfChange({ type: 'remove', id: victim });
  net.stabilize();
  net.crash(victim);
  const rest = ['a', 'b', 'c', 'd'].filter((id) => id !== victim);
  for (const id of rest) ok(!net.node(id).status().voters.includes(victim), `${id} dropped ${victim}`);
  net.propose('after');
  for (const id of rest) equal(net.applied.get(id), ['before', 'after'], `${id}: 2 of 3 is a quorum now`);
  // Lose both other voters: 1 of 3 cannot commit.
  for (const id of rest) if (id !== l) net.crash(id);
  const commit = net.node(l).status().commit;
  net.node(l).propose(new TextEncoder().encode('stuck'));
  net.stabilize();
  is(net.node(l).status().commit, commit, 'no majority, no commit');
});

t('thesis §4.1 a configuration takes effect when appended, before it commits', () => {
  const net = new RaftNetwork(['a', 'b', 'c'], { seed: 62, config: { checkQuorum: false } });
  const l = net.elect();
  net.isolate(l);
  net.node(l).proposeConfChange({ type: 'add', id: 'd' });
  net.stabilize();
  equal(net.node(l).status().voters, ['a', 'b', 'c', 'd'], 'in force on the leader');
  ok(net.node(l).status().progress!.has('d'), 'the leader tracks the new voter');
  const f = ['a', 'b', 'c'].find((id) => id !== l)!;
  equal(net.node(f).status().voters, ['a', 'b', 'c'], 'not on a follower that has not got the entry');
  throws(() => net.node(l).proposeConfChange({ type: 'add', id: 'e' }), (e: unknown) => e instanceof ProposalDroppedError && e.reason === 'conf-change-pending', 'one change at a time');
  // The change is overwritten by the majority's new leader: the old configuration comes back (thesis §4.1).
  const l2 = net.elect(200, ['a', 'b', 'c'].filter((id) => id !== l));
  net.propose('x');
  net.heal();
  net.tick(2 * net.config.electionTicks);
  equal(net.node(l).status().voters, ['a', 'b', 'c'], 'truncated away, the previous configuration is back');
  is(net.leader(), l2);
});

t('thesis §4.1 invalid changes are refused with exact messages', () => {
  const net = new RaftNetwork(['a', 'b', 'c'], { seed: 63 });
  const l = net.elect();
  throws(() => net.node(l).proposeConfChange({ type: 'add', id: 'b' }), /b is already a voter/);
  throws(() => net.node(l).proposeConfChange({ type: 'remove', id: 'zz' }), /zz is not a voter/);
  const solo = new RaftNetwork(['s'], { seed: 64 });
  solo.elect();
  throws(() => solo.node('s').proposeConfChange({ type: 'remove', id: 's' }), /the last voter/);
});

t('thesis §4.2.2 a leader that removes itself steps down once the removal commits, and never campaigns again', () => {
  const net = new RaftNetwork(['a', 'b', 'c'], { seed: 65 });
  const l = net.elect();
  net.node(l).proposeConfChange({ type: 'remove', id: l });
  net.stabilize();
  is(net.node(l).role, 'follower', net.why);
  const rest = ['a', 'b', 'c'].filter((id) => id !== l);
  for (const id of rest) is(net.node(id).status().voters.includes(l), false);
  const l2 = net.elect(200, rest);
  ok(l2 !== l);
  net.tick(5 * net.config.electionTicks);
  is(net.node(l).role, 'follower', 'a removed server stays follower');
  is(net.leader(), l2, 'and does not disrupt the new leader');
  net.propose('fine');
  for (const id of rest) equal(net.applied.get(id), ['fine']);
});

t.run();
