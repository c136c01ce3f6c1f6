// The local API of the swarm and its nodes (docs/local-api.md): bodies are
// checked here with exact messages, then handed to the SwarmNode. Control
// plane errors become one-line API errors with a status.
import { ApiError, UsageError } from '../../shared/errors.js';
import type { ApiServer, Request } from '../api/server.js';
import { body } from './request-body.js';
import { arrayOf, bool, int, obj, oneOf, opt, recordOf, str } from '../cluster/store/validate.js';
import { statusOf } from '../swarm/errors.js';
import { ChannelClosedError, RemoteError } from '../swarm/rpc.js';
import type { SwarmNode } from '../swarm/swarm-node.js';

const spec = opt(
  obj({
    Dispatcher: opt(obj({ HeartbeatPeriodMs: opt(int(1)) })),
    CAConfig: opt(obj({ NodeCertExpiryMs: opt(int(1)) })),
    EncryptionConfig: opt(obj({ KeyRotationMs: opt(int(1)) })),
  }),
);

const initBody = obj({
  ListenAddr: opt(str),
  AdvertiseAddr: opt(str),
  DataPathAddr: opt(str),
  DataPathPort: opt(int(0)),
  DefaultAddrPool: opt(arrayOf(str)),
  SubnetSize: opt(int(0)),
  ForceNewCluster: opt(bool),
  Spec: spec,
});

const joinBody = obj({
  ListenAddr: opt(str),
  AdvertiseAddr: opt(str),
  DataPathAddr: opt(str),
  RemoteAddrs: arrayOf(str),
  JoinToken: str,
});

const nodeUpdateBody = obj({
  Role: opt(oneOf('manager', 'worker')),
  Availability: opt(oneOf('active', 'pause', 'drain')),
  Labels: opt(recordOf(str)),
});

function version(req: Request): number {
  const v = req.query.get('version');
  const n = Number(v);
  if (v === null || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`query parameter version: expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

function flag(req: Request, name: string): boolean {
  const v = req.query.get(name);
  return v === '1' || v === 'true';
}

/** docker's `filters` query ({"label": {"k=v": true}}): the label values; any other filter is refused. */
export function labelFilters(req: Request): string[] {
  const raw = req.query.get('filters');
  if (raw === null || raw === '') return [];
  let f: unknown;
  try {
    f = JSON.parse(raw);
  } catch {
    throw new UsageError('query parameter filters: not valid JSON');
  }
  if (typeof f !== 'object' || f === null || Array.isArray(f)) throw new UsageError('query parameter filters: expected an object of filter names');
  const out: string[] = [];
  for (const [name, values] of Object.entries(f as Record<string, unknown>)) {
    if (name !== 'label') throw new UsageError(`query parameter filters: unsupported filter ${JSON.stringify(name)} (only label)`);
    if (typeof values !== 'object' || values === null) throw new UsageError('query parameter filters: label must map values to true');
    out.push(...Object.keys(values));
  }
  return out;
}

/** Control-plane errors as API errors: one line and a status. */
export async function api<T>(f: () => Promise<T> | T): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof RemoteError) throw new ApiError(e.message, statusOf(e.code));
    if (e instanceof ChannelClosedError) throw new ApiError(`the manager went away during the request: ${e.message}`, 503);
    throw e;
  }
}

/** joined: told after a successful init or join (the data plane starts following the membership). */
/** beforeLeave: may refuse a leave (endpoints on overlays) or clean up first (--force). */
export function mountSwarmRoutes(server: ApiServer, swarm: () => SwarmNode, joined: () => void = () => {}, beforeLeave: (force: boolean) => Promise<void> = async () => {}): void {
  server
    .route('POST', '/swarm/init', (req) => api(() => swarm().init(body(initBody, req))).then((r) => (joined(), r)))
    .route('POST', '/swarm/join', (req) => api(() => swarm().join(body(joinBody, req))).then((r) => (joined(), r)))
    .route('POST', '/swarm/leave', (req) =>
      api(async () => {
        await beforeLeave(flag(req, 'force'));
        await swarm().leave(flag(req, 'force'));
        return {};
      }),
    )
    .route('GET', '/swarm', () => api(() => swarm().swarmInspect()))
    .route('POST', '/swarm/update', (req) =>
      api(async () => {
        const s = body(spec, req) ?? {};
        await swarm().swarmUpdate(version(req), s, flag(req, 'rotateWorkerToken'), flag(req, 'rotateManagerToken'));
        return {};
      }),
    )
    .route('GET', '/nodes', () => api(() => swarm().nodeList()))
    .route('GET', '/nodes/:id', (req) => api(() => swarm().nodeInspect(req.params['id']!)))
    .route('POST', '/nodes/:id/update', (req) => api(async () => (await swarm().nodeUpdate(req.params['id']!, version(req), body(nodeUpdateBody, req)), {})))
    .route('DELETE', '/nodes/:id', (req) => api(async () => (await swarm().nodeRemove(req.params['id']!, flag(req, 'force')), {})));
}
