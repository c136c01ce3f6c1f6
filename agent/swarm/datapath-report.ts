// "Never a silent black hole" (issue 7): each node's data path says how its
// encrypted sessions fare, with its dispatcher heartbeats; the leader keeps
// the latest report per node in memory (dispatcher.ts) and shows it in
// `node inspect` (DataPath) and `network inspect` (Peers). Here: reading a
// report off the wire, and the two views. Pure.
import type { DatapathPeerReport, DatapathPeerState, DatapathPeerView, DatapathReport, GossipReport, NetworkPeer, NodeDataPath, NodeGossipHealth } from '../api/types.js';
import type { Store } from '../cluster/store/index.js';
import type { Network } from '../cluster/store/types.js';
import { FieldError, int, nonEmpty, oneOf, str } from '../cluster/store/validate.js';

/** Longer reasons and errors are cut: a report is a status line per session, not a log. */
export const MAX_REASON_CHARS = 512;
/** A report naming more networks, or more peers on one, is refused as a whole. */
export const MAX_REPORT_NETWORKS = 4_096;
export const MAX_REPORT_PEERS = 4_096;

const STATES: readonly DatapathPeerState[] = ['up', 'handshaking', 'failed', 'no-key'];
/** Which state sums up a node's sessions: the worst one. */
const SEVERITY: Readonly<Record<string, number>> = { up: 0, handshaking: 1, 'no-key': 2, failed: 3 };

function plain(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw new FieldError(`${path}: expected a map`);
  return v as Record<string, unknown>;
}

function list(v: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw new FieldError(`${path}: expected an array`);
  if (v.length > max) throw new FieldError(`${path}: expected at most ${max} entries, got ${v.length}`);
  return v;
}

function cut(s: string): string {
  return s.length > MAX_REASON_CHARS ? `${s.slice(0, MAX_REASON_CHARS - 3)}...` : s;
}

function peer(v: unknown, path: string): DatapathPeerReport {
  const m = plain(v, path);
  const hs = m['lastHandshakeWallMs'];
  return {
    nodeId: nonEmpty(m['nodeId'], `${path}.nodeId`),
    state: oneOf(...STATES)(m['state'], `${path}.state`),
    reason: cut(str(m['reason'], `${path}.reason`)),
    lastHandshakeWallMs: hs === null || hs === undefined ? null : int(0)(typeof hs === 'number' ? Math.floor(hs) : hs, `${path}.lastHandshakeWallMs`),
    txBytes: int(0)(m['txBytes'], `${path}.txBytes`),
    rxBytes: int(0)(m['rxBytes'], `${path}.rxBytes`),
  };
}

/**
 * A report as a node sent it, checked field by field (throws FieldError
 * naming the field). Fields this version does not know are ignored: a newer
 * node may say more.
 */
export function parseDatapathReport(v: unknown, path = 'datapath'): DatapathReport {
  const m = plain(v, path);
  const networks = list(m['networks'], `${path}.networks`, MAX_REPORT_NETWORKS).map((x, i) => {
    const p = `${path}.networks[${i}]`;
    const n = plain(x, p);
    return { networkId: nonEmpty(n['networkId'], `${p}.networkId`), peers: list(n['peers'], `${p}.peers`, MAX_REPORT_PEERS).map((y, j) => peer(y, `${p}.peers[${j}]`)) };
  });
  const error = m['error'];
  const pe = m['portErrors'];
  const portErrors =
    pe === undefined || pe === null
      ? []
      : list(pe, `${path}.portErrors`, MAX_REPORT_PEERS).map((x, i) => {
          const e = plain(x, `${path}.portErrors[${i}]`);
          return { serviceId: nonEmpty(e['serviceId'], `${path}.portErrors[${i}].serviceId`), port: nonEmpty(e['port'], `${path}.portErrors[${i}].port`), error: cut(str(e['error'], `${path}.portErrors[${i}].error`)) };
        });
  const g = m['gossip'];
  return {
    networks,
    ...(error === undefined || error === null ? {} : { error: cut(str(error, `${path}.error`)) }),
    ...(portErrors.length > 0 ? { portErrors } : {}),
    ...(g === undefined || g === null ? {} : { gossip: gossipReport(g, `${path}.gossip`) }),
  };
}

/** Counts are whole numbers; at most MAX_REPORT_PEERS key generations. */
function gossipReport(v: unknown, path: string): GossipReport {
  const m = plain(v, path);
  const n = (k: string) => int(0)(m[k], `${path}.${k}`);
  return {
    alive: n('alive'),
    suspect: n('suspect'),
    dead: n('dead'),
    probeFailures: n('probeFailures'),
    keyGenerations: list(m['keyGenerations'], `${path}.keyGenerations`, MAX_REPORT_PEERS).map((x, i) => int(0)(x, `${path}.keyGenerations[${i}]`)),
    dropped: n('dropped'),
  };
}

