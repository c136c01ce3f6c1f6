// The shape of each kind's draft (types.ts without meta), checked on every
// decoded command and snapshot. The `satisfies` clauses make tsc prove that
// what a checker returns is the type the rest of the store relies on.

import type { Draft, Kind, ServiceMode } from './types.js';
import { arrayOf, bool, bytes, exactly, FieldError, int, nonEmpty, obj, oneOf, opt, recordOf, str, type Check } from './validate.js';

const id = nonEmpty;
const labels = recordOf(str);
const strings = arrayOf(str);

const node: Check<Draft<'node'>> = obj({
  id,
  role: oneOf('manager', 'worker'),
  availability: oneOf('active', 'pause', 'drain'),
  hostname: str,
  addr: str,
  dataAddr: str,
  publicKey: bytes,
  certificate: opt(bytes),
  labels,
  status: obj({ state: oneOf('unknown', 'down', 'ready', 'disconnected'), message: str }),
  joinedAtMs: opt(int(0)),
  engineVersion: opt(str),
});

const network: Check<Draft<'network'>> = obj({
  id,
  name: nonEmpty,
  driver: oneOf('overlay', 'bridge'),
  // 24-bit VXLAN network identifier (RFC 7348 §5).
  vni: opt((v, p) => {
    const n = int(1)(v, p);
    if (n > 0xff_ffff) throw new FieldError(`${p}: expected an integer <= ${0xff_ffff}, got number ${n}`);
    return n;
  }),
  ipam: obj({ subnet: str, gateway: str, ipRange: opt(str) }),
  options: labels,
  labels,
  attachable: bool,
  ingress: bool,
  internal: bool,
  encrypted: bool,
  mtu: opt(int(1)),
  createdAtMs: opt(int(0)),
});

const serviceMode: Check<ServiceMode> = (v, path) => {
  if (typeof v === 'object' && v !== null && 'global' in v) return obj({ global: exactly(true) })(v, path);
  return obj({ replicated: int(0) })(v, path);
};

const TASK_STATES = [
  'new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting',
  'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned',
] as const;
const taskState = oneOf(...TASK_STATES);

const service: Check<Draft<'service'>> = obj({
  id,
  name: nonEmpty,
  mode: serviceMode,
  spec: obj({
    command: strings,
    env: strings,
    networks: arrayOf(obj({ target: nonEmpty, aliases: strings })),
    ports: arrayOf(
      obj({ protocol: oneOf('tcp', 'udp'), targetPort: int(1), publishedPort: opt(int(1)), publishMode: oneOf('ingress', 'host'), proxyProtocol: opt(oneOf('v2')) }),
    ),
    endpointMode: oneOf('vip', 'dnsrr'),
    constraints: strings,
    restart: obj({ condition: oneOf('none', 'on-failure', 'any'), delayMs: int(0), maxAttempts: int(0), windowMs: int(0) }),
    updateOrder: opt(oneOf('stop-first', 'start-first')),
  }),
  vips: recordOf(str),
  generation: int(0),
  forceUpdate: int(0),
  createdAtMs: opt(int(0)),
  updatedAtMs: opt(int(0)),
});

const task: Check<Draft<'task'>> = obj({
  id,
  serviceId: opt(nonEmpty),
  slot: opt(int(1)),
  name: opt(nonEmpty),
  nodeId: str,
  command: opt(strings),
  desiredState: taskState,
  status: obj({ state: taskState, message: str, err: opt(str), timestampMs: opt(int(0)), exitCode: opt(int(-1)) }),
  addresses: recordOf(str),
  generation: opt(int(0)),
  createdAtMs: opt(int(0)),
});

const ipam: Check<Draft<'ipam'>> = obj({
  id,
  networkId: opt(nonEmpty),
  pool: str,
  subnet: str,
  addresses: recordOf(str),
});

const key: Check<Draft<'key'>> = obj({
  id,
  kind: oneOf('gossip', 'data'),
  networkId: opt(nonEmpty),
  generation: int(0),
  key: bytes,
  createdAtMs: int(0),
});

const token: Check<Draft<'token'>> = obj({ id, worker: str, manager: str });

const cluster: Check<Draft<'cluster'>> = obj({
  id,
  name: nonEmpty,
  defaultAddrPool: strings,
  subnetSize: int(0),
  keyRotationMs: int(0),
  heartbeatMs: int(0),
  dataPathPort: int(0),
  rootCa: opt(obj({ certificate: bytes, key: opt(bytes) })),
  certExpiryMs: opt(int(1)),
  createdAtMs: opt(int(0)),
  updatedAtMs: opt(int(0)),
});

/** The draft checker of each kind. */
export const DRAFT_CHECKS: { readonly [K in Kind]: Check<Draft<K>> } = { node, network, service, task, ipam, key, token, cluster };

/** Meta as stored in a snapshot. */
export const metaCheck = obj({ version: int(1), createdAtIndex: int(1), updatedAtIndex: int(1) });
