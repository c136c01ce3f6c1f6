// agent/metrics/collect.ts with stand-ins for the planes: a manager, a
// worker, a node outside any swarm; every line read back by the test parser,
// and the values that must follow from the planes' counters.
import { suite, equal, is, ok } from '../../harness.js';
import { metricsCollector } from '../../../agent/metrics/collect.js';
import { LbReader } from '../../../agent/metrics/lb-reader.js';
import type { MetricsPlanes, StoreView, SwarmPlane } from '../../../agent/metrics/planes.js';
import type { SwarmInfo } from '../../../agent/api/types.js';
import type { Key, Network, Node } from '../../../agent/cluster/store/types.js';
import { DROP_REASONS, type ForwarderStats, type NetworkStats } from '../../../agent/datapath/forwarder.js';
import { COUNTERS, HANDSHAKES, INITIATIONS_SENT, snapshotStats, type PeerStatus } from '../../../agent/datapath/secure/stats.js';
import type { DnsStats } from '../../../agent/discovery/dns-server.js';
import type { SwimStats } from '../../../agent/gossip/swim/outputs.js';
import type { RunOptions, RunResult } from '../../../agent/host/run.js';
import type { Logger } from '../../../agent/daemon/log.js';
import { ManualClock } from '../../../shared/clock.js';
import { parseExposition, sumOf, valueOf } from './text-format.js';

const t = suite('metrics/collect');

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, with: () => silent };
const traffic = (packets: number, bytes: number) => ({ packets, bytes });

function fwd(extra: Partial<ForwarderStats> = {}): ForwarderStats {
  const drops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as ForwarderStats['drops'];
  return { fromPipe: traffic(0, 0), fromWire: traffic(0, 0), toWire: traffic(0, 0), toPipe: traffic(0, 0), arpReplies: 0, arpLocal: 0, broadcasts: 0, floods: 0, drops, ...extra };
}

const swim = (probes: number, probeFailures: number): SwimStats => ({
  packetsIn: 0, packetsOut: 0, malformed: 0, misdirected: 0, conflicts: 0, probes, probeFailures, indirectProbes: 1, nacksIn: 0, refutes: 0, corrections: 0, verifications: 0, pushPullsOut: 0, pushPullsIn: 0,
});

const node = (id: string, hostname: string, state: Node['status']['state'], role: Node['role'] = 'manager'): Node => ({ id, hostname, role, status: { state, message: '' } }) as Node;
const key = (kind: Key['kind'], generation: number, createdAtMs: number, networkId?: string): Key => ({ id: `${kind}-${generation}`, kind, generation, createdAtMs, ...(networkId ? { networkId } : {}) }) as Key;

const NODES = [node('n1', 'h0', 'ready'), node('n2', 'h1', 'ready', 'worker'), node('n3', 'h2', 'down', 'worker')];
const KEYS = [key('gossip', 5, 1_000_000), key('gossip', 6, 2_000_000), key('data', 1, 1_500_000, 'nid-sec'), key('data', 2, 3_000_000, 'nid-sec')];
const NETWORKS = [{ id: 'nid-sec', name: 'sec', vni: 4097 }] as Network[];
const store: StoreView = { list: ((kind: 'node' | 'key' | 'network') => (kind === 'node' ? NODES : kind === 'key' ? KEYS : NETWORKS)) as StoreView['list'] };

function info(manager: boolean): SwarmInfo {
  return {
    LocalNodeState: 'active', NodeID: manager ? 'n1' : 'n2', NodeAddr: '', ControlAvailable: manager, Error: '', RemoteManagers: [], Nodes: 3, Managers: 1,
    Gossip: {
      Addr: '', KeyGenerations: [4, 5, 6],
      Members: [{ NodeID: 'n1', Addr: '', State: 'alive', Incarnation: 1 }, { NodeID: 'n2', Addr: '', State: 'alive', Incarnation: 1 }, { NodeID: 'n3', Addr: '', State: 'suspect', Incarnation: 2 }],
      Dropped: { unknownKey: 1, badTag: 2, tooShort: 0, badVersion: 0, Malformed: 3 },
    },
    ...(manager ? { Raft: { Term: 3, Commit: 42, Applied: 41, LeaderID: 'n1', Voters: ['n1'] } } : {}),
  };
}