/** NodeInspect.Gossip: the node's report, summed up. */
export function nodeGossip(r: GossipReport): NodeGossipHealth {
  return {
    State: r.suspect + r.dead === 0 ? 'healthy' : 'degraded',
    MembersAlive: r.alive,
    MembersSuspect: r.suspect,
    MembersDead: r.dead,
    ProbeFailures: r.probeFailures,
    KeyGenerations: [...r.keyGenerations],
    Dropped: r.dropped,
  };
}

/**
 * What a heartbeat body says of the data path: undefined when it says
 * nothing (an older node, or no data path running), and a report with an
 * error when it cannot be read, so a broken report is seen rather than
 * dropped. Never throws: a bad report must not end the node's session.
 */
export function heartbeatReport(body: unknown): DatapathReport | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const v = (body as Record<string, unknown>)['datapath'];
  if (v === undefined || v === null) return undefined;
  try {
    return parseDatapathReport(v);
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    return { networks: [], error: cut(`the leader could not read this node's data path report: ${e.message}`) };
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function hostname(store: Store, nodeId: string): string {
  return store.get('node', nodeId)?.hostname ?? '';
}

function byHostThenId(a: { Hostname: string; NodeID: string }, b: { Hostname: string; NodeID: string }): number {
  if (a.Hostname !== b.Hostname) return a.Hostname < b.Hostname ? -1 : 1;
  return a.NodeID < b.NodeID ? -1 : a.NodeID > b.NodeID ? 1 : 0;
}

function peerView(store: Store, p: DatapathPeerReport): DatapathPeerView {
  return {
    NodeID: p.nodeId,
    Hostname: hostname(store, p.nodeId),
    State: p.state,
    Reason: p.reason,
    LastHandshake: iso(p.lastHandshakeWallMs),
    TxBytes: p.txBytes,
    RxBytes: p.rxBytes,
  };
}

/** NodeInspect.DataPath: a node's latest report, networks by id, peers by hostname. */
export function nodeDataPath(store: Store, r: DatapathReport): NodeDataPath {
  const out: NodeDataPath = {
    Networks: [...r.networks]
      .sort((a, b) => (a.networkId < b.networkId ? -1 : a.networkId > b.networkId ? 1 : 0))
      .map((n) => ({ NetworkID: n.networkId, Name: store.get('network', n.networkId)?.name ?? '', Peers: n.peers.map((p) => peerView(store, p)).sort(byHostThenId) })),
  };
  if (r.error !== undefined) out.Error = r.error;
  return out;
}

/** One node's row: its sessions on the network summed up (api/types.ts NetworkPeer). */
function summary(nodeId: string, name: string, r: DatapathReport | undefined, net: Network, store: Store): NetworkPeer {
  const row = (State: string, Reason: string, Sessions: DatapathPeerView[] = []): NetworkPeer => ({
    NodeID: nodeId,
    Hostname: name,
    State,
    Reason,
    LastHandshake: null,
    TxBytes: 0,
    RxBytes: 0,
    Sessions,
  });
  if (!r) return row('unknown', 'no data path report from this node');
  const entry = r.networks.find((n) => n.networkId === net.id);
  if (!entry) return r.error !== undefined ? row('failed', r.error) : row('unknown', 'its data path report does not name this network (yet)');
  const sessions = entry.peers.map((p) => peerView(store, p)).sort(byHostThenId);
  const out = row('up', sessions.length === 0 ? 'no other node on this network' : '', sessions);
  out.TxBytes = sessions.reduce((s, p) => s + p.TxBytes, 0);
  out.RxBytes = sessions.reduce((s, p) => s + p.RxBytes, 0);
  const times = entry.peers.map((p) => p.lastHandshakeWallMs);
  if (times.length > 0 && times.every((x) => x !== null)) out.LastHandshake = iso(Math.min(...(times as number[])));
  if (r.error !== undefined) {
    out.State = 'failed';
    out.Reason = r.error;
    return out;
  }
  const worst = sessions.reduce((w, p) => Math.max(w, SEVERITY[p.State] ?? 0), 0);
  if (worst === 0) return out;
  const bad = sessions.filter((p) => (SEVERITY[p.State] ?? 0) === worst);
  const first = bad[0]!;
  out.State = first.State;
  out.Reason = `${first.Hostname !== '' ? first.Hostname : first.NodeID}: ${first.Reason !== '' ? first.Reason : first.State}${bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''}`;
  return out;
}

/**
 * NetworkInspect.Peers of an encrypted network: one row per node that has
 * endpoints on it or reports on it, by hostname. A node with endpoints and
 * no report shows as 'unknown', so a node that never says anything is seen.
 */
export function networkPeers(store: Store, net: Network, reports: ReadonlyMap<string, DatapathReport>): NetworkPeer[] {
  const ids = new Set<string>();
  for (const t of store.tasks()) if (t.desiredState !== 'remove' && Object.hasOwn(t.addresses, net.id)) ids.add(t.nodeId);
  for (const [id, r] of reports) if (r.networks.some((n) => n.networkId === net.id)) ids.add(id);
  return [...ids].map((id) => summary(id, hostname(store, id), reports.get(id), net, store)).sort(byHostThenId);
}
