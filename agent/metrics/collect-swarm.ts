// The control plane's metrics (issue 11): this node's swarm state; on
// managers the node list and Raft from the store and the replica; gossip
// membership, probes and drops; the keyrings' generations, and on managers
// when each was last rotated (the store keeps every key's creation time;
// workers are given keys without it). Read at scrape time from
// SwarmNode.info() and the planes' counters.
import type { LocalNodeState } from '../api/types.js';
import type { NodeState } from '../cluster/store/types.js';
import type { MetricSet } from './exposition.js';
import type { NetworkNames, SwarmPlane } from './planes.js';

const LOCAL_STATES: readonly LocalNodeState[] = ['inactive', 'pending', 'active', 'error', 'locked'];
const NODE_STATES: readonly NodeState[] = ['unknown', 'down', 'ready', 'disconnected'];
const MEMBER_STATES = ['alive', 'suspect', 'dead', 'left'] as const;

export function swarmMetrics(m: MetricSet, swarm: SwarmPlane, names: NetworkNames): void {
  const info = swarm.info();
  const local = m.gauge('agent_swarm_local_node_state', "This node's swarm state (1 for the current one).", ['state']);
  for (const s of LOCAL_STATES) local.add({ state: s }, info.LocalNodeState === s ? 1 : 0);
  m.gauge('agent_swarm_manager', '1 if this node is a manager (its metrics include the node list and Raft).').add({}, info.ControlAvailable ? 1 : 0);

  const store = swarm.manager?.store;
  if (store) {
    const nodes = store.list('node');
    const byState = m.gauge('agent_swarm_nodes', 'Nodes of the swarm by state (managers only, from the store).', ['state']);
    for (const s of NODE_STATES) byState.add({ state: s }, nodes.filter((n) => n.status.state === s).length);
    const ready = m.gauge('agent_swarm_node_ready', '1 if the node is ready, 0 otherwise (managers only).', ['node_id', 'hostname', 'role']);
    for (const n of nodes) ready.add({ node_id: n.id, hostname: n.hostname, role: n.role }, n.status.state === 'ready' ? 1 : 0);
  }

  const raft = info.Raft;
  if (raft) {
    m.gauge('agent_raft_term', "This manager's current Raft term.").add({}, raft.Term);
    m.gauge('agent_raft_commit_index', 'Index of the highest Raft log entry known committed.').add({}, raft.Commit);
    m.gauge('agent_raft_applied_index', 'Index of the highest Raft log entry applied to the store here.').add({}, raft.Applied);
    m.gauge('agent_raft_leader', '1 if this manager is the Raft leader.').add({}, raft.LeaderID !== '' && raft.LeaderID === info.NodeID ? 1 : 0);
    m.gauge('agent_raft_has_leader', '1 if this manager knows a Raft leader.').add({}, raft.LeaderID !== '' ? 1 : 0);
    m.gauge('agent_raft_voters', 'Voting members of the Raft group, as this manager sees it.').add({}, raft.Voters.length);
  }

  const g = info.Gossip;
  const gossip = swarm.gossip;
  if (g && gossip) {
    const members = m.gauge('agent_gossip_members', 'Gossip members this node knows, by state (itself included).', ['state']);
    for (const s of MEMBER_STATES) members.add({ state: s }, g.Members.filter((x) => x.State === s).length);
    const swim = gossip.swim.stats();
    m.counter('agent_gossip_probes_total', 'SWIM probes this node sent.').add({}, swim.probes);
    m.counter('agent_gossip_probe_failures_total', 'SWIM probes that ended with this node suspecting the target.').add({}, swim.probeFailures);
    m.counter('agent_gossip_indirect_probes_total', 'SWIM probes that needed ping-req helpers.').add({}, swim.indirectProbes);
    const packets = m.counter('agent_gossip_packets_total', 'Gossip datagrams and frames, by direction.', ['direction']);
    packets.add({ direction: 'in' }, gossip.stats.packetsIn).add({ direction: 'out' }, gossip.stats.packetsOut);
    const drops = m.counter('agent_gossip_drops_total', 'Gossip packets dropped, by reason.', ['reason']);
    drops
      .add({ reason: 'unknown-key' }, g.Dropped.unknownKey)
      .add({ reason: 'bad-tag' }, g.Dropped.badTag)
      .add({ reason: 'too-short' }, g.Dropped.tooShort)
      .add({ reason: 'bad-version' }, g.Dropped.badVersion)
      .add({ reason: 'malformed' }, g.Dropped.Malformed);
    if (g.KeyGenerations.length > 0) m.gauge('agent_gossip_key_generation', 'The newest gossip key generation this node holds.').add({}, Math.max(...g.KeyGenerations));
  }

  const held = swarm.assignment?.dataKeys ?? [];
  const dataGen = m.gauge('agent_data_key_generation', 'The newest data key generation this node holds, by encrypted network (only networks it has endpoints on).', ['network']);
  for (const k of held) if (k.keys.length > 0) dataGen.add({ network: names.byId(k.networkId) }, Math.max(...k.keys.map((x) => x.generation)));

  if (store) {
    const keys = store.list('key');
    const gossipKeys = keys.filter((k) => k.kind === 'gossip');
    if (gossipKeys.length > 0) {
      m.gauge('agent_gossip_key_last_rotation_timestamp_seconds', 'When the newest gossip key was made, in seconds since the epoch (managers only).').add({}, newest(gossipKeys) / 1000);
    }
    const byNet = new Map<string, { createdAtMs: number }[]>();
    for (const k of keys) if (k.kind === 'data' && k.networkId !== undefined) byNet.set(k.networkId, [...(byNet.get(k.networkId) ?? []), k]);
    const dataRot = m.gauge('agent_data_key_last_rotation_timestamp_seconds', "When a network's newest data key was made, in seconds since the epoch (managers only).", ['network']);
    for (const [nid, ks] of byNet) dataRot.add({ network: names.byId(nid) }, newest(ks) / 1000);
  }
}

const newest = (ks: readonly { createdAtMs: number }[]): number => ks.reduce((a, k) => Math.max(a, k.createdAtMs), 0);