function planes(o: { manager: boolean; nft?: (netns: string) => string }): MetricsPlanes {
  const swarm: SwarmPlane = {
    info: () => info(o.manager),
    assignment: { dataKeys: [{ networkId: 'nid-sec', keys: [{ generation: 1 }, { generation: 2 }] }] },
    gossip: { stats: { packetsIn: 10, packetsOut: 12 }, swim: { stats: () => swim(7, 2) } },
    manager: o.manager ? { store } : undefined,
  };
  const net: NetworkStats = { ...fwd({ fromWire: traffic(5, 500), toWire: traffic(6, 600) }), vni: 4097, pipe: true, maxDatagramBytes: 1400, peers: 3, localPeers: 1, remoteVteps: 2 };
  const c = new Float64Array(COUNTERS);
  c[HANDSHAKES] = 4;
  c[INITIATIONS_SENT] = 3;
  const session: PeerStatus = { nodeId: 'n2', vtep: '10.0.0.2', state: 'up', reason: '', lastHandshakeWallMs: 1_767_225_600_000, txBytes: 100, rxBytes: 200, txPackets: 1, rxPackets: 2, handshakes: 4 };
  const dns: DnsStats = { queries: 9, answered: 5, forwarded: 2, refused: 1, formerr: 0, notimp: 0, servfail: 1, dropped: 0, truncated: 1 };
  return {
    swarm,
    data: {
      forwarder: { stats: () => fwd({ drops: { ...fwd().drops, spoofed: 4 } }), vnis: () => [4097], networkStats: (vni) => (vni === 4097 ? net : undefined) },
      secure: { stats: () => snapshotStats(c, 0), status: (vni) => (vni === 4097 ? [session] : []) },
      unsealable: 2,
    },
    dns: () => ({ stats: dns }),
    endpoints: {
      records: [{ netns: 'ep1', networks: [{ networkId: 'nid-sec', name: 'sec', vni: 4097 }] }, { netns: 'lonely', networks: [] }],
      ingress: { netns: 'sb', networks: [{ networkId: 'nid-ing', name: 'ingress', vni: 4096 }] },
    },
    records: {
      records: (nid) => (nid === 'nid-sec' ? [{ name: 'web.1.x', ip: '10.0.1.5', service: 'web', vip: '10.0.1.2' }, { name: 'web.2.y', ip: '10.0.1.6', service: 'web', vip: '10.0.1.2' }] : []),
      networkId: () => undefined,
    },
    ingress: () => ({ services: [{ name: 'pub', ports: [{ protocol: 'tcp', published: 8080 }] }] }),
  };
}

/** nft's JSON of a table with backend chains: [key, backend, flows]. */
function tableJson(table: string, handle: number, chains: [string, string, number][]): string {
  return JSON.stringify({
    nftables: [{ table: { name: table, handle } }, ...chains.map(([k, b, n], i) => ({ rule: { chain: `be_${k}_${i}`, expr: [{ counter: { packets: n, bytes: 0 } }, { dnat: { addr: b } }] } }))],
  });
}

function fakeLb(answer: (netns: string) => string): { reader: LbReader; netns: string[] } {
  const netns: string[] = [];
  const run = async (_argv: readonly string[], opts: RunOptions): Promise<RunResult> => {
    netns.push(opts.netns ?? '');
    return { code: 0, stdout: answer(opts.netns ?? ''), stderr: '' };
  };
  return { reader: new LbReader({ run, clock: new ManualClock(), ttlMs: 0 }), netns };
}

