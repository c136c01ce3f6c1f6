// Store objects as the local API shows them (agent/api/types.ts, docker's
// Node and Swarm objects). Pure: the caller passes who leads and who is
// reachable.
import type { NetworkInspect, NodeInspect, SwarmInspect } from '../api/types.js';
import { decodeCertificate } from '../cluster/ca/certificate.js';
import { caDigest } from '../cluster/ca/ca-root.js';
import type { ClusterSettings, Network, Node, Token } from '../cluster/store/types.js';
import { DEFAULT_CERT_VALIDITY_MS } from '../cluster/ca/ca.js';

export interface ManagerFacts {
  leaderId: string | undefined;
  voters: readonly string[];
  /** Managers the leader heard from recently (itself included). */
  reachable: ReadonlySet<string>;
}

function iso(ms: number | undefined): string {
  return ms === undefined ? '' : new Date(ms).toISOString();
}

export function nodeView(n: Node, m: ManagerFacts): NodeInspect {
  const v: NodeInspect = {
    ID: n.id,
    Version: { Index: n.meta.version },
    CreatedAt: iso(n.joinedAtMs),
    UpdatedAt: '',
    Spec: { Role: n.role, Availability: n.availability, Labels: { ...n.labels } },
    Description: { Hostname: n.hostname, Platform: { OS: 'linux', Architecture: process.arch }, Engine: { EngineVersion: n.engineVersion ?? '' } },
    Status: { State: n.status.state, Message: n.status.message, Addr: hostOf(n.addr) },
  };
  if (n.role === 'manager' || m.voters.includes(n.id)) {
    v.ManagerStatus = {
      Leader: m.leaderId === n.id,
      Reachability: m.reachable.has(n.id) ? 'reachable' : m.voters.includes(n.id) ? 'unreachable' : 'unknown',
      Addr: n.addr,
    };
  }
  if (n.certificate) {
    const c = decodeCertificate(n.certificate);
    v.Certificate = { Serial: c.serial, NotAfterMs: c.notAfterMs };
  }
  return v;
}

export function swarmView(c: ClusterSettings, t: Token | undefined): SwarmInspect {
  return {
    ID: c.id,
    Version: { Index: c.meta.version },
    CreatedAt: iso(c.createdAtMs),
    UpdatedAt: iso(c.updatedAtMs ?? c.createdAtMs),
    Spec: {
      Name: c.name,
      Dispatcher: { HeartbeatPeriodMs: c.heartbeatMs },
      CAConfig: { NodeCertExpiryMs: c.certExpiryMs ?? DEFAULT_CERT_VALIDITY_MS },
      EncryptionConfig: { KeyRotationMs: c.keyRotationMs },
    },
    CaDigest: c.rootCa ? caDigest(c.rootCa.certificate) : '',
    JoinTokens: { Worker: t?.worker ?? '', Manager: t?.manager ?? '' },
    DefaultAddrPool: [...c.defaultAddrPool],
    SubnetSize: c.subnetSize,
    DataPathPort: c.dataPathPort,
  };
}

/** "host" of "host:port" (IPv6 in brackets kept bare). */
export function hostOf(addr: string): string {
  const m = /^\[(.*)\]:\d+$/.exec(addr);
  if (m) return m[1]!;
  const i = addr.lastIndexOf(':');
  return i < 0 ? addr : addr.slice(0, i);
}

/**
 * The node a reference names, docker's way: an exact id, then an exact
 * hostname, then a unique id prefix. Ambiguity is an error naming the count.
 */
export function resolveNodeRef(nodes: readonly Node[], ref: string): Node | { error: 'not-found' | 'ambiguous'; message: string } {
  const byId = nodes.find((n) => n.id === ref);
  if (byId) return byId;
  const byName = nodes.filter((n) => n.hostname === ref);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) return { error: 'ambiguous', message: `node ${ref} is ambiguous (${byName.length} matches)` };
  const byPrefix = nodes.filter((n) => n.id.startsWith(ref));
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) return { error: 'ambiguous', message: `node ${ref} is ambiguous (${byPrefix.length} matches)` };
  return { error: 'not-found', message: `node ${ref} not found` };
}

/** A store network as docker's Network object. */
export function networkView(n: Network): NetworkInspect {
  const v: NetworkInspect = {
    Name: n.name,
    Id: n.id,
    Created: iso(n.createdAtMs),
    Scope: n.driver === 'overlay' ? 'swarm' : 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: n.ipam.subnet, Gateway: n.ipam.gateway, ...(n.ipam.ipRange ? { IPRange: n.ipam.ipRange } : {}) }] },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: n.ingress,
    ConfigOnly: false,
    Options: { ...n.options },
    Labels: { ...n.labels },
  };
  if (n.vni !== undefined) v.VNI = n.vni;
  return v;
}

/** The network a reference names, docker's way: exact id, exact name, then a unique id prefix. */
export function resolveNetworkRef(networks: readonly Network[], ref: string): Network | { error: 'not-found' | 'ambiguous'; message: string } {
  const exact = networks.find((n) => n.id === ref) ?? networks.find((n) => n.name === ref);
  if (exact) return exact;
  const byPrefix = networks.filter((n) => n.id.startsWith(ref));
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) return { error: 'ambiguous', message: `network ${ref} is ambiguous (${byPrefix.length} matches)` };
  return { error: 'not-found', message: `network ${ref} not found` };
}
