// Store objects as the local API shows them (agent/swarm/views.ts): docker's
// node references, the host of an address, and a node's ManagerStatus.
import { suite, is, ok, equal } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import { seededRand } from '../../../shared/rand.js';
import { CertificateAuthority } from '../../../agent/cluster/ca/ca.js';
import { generateNodeKey } from '../../../agent/cluster/ca/node-key.js';
import type { Node, NodeRole } from '../../../agent/cluster/store/types.js';
import { hostOf, nodeView, resolveNodeRef, type ManagerFacts } from '../../../agent/swarm/views.js';

const t = suite('swarm/views');

function node(id: string, hostname: string, over: Partial<Node> = {}): Node {
  return {
    id,
    role: 'worker',
    availability: 'active',
    hostname,
    addr: '10.0.0.2:2377',
    dataAddr: '10.0.0.2',
    publicKey: new Uint8Array(32),
    labels: {},
    status: { state: 'ready', message: '' },
    meta: { version: 7, createdAtIndex: 3, updatedAtIndex: 7 },
    ...over,
  };
}

/** resolveNodeRef found exactly the node with this id. */
function finds(nodes: Node[], ref: string, id: string): void {
  const r = resolveNodeRef(nodes, ref);
  ok(!('error' in r), `${ref}: expected node ${id}, got ${JSON.stringify(r)}`);
  is((r as Node).id, id);
  is(r, nodes.find((n) => n.id === id), 'the same object');
}

function fails(nodes: Node[], ref: string, error: 'not-found' | 'ambiguous', message: string): void {
  equal(resolveNodeRef(nodes, ref), { error, message });
}

// ---- resolveNodeRef -------------------------------------------------------

t('resolveNodeRef: an exact id', () => {
  const nodes = [node('abc123', 'alpha'), node('abd456', 'beta')];
  finds(nodes, 'abc123', 'abc123');
  finds(nodes, 'abd456', 'abd456');
});

t('resolveNodeRef: an exact id beats a hostname equal to it', () => {
  // Node "bbb" is named after the other's id: the id wins.
  const nodes = [node('xyz', 'host'), node('bbb', 'xyz')];
  finds(nodes, 'xyz', 'xyz');
});

t('resolveNodeRef: a hostname beats an id prefix', () => {
  const nodes = [node('web9999', 'db'), node('db00001', 'web')];
  finds(nodes, 'web', 'db00001');
  finds(nodes, 'db', 'web9999');
  // Even when the prefix would be ambiguous.
  const more = [node('web1', 'a'), node('web2', 'b'), node('zzz', 'web')];
  finds(more, 'web', 'zzz');
});

t('resolveNodeRef: a unique id prefix', () => {
  const nodes = [node('abc123', 'alpha'), node('abd456', 'beta')];
  finds(nodes, 'abc', 'abc123');
  finds(nodes, 'abd4', 'abd456');
  finds(nodes, 'abc12', 'abc123');
});

t('resolveNodeRef: an ambiguous hostname names the count', () => {
  const nodes = [node('a1', 'twin'), node('b2', 'twin'), node('c3', 'twin'), node('d4', 'other')];
  fails(nodes, 'twin', 'ambiguous', 'node twin is ambiguous (3 matches)');
  // The exact id still reaches each of them.
  finds(nodes, 'b2', 'b2');
});

t('resolveNodeRef: an ambiguous prefix names the count', () => {
  const nodes = [node('abc123', 'alpha'), node('abd456', 'beta'), node('xyz', 'gamma')];
  fails(nodes, 'ab', 'ambiguous', 'node ab is ambiguous (2 matches)');
  fails(nodes, '', 'ambiguous', 'node  is ambiguous (3 matches)');
});

t('resolveNodeRef: not found', () => {
  const nodes = [node('abc123', 'alpha'), node('abd456', 'beta')];
  fails(nodes, 'zz', 'not-found', 'node zz not found');
  fails(nodes, 'abc1234', 'not-found', 'node abc1234 not found'); // longer than the id: not a prefix
  fails(nodes, 'ALPHA', 'not-found', 'node ALPHA not found'); // hostnames are case-sensitive
  fails([], 'x', 'not-found', 'node x not found');
});

// ---- hostOf ---------------------------------------------------------------

t('hostOf: IPv4 with a port, IPv6 in brackets, a bare host', () => {
  is(hostOf('1.2.3.4:2377'), '1.2.3.4');
  is(hostOf('[::1]:2377'), '::1');
  is(hostOf('[fd00::1:2]:4789'), 'fd00::1:2');
  is(hostOf('host'), 'host');
  is(hostOf('node-1.example:2377'), 'node-1.example');
});