t('a manager: nodes by state, Raft, gossip, keys and rotations, data path, sessions, DNS and flows per backend, every line well-formed', async () => {
  let handle = 2;
  const lb = fakeLb((ns) => (ns === 'sb' ? tableJson('agent_mesh', 1, [['tcp_8080', '10.255.0.7', 4]]) : tableJson('agent_lb', handle, [['10_0_1_2', '10.0.1.5', 30], ['10_0_1_2', '10.0.1.6', 12], ['10_0_9_9', '10.0.9.5', 1]])));
  const collect = metricsCollector(planes({ manager: true }), { log: silent, lb: lb.reader });
  const text = await collect();
  const f = parseExposition(text);
  equal(lb.netns, ['ep1', 'sb'], 'endpoints on overlays and the ingress sandbox are read; an endpoint on none is not');
  is(valueOf(f, 'agent_swarm_local_node_state', { state: 'active' }), 1);
  is(sumOf(f, 'agent_swarm_local_node_state'), 1);
  is(valueOf(f, 'agent_swarm_manager'), 1);
  is(valueOf(f, 'agent_swarm_nodes', { state: 'ready' }), 2);
  is(valueOf(f, 'agent_swarm_nodes', { state: 'down' }), 1);
  is(valueOf(f, 'agent_swarm_node_ready', { node_id: 'n3', hostname: 'h2', role: 'worker' }), 0);
  equal([valueOf(f, 'agent_raft_term'), valueOf(f, 'agent_raft_commit_index'), valueOf(f, 'agent_raft_applied_index'), valueOf(f, 'agent_raft_leader'), valueOf(f, 'agent_raft_has_leader'), valueOf(f, 'agent_raft_voters')], [3, 42, 41, 1, 1, 1]);
  is(valueOf(f, 'agent_gossip_members', { state: 'alive' }), 2);
  is(valueOf(f, 'agent_gossip_members', { state: 'suspect' }), 1);
  is(valueOf(f, 'agent_gossip_members', { state: 'dead' }), 0);
  is(valueOf(f, 'agent_gossip_probe_failures_total'), 2);
  is(valueOf(f, 'agent_gossip_probes_total'), 7);
  is(valueOf(f, 'agent_gossip_drops_total', { reason: 'malformed' }), 3);
  is(valueOf(f, 'agent_gossip_key_generation'), 6);
  is(valueOf(f, 'agent_data_key_generation', { network: 'sec' }), 2);
  is(valueOf(f, 'agent_gossip_key_last_rotation_timestamp_seconds'), 2_000);
  is(valueOf(f, 'agent_data_key_last_rotation_timestamp_seconds', { network: 'sec' }), 3_000);
  is(valueOf(f, 'agent_network_peers', { network: 'sec' }), 2);
  is(valueOf(f, 'agent_network_endpoints', { network: 'sec', location: 'remote' }), 2);
  is(valueOf(f, 'agent_datapath_bytes_total', { network: 'sec', direction: 'out' }), 600);
  is(valueOf(f, 'agent_datapath_packets_total', { network: 'sec', direction: 'in' }), 5);
  is(valueOf(f, 'agent_datapath_drops_total', { reason: 'spoofed' }), 4);
  is(valueOf(f, 'agent_datapath_drops_total', { reason: 'unsealable' }), 2);
  is(valueOf(f, 'agent_datapath_handshakes_total'), 4);
  is(valueOf(f, 'agent_datapath_handshake_messages_total', { message: 'initiation', direction: 'out' }), 3);
  is(valueOf(f, 'agent_datapath_sessions', { network: 'sec', peer: 'n2', state: 'up' }), 1);
  is(sumOf(f, 'agent_datapath_sessions'), 1, 'one current state per session');
  is(valueOf(f, 'agent_datapath_session_bytes_total', { network: 'sec', peer: 'n2', direction: 'in' }), 200);
  is(valueOf(f, 'agent_datapath_session_last_handshake_timestamp_seconds', { peer: 'n2' }), 1_767_225_600);
  is(valueOf(f, 'agent_dns_queries_total', { answer: 'answered' }), 5);
  is(sumOf(f, 'agent_dns_queries_total'), 9);
  is(valueOf(f, 'agent_lb_flows_total', { service: 'web', network: 'sec', backend: '10.0.1.5' }), 30);
  is(valueOf(f, 'agent_lb_flows_total', { service: 'web', network: 'sec', backend: '10.0.1.6' }), 12);
  is(valueOf(f, 'agent_lb_flows_total', { service: 'pub', network: 'ingress', backend: '10.255.0.7' }), 4);
  is(f.get('agent_lb_flows_total')!.samples.length, 3, 'a VIP no record names is not shown');
  is(valueOf(f, 'agent_lb_read_errors_total'), 0);
  is(valueOf(f, 'agent_build_info'), 1);
  for (const fam of f.values()) {
    ok(fam.help !== undefined && fam.type !== undefined, `${fam.name}: HELP and TYPE`);
    ok(fam.name.startsWith('agent_'), fam.name);
    is(fam.type === 'counter', fam.name.endsWith('_total'), `${fam.name}: counters and only counters end in _total`);
  }
  is(await collect(), text, 'the same table read again, unchanged: the same bytes');
  handle = 3;
  const again = parseExposition(await collect());
  is(valueOf(again, 'agent_lb_flows_total', { backend: '10.0.1.5' }), 60, 'a replaced table (new handle): its counters are all new flows');
  is(valueOf(again, 'agent_lb_flows_total', { backend: '10.255.0.7' }), 4);
});

