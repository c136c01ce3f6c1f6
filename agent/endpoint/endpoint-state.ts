// What a node keeps of its standalone endpoints (`agent run`, `network
// connect --netns`) in the state dir, so a restarted daemon finds its
// endpoints, their processes and their sandboxes again (issue 6: restart
// rebuilds the plumbing; endpoints keep their addresses). One file,
// `endpoints.cbor`, mode 0600, replaced atomically:
//
//   ["agent/endpoints", 1, {endpoints: [EndpointRecord...], pipes: {vni: index}}]
//
// The managers hold each endpoint's addresses (an attachment task); this file
// holds what only this node knows: names, namespaces, links, processes.
import { join } from 'node:path';
import type { SecretFileIo } from '../cluster/ca/secret-file.js';
import { decodeCbor, encodeCanonical } from '../cluster/store/cbor.js';
import { arrayOf, bool, FieldError, int, nonEmpty, obj, oneOf, opt, recordOf, str, type Check } from '../cluster/store/validate.js';

export const ENDPOINTS_FILE = 'endpoints.cbor';
const CONTEXT = 'agent/endpoints';
const VERSION = 1;

/** One overlay interface of an endpoint. */
export interface EndpointNet {
  networkId: string;
  /** The network's name when attached (for ps and inspect). */
  name: string;
  vni: number;
  subnet: string;
  gateway: string;
  /** CIDR form, as the managers handed it out. */
  address: string;
  mac: string;
  mtu: number;
  /** eth0, eth1, ... inside the endpoint's netns. */
  ifname: string;
  /** Its peer, inside the network's sandbox (on br0). */
  sandboxLink: string;
  /** The network's frames cross nodes sealed (issue 7). */
  encrypted?: boolean;
  /** `network create --internal`: no way out through this network (endpoint-wiring.ts reachesOut). */
  internal?: boolean;
  /** A task of a vip-mode service: the service's VIP here (plain IPv4), for its DNS record. */
  vip?: string;
}

export interface EndpointRecord {
  id: string;
  name: string;
  /** Our name for its netns (an alias bind-mounted over --netns PATH for external ones). */
  netns: string;
  /** `network connect --netns PATH`: the namespace belongs to another runtime. */
  external?: string;
  /** What runs inside (empty for external namespaces). */
  command: string[];
  /** The wrapper process (its group holds the command); absent for external namespaces. */
  pid?: number;
  createdAtMs: number;
  networks: EndpointNet[];
  /** The gwbridge interface: address in CIDR form and the host-side link. */
  gw?: { address: string; gateway: string; hostLink: string };
  /** A service task (issue 8): its addresses are the managers' to give back, not this node's. */
  task?: { serviceId: string; serviceName: string; slot?: number };
  /** KEY=VALUE the command was started with. */
  env?: string[];
  /** `agent run -p` (issue 10): published on all of the node's addresses, each published port+protocol once. */
  ports?: EndpointPort[];
  /** The node's ingress sandbox (issue 10): no process, its address is the managers' (`lb:<node id>`). */
  ingress?: boolean;
}

export interface EndpointPort {
  protocol: 'tcp' | 'udp' | 'sctp';
  target: number;
  published: number;
}

export interface EndpointFile {
  endpoints: EndpointRecord[];
  /** The routing mesh's sandbox on this node, once the managers gave it an ingress address. */
  ingress?: EndpointRecord;
  /** Sandbox pipe index (a /30 of 169.254.64.0/18) per VNI with a local sandbox. */
  pipes: Record<string, number>;
}

const MAX_PORT = 65535;
/** A port number 1-65535 (the local API checks `agent run -p` with it too). */
export const portNumber: Check<number> = (v, path) => {
  const n = int(1)(v, path);
  if (n > MAX_PORT) throw new FieldError(`${path}: expected a port 1-${MAX_PORT}, got number ${n}`);
  return n;
};

const net = obj({
  networkId: nonEmpty,
  name: str,
  vni: int(0),
  subnet: nonEmpty,
  gateway: str,
  address: nonEmpty,
  mac: nonEmpty,
  mtu: int(68),
  ifname: nonEmpty,
  sandboxLink: nonEmpty,
  encrypted: opt(bool),
  internal: opt(bool),
  vip: opt(nonEmpty),
});

const record = obj({
  id: nonEmpty,
  name: nonEmpty,
  netns: nonEmpty,
  external: opt(nonEmpty),
  command: arrayOf(str),
  pid: opt(int(1)),
  createdAtMs: int(0),
  networks: arrayOf(net),
  gw: opt(obj({ address: nonEmpty, gateway: nonEmpty, hostLink: nonEmpty })),
  task: opt(obj({ serviceId: nonEmpty, serviceName: nonEmpty, slot: opt(int(1)) })),
  env: opt(arrayOf(str)),
  ports: opt(arrayOf(obj({ protocol: oneOf('tcp', 'udp', 'sctp'), target: portNumber, published: portNumber }))),
  ingress: opt(bool),
});

const check = obj({
  endpoints: arrayOf(record),
  ingress: opt(record),
  pipes: recordOf(int(0)),
});

export function endpointsPath(stateDir: string): string {
  return join(stateDir, ENDPOINTS_FILE);
}

export function encodeEndpoints(f: EndpointFile): Uint8Array {
  return encodeCanonical([CONTEXT, VERSION, f]);
}

/** Throws `<path>: ...` naming what is wrong. */
export function decodeEndpoints(b: Uint8Array, path: string): EndpointFile {
  let v: unknown;
  try {
    v = decodeCbor(b);
  } catch (e) {
    throw new Error(`${path}: not an endpoints file: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 3 || v[0] !== CONTEXT) throw new Error(`${path}: not an endpoints file`);
  if (v[1] !== VERSION) throw new Error(`${path}: unsupported endpoints file version ${String(v[1])} (this agent reads ${VERSION})`);
  try {
    return check(v[2], 'endpoints') as EndpointFile;
  } catch (e) {
    if (e instanceof FieldError) throw new Error(`${path}: ${e.message}`);
    throw e;
  }
}

export function loadEndpoints(stateDir: string, io: SecretFileIo): EndpointFile {
  const path = endpointsPath(stateDir);
  const f = io.read(path);
  return f ? decodeEndpoints(f.bytes, path) : { endpoints: [], pipes: {} };
}

export function saveEndpoints(stateDir: string, f: EndpointFile, io: SecretFileIo): void {
  io.writeAtomic(endpointsPath(stateDir), encodeEndpoints(f), 0o600);
}
