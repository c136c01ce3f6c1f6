// Knobs of the SWIM core (STYLE habit 12): each with its unit in its name and
// the reason for its value. The core never reads a clock; every duration here
// is compared with the `nowMs` the host passes in.
//
// Sources: hashicorp/memberlist config.go DefaultLANConfig (the settings
// Docker's libnetwork runs on 7946), libnetwork networkdb/cluster.go for the
// reconnect and reap periods, and Lifeguard (Dadgar, Phillips, Currey,
// "Lifeguard: Local Health Awareness for More Accurate Failure Detection",
// DSN-W 2018, arXiv:1707.00788) for the awareness and suspicion constants.

export interface SwimConfig {
  /** One failure-detection round per member every probeIntervalMs (SWIM's protocol period). */
  probeIntervalMs: number;
  /** How long a direct ping waits for its ack before asking others to probe (SWIM: the round-trip bound). */
  probeTimeoutMs: number;
  /** How many members are asked to probe on our behalf when a direct ping goes unanswered. */
  indirectChecks: number;
  /** Suspicion lasts at least suspicionMult·max(1, log10 N)·probeIntervalMs. */
  suspicionMult: number;
  /** A lone accuser waits suspicionMaxTimeoutMult times the minimum (Lifeguard's dynamic suspicion). */
  suspicionMaxTimeoutMult: number;
  /** Local health multiplier cap: probe interval and timeout stretch up to this many times. */
  awarenessMaxMultiplier: number;
  /** A broadcast is piggybacked retransmitMult·ceil(log10(N + 1)) times. */
  retransmitMult: number;
  /** How often queued broadcasts are pushed to gossipNodes random members. */
  gossipIntervalMs: number;
  gossipNodes: number;
  /** Dead members still get gossip this long, so they can hear it and refute. */
  gossipToTheDeadMs: number;
  /** Full state exchange over TCP with one random member, scaled up beyond 32 members. */
  pushPullIntervalMs: number;
  /** Largest UDP payload the host may send. */
  udpPacketBytes: number;
  /** Bytes the host adds to each datagram (sealing); the core fills udpPacketBytes minus this. */
  hostOverheadBytes: number;
  /** Read by the host only: how long a push-pull TCP exchange may take before it gives up. */
  tcpTimeoutMs: number;
  /** Every reconnectIntervalMs, one push-pull with a random dead member, so healed partitions merge. */
  reconnectIntervalMs: number;
  /** While no seed is alive in our view, join the seeds again this often. */
  rejoinIntervalMs: number;
  /** Dead and left members are forgotten this long after they died or left. */
  deadRetentionMs: number;
}

/**
 * memberlist DefaultLANConfig, the settings libnetwork runs gossip on, plus
 * libnetwork's own reconnect, rejoin and reap periods.
 */
export function lanConfig(): SwimConfig {
  return {
    // 1 s round, 500 ms ack wait: a LAN round trip is well under a millisecond,
    // so 500 ms tolerates a busy host; memberlist DefaultLANConfig.
    probeIntervalMs: 1_000,
    probeTimeoutMs: 500,
    // 3 helpers: with independent 10% loss a false suspicion needs the direct
    // path and all three relayed paths to fail (about 0.8% of probes);
    // memberlist IndirectChecks.
    indirectChecks: 3,
    // 4·log10(N) s: 12 s for 1,000 members; memberlist SuspicionMult, REFERENCE.
    suspicionMult: 4,
    // Up to 6× when nobody confirms (72 s at 1,000 members); Lifeguard's
    // dynamic suspicion, memberlist SuspicionMaxTimeoutMult.
    suspicionMaxTimeoutMult: 6,
    // A node that misses its own acks probes at most 8× slower (Lifeguard LHM,
    // memberlist AwarenessMaxMultiplier).
    awarenessMaxMultiplier: 8,
    // 4·ceil(log10(N+1)) = 16 sends per broadcast at 1,000 members: enough to
    // reach everyone with high probability (epidemic spread, SWIM §4.1);
    // memberlist RetransmitMult.
    retransmitMult: 4,
    // 3 members every 200 ms; memberlist GossipInterval and GossipNodes, also
    // NetworkDB's per-network gossip (REFERENCE).
    gossipIntervalMs: 200,
    gossipNodes: 3,
    // 30 s of gossip to the dead: a node cut off briefly hears it was declared
    // dead and refutes; memberlist GossipToTheDeadTime.
    gossipToTheDeadMs: 30_000,
    // 30 s anti-entropy; memberlist PushPullInterval, NetworkDB bulk sync.
    pushPullIntervalMs: 30_000,
    // memberlist UDPBufferSize: fits a 1500-byte Ethernet MTU with IP/UDP
    // headers. Every datagram on 7946 is sealed, which adds 33 bytes
    // (agent/gossip/sealed-packet.ts SEALED_OVERHEAD_BYTES).
    udpPacketBytes: 1_400,
    hostOverheadBytes: 33,
    // memberlist TCPTimeout.
    tcpTimeoutMs: 10_000,
    // libnetwork networkdb retryInterval (reconnectNode every 1 s): once a
    // partition outlives gossipToTheDeadMs nobody talks across it, so this is
    // what merges the halves after it heals.
    reconnectIntervalMs: 1_000,
    // libnetwork networkdb rejoinClusterInterval.
    rejoinIntervalMs: 60_000,
    // libnetwork networkdb nodeReapInterval: 24 h (REFERENCE: dead nodes reaped 24 h).
    deadRetentionMs: 24 * 60 * 60 * 1_000,
  };
}

