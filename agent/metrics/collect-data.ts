// The data plane's and the resolver's metrics (issue 11), from the counters
// they already keep: the forwarder's per network (forwarder.ts: datagrams
// from and to other nodes, drops by reason), the secure plane's sessions,
// handshakes and drops (secure/stats.ts), and the resolver's queries by how
// they were answered (dns-server.ts). Per network means per network with a
// sandbox or peers on this node: the forwarder knows no other.
import { DROP_REASONS } from '../datapath/forwarder.js';
import { SECURE_DROP_REASONS, type PeerState } from '../datapath/secure/stats.js';
import type { DnsStats } from '../discovery/dns-server.js';
import type { MetricSet } from './exposition.js';
import type { DataPlaneView, NetworkNames } from './planes.js';

const SESSION_STATES: readonly PeerState[] = ['up', 'handshaking', 'failed', 'no-key'];
/** Every way a query ends (dns-server.ts DnsStats: they sum to the queries, but for forwards in flight). */
const DNS_ANSWERS = ['answered', 'forwarded', 'refused', 'formerr', 'notimp', 'servfail', 'dropped'] as const satisfies readonly (keyof DnsStats)[];

export function dataMetrics(m: MetricSet, data: DataPlaneView, names: NetworkNames): void {
  const f = data.forwarder;
  const peers = m.gauge('agent_network_peers', 'Other nodes with endpoints on the network (where its broadcasts go).', ['network']);
  const endpoints = m.gauge('agent_network_endpoints', "The network's endpoints this node knows, on this node (local) and on others (remote).", ['network', 'location']);
  const bytes = m.counter('agent_datapath_bytes_total', "Bytes of the network's VXLAN datagrams from other nodes (in, before any check) and to them (out, flood copies included, before sealing).", ['network', 'direction']);
  const packets = m.counter('agent_datapath_packets_total', "The network's VXLAN datagrams from other nodes (in) and to them (out).", ['network', 'direction']);
  for (const vni of f.vnis()) {
    const s = f.networkStats(vni);
    if (!s) continue;
    const network = names.byVni(vni);
    peers.add({ network }, s.remoteVteps);
    endpoints.add({ network, location: 'local' }, s.localPeers).add({ network, location: 'remote' }, s.peers - s.localPeers);
    bytes.add({ network, direction: 'in' }, s.fromWire.bytes).add({ network, direction: 'out' }, s.toWire.bytes);
    packets.add({ network, direction: 'in' }, s.fromWire.packets).add({ network, direction: 'out' }, s.toWire.packets);
  }
  const totals = f.stats();
  const drops = m.counter('agent_datapath_drops_total', 'Datagrams the forwarder dropped, by reason (unsealable: an encrypted network frame with no secure plane yet).', ['reason']);
  for (const r of DROP_REASONS) drops.add({ reason: r }, totals.drops[r]);
  drops.add({ reason: 'unsealable' }, data.unsealable);

  const sp = data.secure;
  if (!sp) return;
  const st = sp.stats();
  m.counter('agent_datapath_handshakes_total', 'Encrypted-overlay handshakes completed (keypairs that became usable).').add({}, st.handshakesCompleted);
  const msgs = m.counter('agent_datapath_handshake_messages_total', 'Handshake messages, by message and direction.', ['message', 'direction']);
  msgs
    .add({ message: 'initiation', direction: 'out' }, st.initiationsSent)
    .add({ message: 'initiation', direction: 'in' }, st.initiationsReceived)
    .add({ message: 'response', direction: 'out' }, st.responsesSent)
    .add({ message: 'response', direction: 'in' }, st.responsesReceived)
    .add({ message: 'cookie-reply', direction: 'out' }, st.cookieRepliesSent)
    .add({ message: 'cookie-reply', direction: 'in' }, st.cookieRepliesReceived);
  const sdrops = m.counter('agent_datapath_secure_drops_total', 'Messages and datagrams the secure plane dropped, by reason.', ['reason']);
  for (const r of SECURE_DROP_REASONS) sdrops.add({ reason: r }, st.drops[r]);
  const sessions = m.gauge('agent_datapath_sessions', 'Encrypted sessions with other nodes, per network and peer node: 1 for the current state.', ['network', 'peer', 'state']);
  const sbytes = m.counter('agent_datapath_session_bytes_total', 'VXLAN bytes sealed to (out) and opened from (in) the peer on the network.', ['network', 'peer', 'direction']);
  const last = m.gauge('agent_datapath_session_last_handshake_timestamp_seconds', 'When the last handshake with the peer on the network completed, in seconds since the epoch.', ['network', 'peer']);
  for (const vni of f.vnis()) {
    const network = names.byVni(vni);
    for (const s of sp.status(vni)) {
      for (const state of SESSION_STATES) sessions.add({ network, peer: s.nodeId, state }, s.state === state ? 1 : 0);
      sbytes.add({ network, peer: s.nodeId, direction: 'in' }, s.rxBytes).add({ network, peer: s.nodeId, direction: 'out' }, s.txBytes);
      if (s.lastHandshakeWallMs !== null) last.add({ network, peer: s.nodeId }, s.lastHandshakeWallMs / 1000);
    }
  }
}

export function dnsMetrics(m: MetricSet, dns: { readonly stats: DnsStats } | undefined): void {
  const s = dns?.stats;
  const q = m.counter('agent_dns_queries_total', 'Queries to the built-in resolver, by how they were answered (answered: from the service records, NXDOMAIN included; forwarded: by an upstream).', ['answer']);
  for (const a of DNS_ANSWERS) q.add({ answer: a }, s?.[a] ?? 0);
  m.counter('agent_dns_truncated_total', 'Replies sent with the TC bit (answered or forwarded).').add({}, s?.truncated ?? 0);
}
