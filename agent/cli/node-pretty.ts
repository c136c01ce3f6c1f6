// `agent node inspect --pretty`: docker's human summary of a node. docker
// writes its labels with tabs to reach column 24; the same column is reached
// here with spaces, so the output looks alike and does not depend on tab stops.
import type { NodeInspect } from '../api/types.js';
import { capitalize } from './node-ref.js';

const VALUE_COLUMN = 24;

function line(label: string, value: string | number): string {
  return `${label.padEnd(VALUE_COLUMN - 1)} ${value}\n`;
}

/** An RFC 3339 UTC time as Go prints a time.Time ("2006-01-02 15:04:05.999999999 +0000 UTC"); anything else as it came. */
export function goTime(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(iso);
  if (!m) return iso;
  const frac = (m[3] ?? '').replace(/0+$/, '');
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} +0000 UTC`;
}

export function prettyNode(n: NodeInspect): string {
  let s = line('ID:', n.ID);
  const labels = Object.keys(n.Spec.Labels ?? {}).sort();
  if (labels.length > 0) {
    s += 'Labels:\n';
    for (const k of labels) s += ` - ${k}${n.Spec.Labels[k] ? `=${n.Spec.Labels[k]}` : ''}\n`;
  }
  s += line('Hostname:', n.Description.Hostname);
  s += line('Joined at:', goTime(n.CreatedAt));
  s += 'Status:\n';
  s += line(' State:', capitalize(n.Status.State));
  if (n.Status.Message) s += line(' Message:', capitalize(n.Status.Message));
  s += line(' Availability:', capitalize(n.Spec.Availability));
  if (n.Status.Addr) s += line(' Address:', n.Status.Addr);
  if (n.ManagerStatus) {
    s += 'Manager Status:\n';
    s += line(' Address:', n.ManagerStatus.Addr);
    s += line(' Raft Status:', capitalize(n.ManagerStatus.Reachability));
    s += line(' Leader:', n.ManagerStatus.Leader ? 'Yes' : 'No');
  }
  s += 'Platform:\n';
  s += line(' Operating System:', n.Description.Platform.OS);
  s += line(' Architecture:', n.Description.Platform.Architecture);
  s += line('Engine Version:', n.Description.Engine.EngineVersion);
  if (n.Certificate) {
    s += 'TLS Info:\n';
    s += line(' Certificate Serial:', n.Certificate.Serial);
    s += line(' Certificate Expiry:', goTime(new Date(n.Certificate.NotAfterMs).toISOString()));
  }
  // Ours, not docker's: how the node's data path and gossip fare, as it last reported.
  if (n.DataPath) {
    const peers = n.DataPath.Networks.flatMap((x) => x.Peers);
    const up = peers.filter((p) => p.State === 'up').length;
    s += 'Data Path:\n';
    s += line(' Encrypted Networks:', String(n.DataPath.Networks.length));
    s += line(' Sessions Up:', `${up} of ${peers.length}`);
    for (const p of peers.filter((x) => x.State !== 'up')) s += line(`  ${p.Hostname || p.NodeID}:`, `${p.State}${p.Reason ? ` (${p.Reason})` : ''}`);
    if (n.DataPath.Error) s += line(' Error:', n.DataPath.Error);
  }
  if (n.Gossip) {
    const g = n.Gossip;
    s += 'Gossip:\n';
    s += line(' State:', capitalize(g.State));
    s += line(' Members:', `${g.MembersAlive} alive, ${g.MembersSuspect} suspect, ${g.MembersDead} dead`);
    s += line(' Probe Failures:', String(g.ProbeFailures));
    s += line(' Key Generations:', g.KeyGenerations.join(', '));
    s += line(' Dropped:', String(g.Dropped));
  }
  return s;
}
