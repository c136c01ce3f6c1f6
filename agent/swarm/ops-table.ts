// The leader operations by name, as followers forward them ('op' requests)
// and the daemon's API calls them. Arguments that came over the wire are
// checked here, at the boundary, with exact messages (STYLE habit 9).
import { arrayOf, bool, bytes, FieldError, int, nonEmpty, obj, oneOf, opt, recordOf, str, type Check } from '../cluster/store/validate.js';
import { invalid } from './errors.js';
import type { LeaderOps } from './leader-ops.js';
import type { NetworkCreateRequest, ServiceCreateRequest, ServiceUpdateRequest } from '../api/types.js';

const portSpec = obj({ Protocol: oneOf('tcp', 'udp'), TargetPort: int(1), PublishedPort: opt(int(1)), PublishMode: oneOf('ingress', 'host'), ProxyProtocol: opt(oneOf('v2')) });
const restartSpec = obj({ Condition: opt(oneOf('none', 'on-failure', 'any')), DelayMs: opt(int(0)), MaxAttempts: opt(int(0)), WindowMs: opt(int(0)) });

const checks = {
  join: obj({
    nodeId: nonEmpty,
    publicKey: bytes,
    role: oneOf('manager', 'worker'),
    hostname: str,
    addr: nonEmpty,
    dataAddr: str,
    engineVersion: str,
  }),
  renew: obj({ nodeId: nonEmpty, publicKey: bytes }),
  nodeList: opt(obj({})),
  nodeInspect: obj({ ref: nonEmpty }),
  nodeUpdate: obj({
    ref: nonEmpty,
    update: obj({ version: int(1), role: opt(oneOf('manager', 'worker')), availability: opt(oneOf('active', 'pause', 'drain')), labels: opt(recordOf(str)) }),
  }),
  nodeRemove: obj({ ref: nonEmpty, force: bool }),
  swarmInspect: opt(obj({})),
  swarmUpdate: obj({
    version: int(1),
    heartbeatMs: opt(int(1)),
    certExpiryMs: opt(int(1)),
    keyRotationMs: opt(int(1)),
    rotateWorkerToken: opt(bool),
    rotateManagerToken: opt(bool),
  }),
  managerLeave: obj({ nodeId: nonEmpty }),
  networkCreate: obj({
    Name: nonEmpty,
    Driver: opt(oneOf('overlay', 'bridge')),
    Attachable: opt(bool),
    Ingress: opt(bool),
    Internal: opt(bool),
    IPAM: opt(obj({ Config: opt(arrayOf(obj({ Subnet: opt(str), Gateway: opt(str), IPRange: opt(str) }))) })),
    Options: opt(recordOf(str)),
    Labels: opt(recordOf(str)),
  }),
  networkList: opt(obj({})),
  networkInspect: obj({ ref: nonEmpty }),
  networkRemove: obj({ ref: nonEmpty }),
  networkPrune: opt(obj({ labels: opt(arrayOf(str)) })),
  attach: obj({ nodeId: nonEmpty, taskId: nonEmpty, name: str, network: nonEmpty, ip: opt(nonEmpty) }),
  detach: obj({ nodeId: nonEmpty, taskId: nonEmpty, network: opt(nonEmpty) }),
  // Shapes here; values (names, ports, constraints) in service-spec.ts, with docker's messages.
  serviceCreate: obj({
    req: obj({
      Name: str,
      Mode: opt((v, p) => (typeof v === 'object' && v !== null && 'Global' in v ? obj({ Global: obj({}) })(v, p) : obj({ Replicated: obj({ Replicas: int(0) }) })(v, p))),
      Command: arrayOf(str),
      Env: opt(arrayOf(str)),
      Networks: opt(arrayOf(str)),
      Ports: opt(arrayOf(portSpec)),
      EndpointMode: opt(oneOf('vip', 'dnsrr')),
      Constraints: opt(arrayOf(str)),
      RestartPolicy: opt(restartSpec),
      UpdateOrder: opt(oneOf('stop-first', 'start-first')),
    }),
  }),
  serviceList: opt(obj({})),
  serviceInspect: obj({ ref: nonEmpty }),
  serviceUpdate: obj({
    ref: nonEmpty,
    req: obj({
      Replicas: opt(int(0)),
      NetworksAdd: opt(arrayOf(str)),
      NetworksRm: opt(arrayOf(str)),
      PortsAdd: opt(arrayOf(portSpec)),
      PortsRm: opt(arrayOf(obj({ PublishedPort: opt(int(1)), TargetPort: opt(int(1)), Protocol: opt(oneOf('tcp', 'udp')) }))),
      EnvAdd: opt(arrayOf(str)),
      EnvRm: opt(arrayOf(str)),
      ConstraintsAdd: opt(arrayOf(str)),
      ConstraintsRm: opt(arrayOf(str)),
      RestartPolicy: opt(restartSpec),
      UpdateOrder: opt(oneOf('stop-first', 'start-first')),
      Command: opt(arrayOf(str)),
      Force: opt(bool),
    }),
  }),
  serviceRemove: obj({ ref: nonEmpty }),
  serviceLogs: obj({ ref: nonEmpty, offsets: recordOf(int(0)), tail: opt(int(0)) }),
  taskList: obj({ service: opt(nonEmpty), node: opt(nonEmpty) }),
  taskStatus: obj({
    nodeId: nonEmpty,
    taskId: nonEmpty,
    state: oneOf('preparing', 'starting', 'running', 'complete', 'failed', 'rejected', 'shutdown'),
    message: str,
    err: opt(str),
    exitCode: opt(int(-1)),
    timestampMs: int(0),
  }),
} satisfies Record<string, Check<unknown>>;