/**
 * Ten times faster than lanConfig for unit tests; the same ratios, so the
 * same protocol behaviour in a tenth of the simulated time. Latency in a
 * test network must stay well under probeTimeoutMs / 4 (a relayed probe is
 * four one-way trips).
 */
export function testConfig(): SwimConfig {
  return {
    ...lanConfig(),
    probeIntervalMs: 100,
    probeTimeoutMs: 50,
    gossipIntervalMs: 20,
    gossipToTheDeadMs: 3_000,
    pushPullIntervalMs: 3_000,
    tcpTimeoutMs: 1_000,
    reconnectIntervalMs: 100,
    rejoinIntervalMs: 6_000,
    deadRetentionMs: 60_000,
    hostOverheadBytes: 0,
  };
}

// memberlist pushPullScale: beyond 32 members the push-pull period grows with
// log2(n), so a big cluster's TCP load stays flat.
const PUSH_PULL_SCALE_THRESHOLD = 32;
export function pushPullIntervalFor(intervalMs: number, n: number): number {
  if (n <= PUSH_PULL_SCALE_THRESHOLD) return intervalMs;
  return intervalMs * (Math.ceil(Math.log2(n) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1);
}

function positiveInt(name: keyof SwimConfig, v: number, min = 1): void {
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`SwimConfig.${name}: expected an integer >= ${min}, got ${v}`);
}

/** Throws a RangeError naming the first bad field. */
export function validateSwimConfig(c: SwimConfig): void {
  positiveInt('probeIntervalMs', c.probeIntervalMs);
  positiveInt('probeTimeoutMs', c.probeTimeoutMs);
  positiveInt('indirectChecks', c.indirectChecks, 0);
  positiveInt('suspicionMult', c.suspicionMult);
  positiveInt('suspicionMaxTimeoutMult', c.suspicionMaxTimeoutMult);
  positiveInt('awarenessMaxMultiplier', c.awarenessMaxMultiplier);
  positiveInt('retransmitMult', c.retransmitMult);
  positiveInt('gossipIntervalMs', c.gossipIntervalMs);
  positiveInt('gossipNodes', c.gossipNodes, 0);
  positiveInt('gossipToTheDeadMs', c.gossipToTheDeadMs, 0);
  positiveInt('pushPullIntervalMs', c.pushPullIntervalMs);
  positiveInt('udpPacketBytes', c.udpPacketBytes, 576 - 28); // RFC 791: every host takes 576-byte datagrams
  positiveInt('hostOverheadBytes', c.hostOverheadBytes, 0);
  positiveInt('tcpTimeoutMs', c.tcpTimeoutMs);
  positiveInt('reconnectIntervalMs', c.reconnectIntervalMs);
  positiveInt('rejoinIntervalMs', c.rejoinIntervalMs);
  positiveInt('deadRetentionMs', c.deadRetentionMs);
  if (c.probeTimeoutMs >= c.probeIntervalMs) {
    throw new RangeError(`SwimConfig.probeTimeoutMs: expected less than probeIntervalMs (${c.probeIntervalMs}), got ${c.probeTimeoutMs}`);
  }
  if (c.udpPacketBytes - c.hostOverheadBytes < 512) {
    throw new RangeError(`SwimConfig.hostOverheadBytes: expected to leave at least 512 of udpPacketBytes (${c.udpPacketBytes}), got ${c.hostOverheadBytes}`);
  }
}