// ---- nodeView -------------------------------------------------------------

const facts = (over: Partial<ManagerFacts> = {}): ManagerFacts => ({ leaderId: 'm1', voters: ['m1', 'm2', 'm3'], reachable: new Set(['m1', 'm2']), ...over });

t('nodeView: the leader is reachable and Leader', () => {
  const v = nodeView(node('m1', 'one', { role: 'manager', addr: '10.0.0.1:2377' }), facts());
  equal(v.ManagerStatus, { Leader: true, Reachability: 'reachable', Addr: '10.0.0.1:2377' });
});

t('nodeView: a reachable follower', () => {
  const v = nodeView(node('m2', 'two', { role: 'manager', addr: '10.0.0.2:2377' }), facts());
  equal(v.ManagerStatus, { Leader: false, Reachability: 'reachable', Addr: '10.0.0.2:2377' });
});

t('nodeView: a voter the leader has not heard from is unreachable', () => {
  const v = nodeView(node('m3', 'three', { role: 'manager', addr: '[fd00::3]:2377' }), facts());
  equal(v.ManagerStatus, { Leader: false, Reachability: 'unreachable', Addr: '[fd00::3]:2377' });
  is(v.Status.Addr, 'fd00::3');
});

t('nodeView: a manager that is not (yet) a voter and not heard from is unknown', () => {
  const v = nodeView(node('m4', 'four', { role: 'manager' }), facts());
  equal(v.ManagerStatus, { Leader: false, Reachability: 'unknown', Addr: '10.0.0.2:2377' });
});

t('nodeView: a voter whose role says worker (being demoted) still shows its ManagerStatus', () => {
  const v = nodeView(node('m3', 'three', { role: 'worker' }), facts());
  equal(v.ManagerStatus, { Leader: false, Reachability: 'unreachable', Addr: '10.0.0.2:2377' });
});

t('nodeView: no leader known: nobody is Leader', () => {
  const v = nodeView(node('m1', 'one', { role: 'manager' }), facts({ leaderId: undefined, reachable: new Set() }));
  equal(v.ManagerStatus, { Leader: false, Reachability: 'unreachable', Addr: '10.0.0.2:2377' });
});

t('nodeView: workers have no ManagerStatus', () => {
  const v = nodeView(node('w1', 'worker-1'), facts());
  is(v.ManagerStatus, undefined);
  is('ManagerStatus' in v, false);
});

t('nodeView: the whole object of a worker', () => {
  const n = node('w1', 'worker-1', {
    availability: 'drain',
    labels: { zone: 'a' },
    status: { state: 'down', message: 'heartbeat failure' },
    joinedAtMs: 1_767_225_600_000,
    engineVersion: '0.1.0',
    addr: '1.2.3.4:2377',
  });
  const v = nodeView(n, facts());
  equal(v, {
    ID: 'w1',
    Version: { Index: 7 },
    CreatedAt: '2026-01-01T00:00:00.000Z',
    UpdatedAt: '',
    Spec: { Role: 'worker', Availability: 'drain', Labels: { zone: 'a' } },
    Description: { Hostname: 'worker-1', Platform: { OS: 'linux', Architecture: process.arch }, Engine: { EngineVersion: '0.1.0' } },
    Status: { State: 'down', Message: 'heartbeat failure', Addr: '1.2.3.4' },
  });
  // Labels are a copy: the view cannot change the store.
  v.Spec.Labels.zone = 'b';
  is(n.labels.zone, 'a');
  // Absent join time and engine version show as empty strings.
  const bare = nodeView(node('w2', 'w'), facts());
  is(bare.CreatedAt, '');
  is(bare.Description.Engine.EngineVersion, '');
});

t('nodeView: a node with a certificate shows its serial and expiry', () => {
  const clock = new ManualClock();
  const rand = seededRand(5);
  const ca = CertificateAuthority.create(rand, clock);
  const key = generateNodeKey(rand);
  const role: NodeRole = 'manager';
  const cert = ca.issue({ nodeId: key.nodeId, role, publicKey: key.publicKey, validityMs: 60_000 });
  const v = nodeView(node(key.nodeId, 'h', { role, certificate: cert.bytes }), facts({ leaderId: key.nodeId, voters: [key.nodeId], reachable: new Set([key.nodeId]) }));
  equal(v.Certificate, { Serial: cert.serial, NotAfterMs: clock.wallMs() + 60_000 });
  is(v.ManagerStatus?.Leader, true);
});

t.run();