type Args<N extends keyof typeof checks> = ReturnType<(typeof checks)[N]>;

export const OPS = {
  join: (o: LeaderOps, a: Args<'join'>) => o.join(a),
  renew: (o: LeaderOps, a: Args<'renew'>) => o.renew(a.nodeId, a.publicKey),
  nodeList: (o: LeaderOps, _a: Args<'nodeList'>) => o.nodeList(),
  nodeInspect: (o: LeaderOps, a: Args<'nodeInspect'>) => o.nodeInspect(a.ref),
  nodeUpdate: (o: LeaderOps, a: Args<'nodeUpdate'>) => o.nodeUpdate(a.ref, a.update),
  nodeRemove: (o: LeaderOps, a: Args<'nodeRemove'>) => o.nodeRemove(a.ref, a.force),
  swarmInspect: (o: LeaderOps, _a: Args<'swarmInspect'>) => o.swarmInspect(),
  swarmUpdate: (o: LeaderOps, a: Args<'swarmUpdate'>) => o.swarmUpdate(a),
  managerLeave: (o: LeaderOps, a: Args<'managerLeave'>) => o.managerLeave(a.nodeId),
  networkCreate: (o: LeaderOps, a: Args<'networkCreate'>) => o.networks.create(a as NetworkCreateRequest),
  networkList: (o: LeaderOps, _a: Args<'networkList'>) => o.networks.list(),
  networkInspect: (o: LeaderOps, a: Args<'networkInspect'>) => o.networks.inspect(a.ref),
  networkRemove: (o: LeaderOps, a: Args<'networkRemove'>) => o.networks.remove(a.ref),
  networkPrune: (o: LeaderOps, a: Args<'networkPrune'>) => o.networks.prune(a?.labels ?? []),
  attach: (o: LeaderOps, a: Args<'attach'>) => o.attachments.attach(a),
  detach: (o: LeaderOps, a: Args<'detach'>) => o.attachments.detach(a),
  serviceCreate: (o: LeaderOps, a: Args<'serviceCreate'>) => o.services.create(a.req as ServiceCreateRequest),
  serviceList: (o: LeaderOps, _a: Args<'serviceList'>) => o.services.list(),
  serviceInspect: (o: LeaderOps, a: Args<'serviceInspect'>) => o.services.inspect(a.ref),
  serviceUpdate: (o: LeaderOps, a: Args<'serviceUpdate'>) => o.services.update(a.ref, a.req as ServiceUpdateRequest),
  serviceRemove: (o: LeaderOps, a: Args<'serviceRemove'>) => o.services.remove(a.ref),
  serviceLogs: (o: LeaderOps, a: Args<'serviceLogs'>) => o.services.logs(a.ref, a.offsets, a.tail),
  taskList: (o: LeaderOps, a: Args<'taskList'>) => o.services.tasks(a),
  taskStatus: (o: LeaderOps, a: Args<'taskStatus'>) => o.services.taskStatus(a),
} as const;

export type OpName = keyof typeof OPS;

/** Check the arguments of op name, then run it. */
export async function callOp<N extends OpName>(ops: LeaderOps, name: N, args: unknown): Promise<unknown> {
  let checked: unknown;
  try {
    checked = (checks[name] as Check<unknown>)(args === null ? undefined : args, name);
  } catch (e) {
    if (e instanceof FieldError) throw invalid(e.message);
    throw e;
  }
  return (OPS[name] as (o: LeaderOps, a: unknown) => Promise<unknown>)(ops, checked);
}
