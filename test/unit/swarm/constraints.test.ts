// Placement constraints (agent/swarm/constraints.ts): the forms docker's
// --constraint takes for nodes, swarmkit's matching rules (case-insensitive
// fields and values, case-sensitive label keys, a missing label is ""), and
// one exact line per malformed constraint.
import { suite, equal, is, throws } from '../../harness.js';
import type { Node } from '../../../agent/cluster/store/types.js';
import { constraintMatches, nodeMatches, parseConstraint } from '../../../agent/swarm/constraints.js';

const t = suite('swarm/constraints');

function node(over: Partial<Node> = {}): Node {
  return {
    id: 'node1aaaaaaaaaaaaaaaaaaaa',
    role: 'worker',
    availability: 'active',
    hostname: 'Box-1',
    addr: '192.0.2.1:2377',
    dataAddr: '192.0.2.1',
    publicKey: new Uint8Array(32),
    labels: { zone: 'east', Disk: 'SSD' },
    status: { state: 'ready', message: '' },
    meta: { version: 1, createdAtIndex: 1, updatedAtIndex: 1 },
    ...over,
  };
}

t('parses each field with == and !=, blanks around the operator allowed', () => {
  equal(parseConstraint('node.id==abc'), { field: 'node.id', op: '==', value: 'abc' });
  equal(parseConstraint('node.hostname != box-1'), { field: 'node.hostname', op: '!=', value: 'box-1' });
  equal(parseConstraint('  node.role == manager  '), { field: 'node.role', op: '==', value: 'manager' });
  equal(parseConstraint('node.labels.zone==east'), { field: 'node.labels', label: 'zone', op: '==', value: 'east' });
  equal(parseConstraint('node.labels.a.b!=c d'), { field: 'node.labels', label: 'a.b', op: '!=', value: 'c d' });
  // Field names are case-insensitive (swarmkit EqualFold); the label key keeps its case.
  equal(parseConstraint('Node.Role==Worker'), { field: 'node.role', op: '==', value: 'Worker' });
  equal(parseConstraint('NODE.LABELS.Disk==ssd'), { field: 'node.labels', label: 'Disk', op: '==', value: 'ssd' });
});

t('malformed constraints: one exact line each', () => {
  const shape = 'expected node.id, node.hostname, node.role or node.labels.<key> with == or !=';
  const cases: [string, string][] = [
    ['node.id=abc', `invalid constraint "node.id=abc": ${shape}`],
    ['node.ip==10.0.0.1', `invalid constraint "node.ip==10.0.0.1": ${shape}`],
    ['engine.labels.x==y', `invalid constraint "engine.labels.x==y": ${shape}`],
    ['node.labels.==y', `invalid constraint "node.labels.==y": ${shape}`],
    ['==y', `invalid constraint "==y": ${shape}`],
    ['', `invalid constraint "": ${shape}`],
    ['node.role', `invalid constraint "node.role": ${shape}`],
    ['node.id==', 'invalid constraint "node.id==": expected a value after =='],
    ['node.id !=  ', 'invalid constraint "node.id !=  ": expected a value after !='],
    ['node.id==a==b', 'invalid constraint "node.id==a==b": the value "a==b" may not contain =, !, < or >'],
    ['node.role==boss', 'invalid constraint "node.role==boss": node.role is manager or worker, got "boss"'],
  ];
  for (const [s, message] of cases) throws(() => parseConstraint(s), (e: Error) => e.message === message, s);
});

t('matching: values case-insensitive, a missing label is "", != its negation', () => {
  const n = node();
  const m = (s: string) => constraintMatches(n, parseConstraint(s));
  is(m('node.id==node1aaaaaaaaaaaaaaaaaaaa'), true);
  is(m('node.id==NODE1AAAAAAAAAAAAAAAAAAAA'), true);
  is(m('node.id!=node1aaaaaaaaaaaaaaaaaaaa'), false);
  is(m('node.hostname==box-1'), true);
  is(m('node.role==worker'), true);
  is(m('node.role==manager'), false);
  is(m('node.role!=manager'), true);
  is(m('node.labels.zone==EAST'), true);
  is(m('node.labels.disk==ssd'), false, 'label keys are case-sensitive');
  is(m('node.labels.Disk==ssd'), true);
  is(m('node.labels.rack!=r1'), true, 'a node without the label matches !=');
  is(m('node.labels.rack==r1'), false);
});

t('nodeMatches: all must hold; none given matches; an invalid one matches nothing and does not throw', () => {
  const n = node({ role: 'manager' });
  is(nodeMatches(n, []), true);
  is(nodeMatches(n, ['node.role==manager', 'node.labels.zone==east']), true);
  is(nodeMatches(n, ['node.role==manager', 'node.labels.zone==west']), false);
  is(nodeMatches(n, ['node.role==manager', 'node.ip==1.2.3.4']), false);
});

t.run();
