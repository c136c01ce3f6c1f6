// The local API of standalone endpoints (docs/local-api.md): `agent run`,
// ps, inspect, rm, logs, and `network connect|disconnect`. Bodies are
// checked here; control-plane errors become one-line API errors.
import { ApiError } from '../../shared/errors.js';
import type { ApiServer, Request } from '../api/server.js';
import type { ContainerLogs, RunPort } from '../api/types.js';
import { arrayOf, FieldError, nonEmpty, obj, oneOf, opt, str, type Check } from '../cluster/store/validate.js';
import type { EndpointManager } from '../endpoint/endpoint-manager.js';
import { portNumber } from '../endpoint/endpoint-state.js';
import { inspectView, summaryView } from '../endpoint/endpoint-views.js';
import { readLogChunk } from '../endpoint/task-logs.js';
import { body } from './request-body.js';
import { api } from './swarm-routes.js';

const runPort = obj({ Protocol: oneOf('tcp', 'udp', 'sctp'), TargetPort: portNumber, PublishedPort: portNumber });
/** `agent run -p`: each published port+protocol once (one node address space, one owner). */
const runPorts: Check<RunPort[]> = (v, path) => {
  const ports = arrayOf(runPort)(v, path);
  ports.forEach((p, i) => {
    if (ports.findIndex((q) => q.PublishedPort === p.PublishedPort && q.Protocol === p.Protocol) < i) throw new FieldError(`${path}[${i}]: published port ${p.PublishedPort}/${p.Protocol} is given twice`);
  });
  return ports;
};

const runBody = obj({ Name: opt(nonEmpty), Networks: arrayOf(nonEmpty), IP: opt(nonEmpty), Cmd: arrayOf(str), Ports: opt(runPorts) });
const connectBody = obj({ Container: opt(nonEmpty), NetNs: opt(nonEmpty), Name: opt(nonEmpty), IPv4Address: opt(nonEmpty) });
const disconnectBody = obj({ Container: nonEmpty });


function flag(req: Request, name: string): boolean {
  const v = req.query.get(name);
  return v === '1' || v === 'true';
}

export function mountEndpointRoutes(server: ApiServer, eps: () => EndpointManager): void {
  server
    .route('POST', '/containers/run', (req) => api(() => eps().run(body(runBody, req))))
    .route('GET', '/containers/json', (req) =>
      api(() => {
        const m = eps();
        return m.records.map((r) => summaryView(r, m.status(r))).filter((s) => flag(req, 'all') || s.State === 'running');
      }),
    )
    .route('GET', '/containers/:id/json', (req) =>
      api(() => {
        const m = eps();
        const r = m.find(req.params['id']!);
        return inspectView(r, m.status(r));
      }),
    )
    .route('DELETE', '/containers/:id', (req) => api(async () => (await eps().remove(req.params['id']!, flag(req, 'force')), {})))
    .route('GET', '/containers/:id/logs', (req) => api(() => logs(eps(), req.params['id']!, Number(req.query.get('offset') ?? 0))))
    .route('POST', '/networks/:id/connect', (req) =>
      api(async () => {
        const b = body(connectBody, req);
        if ((b.Container === undefined) === (b.NetNs === undefined)) throw new ApiError('network connect: give either a container or --netns PATH', 400);
        const target = b.Container !== undefined ? { ref: b.Container } : { netns: b.NetNs!, ...(b.Name !== undefined ? { name: b.Name } : {}) };
        await eps().connect(req.params['id']!, target, b.IPv4Address);
        return {};
      }),
    )
    .route('POST', '/networks/:id/disconnect', (req) => api(async () => (await eps().disconnect(req.params['id']!, body(disconnectBody, req).Container), {})));
}

function logs(m: EndpointManager, ref: string, offset: number): ContainerLogs {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new ApiError(`query parameter offset: expected a byte offset >= 0, got ${offset}`, 400);
  const r = m.find(ref);
  const st = m.status(r);
  const c = readLogChunk(m.logPath(r.id), offset);
  return { Data: c.data, Offset: c.next, Running: st.running, ExitCode: st.exitCode };
}
