// The /services and /tasks routes (docs/local-api.md, issue 8): every one is
// a leader operation, from a manager. A network that exists only on this
// node (a bridge network) is refused here, where it is known.
import type { ApiServer, Request } from '../api/server.js';
import type { ServiceCreateRequest, ServiceUpdateRequest } from '../api/types.js';
import type { LocalNetworks } from '../network/local-networks.js';
import { RemoteError } from '../swarm/rpc.js';
import type { SwarmNode } from '../swarm/swarm-node.js';
import { api } from './swarm-routes.js';

function localOnly(local: LocalNetworks, refs: readonly unknown[] | undefined): void {
  for (const ref of refs ?? []) {
    const b = typeof ref === 'string' ? local.find(ref) : undefined;
    if (b) throw new RemoteError('EINVAL', `network ${b.network.name} is not eligible for services: only overlay networks are (it is a ${b.network.driver} network of this node)`);
  }
}

function offsetsOf(req: Request): Record<string, number> {
  const text = req.query.get('offsets');
  if (text === null || text === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new RemoteError('EINVAL', 'query parameter offsets: expected a JSON object of task id to byte offset');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RemoteError('EINVAL', 'query parameter offsets: expected a JSON object of task id to byte offset');
  return v as Record<string, number>;
}

function tailOf(req: Request): number | undefined {
  const t = req.query.get('tail');
  if (t === null || t === '' || t === 'all') return undefined;
  const n = Number(t);
  if (!Number.isInteger(n) || n < 0) throw new RemoteError('EINVAL', `query parameter tail: expected a number of lines or "all", got ${JSON.stringify(t)}`);
  return n;
}

export function mountServiceRoutes(server: ApiServer, swarm: () => SwarmNode, local: () => LocalNetworks): void {
  server
    .route('POST', '/services/create', (req) =>
      api(() => {
        const r = (req.body ?? {}) as ServiceCreateRequest;
        localOnly(local(), r.Networks);
        return swarm().op('serviceCreate', { req: r });
      }),
    )
    .route('GET', '/services', () => api(() => swarm().op('serviceList', {})))
    .route('GET', '/services/:id', (req) => api(() => swarm().op('serviceInspect', { ref: req.params['id']! })))
    .route('POST', '/services/:id/update', (req) =>
      api(() => {
        const r = (req.body ?? {}) as ServiceUpdateRequest;
        localOnly(local(), r.NetworksAdd);
        return swarm().op('serviceUpdate', { ref: req.params['id']!, req: r });
      }),
    )
    .route('DELETE', '/services/:id', (req) => api(async () => (await swarm().op('serviceRemove', { ref: req.params['id']! }), {})))
    .route('GET', '/services/:id/logs', (req) => api(() => swarm().op('serviceLogs', { ref: req.params['id']!, offsets: offsetsOf(req), ...optTail(req) })))
    .route('GET', '/tasks', (req) =>
      api(() => {
        const service = req.query.get('service');
        const node = req.query.get('node');
        return swarm().op('taskList', { ...(service ? { service } : {}), ...(node ? { node } : {}) });
      }),
    );
}

function optTail(req: Request): { tail?: number } {
  const t = tailOf(req);
  return t === undefined ? {} : { tail: t };
}
