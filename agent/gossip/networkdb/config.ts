// Knobs of the NetworkDB core (STYLE habit 12): each with its unit in its
// name and the reason for its value. The core never reads a clock; every
// duration here is compared with the `nowMs` the host passes in.
//
// Sources: moby/libnetwork networkdb (cluster.go: reapPeriod, reapEntryInterval,
// reapNetworkInterval, nodeReapInterval; networkdb.go: the per-network
// TransmitLimitedQueue with RetransmitMult 4; delegate.go:
// maxQueueLenBroadcastOnSync), hashicorp/memberlist DefaultLANConfig
// (GossipInterval, GossipNodes, PushPullInterval, UDPBufferSize), REFERENCE.md.
import { entryBytes, gossipHeaderBytes, MAX_KEY_BYTES, MAX_NETWORK_ID_BYTES, MAX_NODE_ID_BYTES, MAX_TABLE_BYTES, MAX_VALUE_BYTES, ownerBytes } from './wire.js';

export interface NetworkDbConfig {
  /** One table-gossip round every gossipIntervalMs, for each network with something queued. */
  gossipIntervalMs: number;
  /** Each round sends one packet to this many random group members. */
  gossipFanout: number;
  /** An entry version is put in retransmitMult·ceil(log10(members + 1)) rounds, then dropped from the queue. */
  retransmitMult: number;
  /** Anti-entropy: every bulkSyncIntervalMs, a full table exchange with one random member per network. */
  bulkSyncIntervalMs: number;
  /** On joining a network, ask this many random members for their tables. */
  joinSyncPeers: number;
  /** A tombstone is kept this long after the delete, so late copies of the entry stay dead. */
  tombstoneReapMs: number;
  /** A leave record is kept this long, so it outlives the tombstones it caused and still refuses their owner's late entries. */
  networkLeaveReapMs: number;
  /** The reaper (tombstones, leave records, dead nodes) runs this often. */
  reapPeriodMs: number;
  /** A node the membership layer declared dead keeps its attachments and entries this long; alive again in time, nothing changes. */
  deadNodeGraceMs: number;
  /** A dead or left node is remembered this long, refusing its stale events; then forgotten. */
  nodeReapMs: number;
  /** Largest table-gossip message, in bytes, the host can send in one datagram after its own framing and sealing. */
  packetBudgetBytes: number;
  /** Entries first learned from a periodic bulk sync are re-gossiped only while the network's queue is shorter than this. */
  maxRebroadcastQueueOnSync: number;
}

/** The largest one-entry gossip packet the wire allows: every budget must fit it, or such an entry could never be gossiped. */
export const LARGEST_ENTRY_PACKET_BYTES =
  gossipHeaderBytes('n'.repeat(MAX_NETWORK_ID_BYTES)) +
  ownerBytes({ node: 'o'.repeat(MAX_NODE_ID_BYTES), netLtime: 1, leaving: false }) +
  entryBytes({ table: 't'.repeat(MAX_TABLE_BYTES), key: 'k'.repeat(MAX_KEY_BYTES), tombstone: false, value: new Uint8Array(MAX_VALUE_BYTES) });

/** libnetwork's NetworkDB on memberlist's LAN settings, with a dead-node grace period libnetwork lacks. */
export function lanConfig(): NetworkDbConfig {
  return {
    // memberlist GossipInterval / GossipNodes; libnetwork gossip() sends each
    // network's compound packet to mRandomNodes(3) every 200 ms (REFERENCE).
    gossipIntervalMs: 200,
    gossipFanout: 3,
    // libnetwork JoinNetwork: tableBroadcasts RetransmitMult 4, i.e. 12 rounds
    // (36 sends) per version in a 200-member group, 16 rounds at 1,000.
    retransmitMult: 4,
    // memberlist PushPullInterval, libnetwork bulkSyncTables (REFERENCE: bulk sync 30 s).
    bulkSyncIntervalMs: 30_000,
    // libnetwork syncs with every member on join, which at 1,000 members is
    // 1,000 full tables; one answer is enough, the second covers a member
    // that is dead or slow.
    joinSyncPeers: 2,
    // libnetwork reapEntryInterval (REFERENCE: tombstones 30 min).
    tombstoneReapMs: 30 * 60_000,
    // libnetwork reapNetworkInterval = reapEntryInterval + 5 reapPeriod.
    networkLeaveReapMs: 30 * 60_000 + 5 * 5_000,
    // libnetwork reapPeriod.
    reapPeriodMs: 5_000,
    // One SWIM push-pull interval (30 s): a node declared dead by mistake
    // hears of it by the next push-pull at the latest, refutes, and is alive
    // again before its entries go, so a flap causes no churn in DNS or the
    // FDB. Not longer: a really dead node's tasks are rescheduled by
    // swarmkit after ~15 s, and its stale records should not outlive that by
    // much. libnetwork drops a failed node's entries at once (no grace).
    deadNodeGraceMs: 30_000,
    // libnetwork nodeReapInterval (REFERENCE: dead nodes reaped 24 h).
    nodeReapMs: 24 * 60 * 60_000,
    // memberlist's 1,400-byte packets (REFERENCE) minus what the host adds:
    // 33 bytes of sealing (agent/gossip/sealed-packet.ts) and 34 of framing,
    // a plane byte and the sender's id of up to 32 bytes behind a length
    // byte (agent/gossip/gossip-wire.ts, NETWORK_DB_HOST_BYTES).
    packetBudgetBytes: 1_400 - 33 - 34,
    // libnetwork maxQueueLenBroadcastOnSync: a bulk sync that finds a whole
    // table missing must not flood the group with it.
    maxRebroadcastQueueOnSync: 500,
  };
}

/**
 * Ten times faster than lanConfig for unit tests and small simulations (the
 * same ratios), with tombstones and grace periods short enough to watch.
 */
export function testConfig(): NetworkDbConfig {
  return {
    ...lanConfig(),
    gossipIntervalMs: 20,
    bulkSyncIntervalMs: 3_000,
    tombstoneReapMs: 10_000,
    networkLeaveReapMs: 10_000 + 5 * 500,
    reapPeriodMs: 500,
    deadNodeGraceMs: 3_000,
    nodeReapMs: 60_000,
  };
}

function int(name: keyof NetworkDbConfig, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`NetworkDbConfig.${name}: expected an integer >= ${min}, got ${v}`);
}

/** Throws a RangeError naming the first bad field. */
export function validateNetworkDbConfig(c: NetworkDbConfig): void {
  int('gossipIntervalMs', c.gossipIntervalMs, 1);
  int('gossipFanout', c.gossipFanout, 1);
  int('retransmitMult', c.retransmitMult, 1);
  int('bulkSyncIntervalMs', c.bulkSyncIntervalMs, 1);
  int('joinSyncPeers', c.joinSyncPeers, 1);
  int('tombstoneReapMs', c.tombstoneReapMs, 1);
  int('networkLeaveReapMs', c.networkLeaveReapMs, c.tombstoneReapMs);
  int('reapPeriodMs', c.reapPeriodMs, 1);
  int('deadNodeGraceMs', c.deadNodeGraceMs, 0);
  int('nodeReapMs', c.nodeReapMs, c.deadNodeGraceMs);
  int('packetBudgetBytes', c.packetBudgetBytes, LARGEST_ENTRY_PACKET_BYTES);
  int('maxRebroadcastQueueOnSync', c.maxRebroadcastQueueOnSync, 0);
}
