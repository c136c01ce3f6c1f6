// The Ready/advance contract between the core and its host, and restarts
// from persisted state (paper figure 2: term, vote and log are persisted
// before answering).
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { bytes, RaftNetwork } from './network.js';
import { RaftNode } from '../../../../agent/cluster/raft/raft-node.js';
import { testRaftConfig } from '../../../../agent/cluster/raft/config.js';
import { seededRand } from '../../../../shared/rand.js';

const t = suite('raft ready');

t('figure 2 the first Ready of a bootstrapping node persists its configuration entries and hard state', () => {
  const n = new RaftNode({ id: 'a', config: testRaftConfig(), rand: seededRand(1), bootstrap: ['c', 'a', 'b'] });
  ok(n.hasReady());
  const rd = n.ready();
  equal(rd.hardState, { term: 1, vote: undefined, commit: 3 });
  equal(rd.entries.map((e) => [e.index, e.term, e.type]), [[1, 1, 'conf'], [2, 1, 'conf'], [3, 1, 'conf']]);
  is(rd.committedEntries.length, 3, 'applied after being persisted');
  equal(rd.softState, undefined, 'still a follower with no leader');
  throws(() => n.ready(), /previous Ready was not advanced/);
  n.advance();
  is(n.hasReady(), false);
  throws(() => n.advance(), /no Ready outstanding/);
  equal(n.status().voters, ['a', 'b', 'c']);
});

t('a single node: a proposal comes back as an entry to persist and, in the same Ready, to apply', () => {
  const n = new RaftNode({ id: 's', config: testRaftConfig(), rand: seededRand(2), bootstrap: ['s'] });
  n.ready();
  n.advance();
  n.campaign();
  const rd1 = n.ready();
  equal(rd1.softState, { role: 'leader', leaderId: 's', term: 2 });
  n.advance();
  const p = n.propose(bytes('hello'));
  equal(p, { index: 3, term: 2 });
  const rd = n.ready();
  equal(rd.entries.map((e) => e.index), [3]);
  equal(rd.committedEntries.map((e) => e.index), [3]);
  equal(rd.hardState, { term: 2, vote: 's', commit: 3 });
  n.advance();
  is(n.status().applied, 3);
});

t('restarting every node from its disk keeps terms, votes and committed data', () => {
  const net = new RaftNetwork(['a', 'b', 'c'], { seed: 91 });
  net.elect();
  net.propose('one');
  net.propose('two');
  const before = new Map(['a', 'b', 'c'].map((id) => [id, { term: net.node(id).term, vote: net.node(id).status().vote }]));
  for (const id of ['a', 'b', 'c']) net.crash(id);
  for (const id of ['a', 'b', 'c']) {
    const n = net.start(id);
    equal({ term: n.term, vote: n.status().vote }, before.get(id), `${id} (${net.why})`);
  }
  net.elect();
  net.propose('three');
  for (const id of ['a', 'b', 'c']) equal(net.applied.get(id), ['one', 'two', 'three'], `${id} (${net.why})`);
});

t.run();
