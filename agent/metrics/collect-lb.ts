// New flows per backend (issue 11): which netns to read (lb-reader.ts), and
// under which service and network each backend chain's flows are shown. The
// VIP rules live in every local endpoint's netns (a client's flows are
// counted on the client's node); the routing mesh's in the ingress sandbox
// (flows that entered through a published port of this node).
import type { Logger } from '../daemon/log.js';
import { VIP_TABLE } from '../discovery/vip-rules.js';
import { MESH_TABLE } from '../mesh/mesh-rules.js';
import type { MetricSet } from './exposition.js';
import { portOfKey, vipOfKey, type FlowLabels, type FlowTotals, type LabelledCount } from './lb-counters.js';
import type { LbReader, LbTarget } from './lb-reader.js';
import type { MetricsPlanes, NetworkNames } from './planes.js';

export interface LbState {
  reader: LbReader;
  totals: FlowTotals;
  log: Logger;
  /** The last read error logged, so each is said once. */
  said: string;
}

export async function lbMetrics(m: MetricSet, p: MetricsPlanes, names: NetworkNames, s: LbState): Promise<void> {
  const sandbox = p.endpoints.ingress;
  const targets: LbTarget[] = p.endpoints.records.filter((r) => r.networks.length > 0).map((r) => ({ netns: r.netns, table: VIP_TABLE }));
  if (sandbox) targets.push({ netns: sandbox.netns, table: MESH_TABLE });
  const reads = await s.reader.read(targets);
  if (s.reader.lastError !== '' && s.reader.lastError !== s.said) s.log.warn('load-balancer counters not read; later failures are counted only', { error: s.reader.lastError });
  s.said = s.reader.lastError;

  const vipLabels = vipLabeller(p, names);
  const portLabels = portLabeller(p, sandbox?.networks[0]?.name);
  const listed = new Set(targets.map((t) => `${t.netns} ${t.table}`));
  for (const source of s.totals.sources) if (!listed.has(source)) s.totals.forget(source);
  for (const r of reads) {
    const label = r.table === MESH_TABLE ? portLabels : vipLabels;
    const counts: LabelledCount[] = r.counts.flatMap((c) => {
      const l = label(c.key);
      return l ? [{ ...c, labels: { ...l, backend: c.backend } }] : [];
    });
    s.totals.update(`${r.netns} ${r.table}`, r.handle, counts);
  }

  const flows = m.counter('agent_lb_flows_total', 'New flows given to each backend by the VIP rules of local endpoints and the routing mesh of this node.', ['service', 'network', 'backend']);
  for (const t of s.totals.totals()) flows.add(t.labels, t.flows);
  m.counter('agent_lb_read_errors_total', 'Reads of the load-balancer counters (nft in a netns) that failed.').add({}, s.reader.errors);
}

type Labeller = (key: string) => Omit<FlowLabels, 'backend'> | undefined;

/** VIP -> its service and network, from the records of the networks local endpoints are on. */
function vipLabeller(p: MetricsPlanes, names: NetworkNames): Labeller {
  const byVip = new Map<string, Omit<FlowLabels, 'backend'>>();
  const nets = new Set(p.endpoints.records.flatMap((r) => r.networks.map((n) => n.networkId)));
  for (const nid of nets) {
    for (const r of p.records.records(nid)) {
      if (r.vip !== undefined && r.service !== undefined && !byVip.has(r.vip)) byVip.set(r.vip, { service: r.service, network: names.byId(nid) });
    }
  }
  return (key) => {
    const vip = vipOfKey(key);
    return vip === undefined ? undefined : byVip.get(vip);
  };
}

/** Published port -> its service on the ingress network. */
function portLabeller(p: MetricsPlanes, network: string | undefined): Labeller {
  const services = p.ingress()?.services ?? [];
  return (key) => {
    const port = portOfKey(key);
    if (!port || network === undefined) return undefined;
    const s = services.find((x) => x.ports.some((q) => q.protocol === port.protocol && q.published === port.published));
    return s ? { service: s.name, network } : undefined;
  };
}
