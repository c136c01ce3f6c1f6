// The leader operations by name, as followers forward them ('op' requests)
// and the daemon's API calls them. Arguments that came over the wire are
// checked here, at the boundary, with exact messages (STYLE habit 9).
import { arrayOf, bool, bytes, FieldError, int, nonEmpty, obj, oneOf, opt, recordOf, str, type Check } from '../cluster/store/validate.js';
import { invalid } from './errors.js';
import type { LeaderOps } from './leader-ops.js';
import type { NetworkCreateRequest } from '../api/types.js';

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
