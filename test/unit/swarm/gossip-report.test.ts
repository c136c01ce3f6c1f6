// A node's gossip health (issue 11), from its heartbeat to `node inspect`:
// the report read off the wire (agent/swarm/datapath-report.ts), summed up as
// NodeInspect.Gossip, and shown by `node inspect --pretty` (node-pretty.ts).
import { suite, equal, is, ok, throws } from '../../harness.js';
import type { NodeInspect } from '../../../agent/api/types.js';
import { prettyNode } from '../../../agent/cli/node-pretty.js';
import { FieldError } from '../../../agent/cluster/store/validate.js';
import { heartbeatReport, nodeGossip, parseDatapathReport } from '../../../agent/swarm/datapath-report.js';

const t = suite('swarm/gossip-report');

const g = { alive: 3, suspect: 0, dead: 0, probeFailures: 2, keyGenerations: [1, 2], dropped: 5 };

t('the gossip report is read as sent, and absent when the node says nothing of it', () => {
  equal(parseDatapathReport({ networks: [], gossip: g }), { networks: [], gossip: g });
  equal(parseDatapathReport({ networks: [] }), { networks: [] });
  equal(parseDatapathReport({ networks: [], gossip: null }), { networks: [] });
});

t('a bad gossip report is refused naming the field; off a heartbeat it becomes the node\'s error, not a lost session', () => {
  throws(() => parseDatapathReport({ networks: [], gossip: { ...g, alive: -1 } }), (e: unknown) => e instanceof FieldError && /datapath\.gossip\.alive/.test((e as Error).message));
  throws(() => parseDatapathReport({ networks: [], gossip: { ...g, keyGenerations: 'x' } }), (e: unknown) => e instanceof FieldError && /gossip\.keyGenerations/.test((e as Error).message));
  const r = heartbeatReport({ datapath: { networks: [], gossip: { ...g, dead: 'many' } } });
  ok(r?.error !== undefined && /gossip\.dead/.test(r.error), JSON.stringify(r));
});

t('healthy while every member is alive; a suspect or dead member makes it degraded', () => {
  equal(nodeGossip(g), { State: 'healthy', MembersAlive: 3, MembersSuspect: 0, MembersDead: 0, ProbeFailures: 2, KeyGenerations: [1, 2], Dropped: 5 });
  is(nodeGossip({ ...g, suspect: 1 }).State, 'degraded');
  is(nodeGossip({ ...g, dead: 1 }).State, 'degraded');
});

t('node inspect --pretty shows the data path and gossip sections after docker\'s, only when reported', () => {
  const n = {
    ID: 'n1',
    Version: { Index: 1 },
    CreatedAt: '2026-11-26T00:00:00.000Z',
    UpdatedAt: '2026-11-26T00:00:00.000Z',
    Spec: { Role: 'worker', Availability: 'active', Labels: {} },
    Description: { Hostname: 'h1', Platform: { OS: 'linux', Architecture: 'x64' }, Engine: { EngineVersion: '0.1.0' } },
    Status: { State: 'ready', Addr: '192.0.2.11' },
  } as unknown as NodeInspect;
  const plain = prettyNode(n);
  ok(!plain.includes('Gossip:') && !plain.includes('Data Path:'), plain);
  const full = prettyNode({
    ...n,
    DataPath: { Networks: [{ NetworkID: 'x', Name: 'sec', Peers: [
      { NodeID: 'a', Hostname: 'h0', State: 'up', Reason: '', LastHandshake: null, TxBytes: 1, RxBytes: 1 },
      { NodeID: 'b', Hostname: 'h2', State: 'failed', Reason: 'no answer', LastHandshake: null, TxBytes: 0, RxBytes: 0 },
    ] }] },
    Gossip: nodeGossip({ ...g, suspect: 1 }),
  });
  ok(/Data Path:\n Encrypted Networks:\s+1\n Sessions Up:\s+1 of 2\n\s+h2:\s+failed \(no answer\)\n/.test(full), full);
  ok(/Gossip:\n State:\s+Degraded\n Members:\s+3 alive, 1 suspect, 0 dead\n Probe Failures:\s+2\n Key Generations:\s+1, 2\n Dropped:\s+5\n$/.test(full), full);
});

t.run();