t('a worker: no node list, no Raft, no rotation times; its own state, gossip and data keys', async () => {
  const lb = fakeLb(() => tableJson('agent_lb', 1, []));
  const f = parseExposition(await metricsCollector(planes({ manager: false }), { log: silent, lb: lb.reader })());
  is(valueOf(f, 'agent_swarm_manager'), 0);
  for (const name of ['agent_swarm_nodes', 'agent_swarm_node_ready', 'agent_raft_term', 'agent_raft_leader', 'agent_gossip_key_last_rotation_timestamp_seconds', 'agent_data_key_last_rotation_timestamp_seconds']) {
    is(f.has(name), false, name);
  }
  is(valueOf(f, 'agent_gossip_members', { state: 'alive' }), 2);
  is(valueOf(f, 'agent_data_key_generation', { network: 'sec' }), 2, 'the name from its endpoint');
});

t('outside a swarm, before any endpoint: a few families, DNS at zero, nothing read with nft', async () => {
  const lb = fakeLb(() => '');
  const p = planes({ manager: false });
  const bare: MetricsPlanes = {
    ...p,
    swarm: { info: () => ({ ...info(false), LocalNodeState: 'inactive', Gossip: undefined }) as SwarmInfo, assignment: undefined, gossip: undefined, manager: undefined },
    data: { forwarder: { stats: () => fwd(), vnis: () => [], networkStats: () => undefined }, secure: undefined, unsealable: 0 },
    dns: () => undefined,
    endpoints: { records: [], ingress: undefined },
    ingress: () => undefined,
  };
  const f = parseExposition(await metricsCollector(bare, { log: silent, lb: lb.reader })());
  is(valueOf(f, 'agent_swarm_local_node_state', { state: 'inactive' }), 1);
  is(sumOf(f, 'agent_dns_queries_total'), 0);
  is(f.get('agent_dns_queries_total')!.samples.length, 7);
  is(f.get('agent_lb_flows_total')!.samples.length, 0);
  is(f.has('agent_gossip_members'), false);
  is(f.has('agent_datapath_sessions'), false);
  equal(lb.netns, []);
});

t.run();
