// The local API of standalone endpoints (agent/daemon/endpoint-routes.ts):
// POST /containers/run checks its body at the boundary, `Ports` (issue 10)
// included, and hands the manager only what fits; a body that does not fit
// is one 400 line naming the field.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { equal, is, suite } from '../../harness.js';
import { ApiClient } from '../../../agent/api/client.js';
import { ApiServer } from '../../../agent/api/server.js';
import { mountEndpointRoutes } from '../../../agent/daemon/endpoint-routes.js';
import type { EndpointManager, RunRequest } from '../../../agent/endpoint/endpoint-manager.js';

interface World {
  dir: string;
  server?: ApiServer;
  client?: ApiClient;
  runs: RunRequest[];
}

const t = suite<World>('daemon/endpoint-routes', { dir: '', runs: [] });

t.before.each(async (w) => {
  w.dir = mkdtempSync(join(tmpdir(), 'agent-ep-routes-'));
  w.runs = [];
  const sock = join(w.dir, 'agent.sock');
  // Only run() is reached by these tests.
  const eps = {
    run: async (req: RunRequest) => {
      w.runs.push(req);
      return { Id: 'n3wn3wn3wn3wn3wn3wn3wn3w0', Warnings: [] };
    },
  } as unknown as EndpointManager;
  w.server = new ApiServer();
  mountEndpointRoutes(w.server, () => eps);
  await w.server.listen(sock);
  w.client = new ApiClient({ host: `unix://${sock}` });
});

t.after.each(async (w) => {
  await w.server?.close();
  w.server = undefined;
  rmSync(w.dir, { recursive: true, force: true });
});

t('run: Ports reach the manager as sent; without them, no field', async (w) => {
  const ports = [
    { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080 },
    { Protocol: 'udp', TargetPort: 80, PublishedPort: 8080 },
    { Protocol: 'sctp', TargetPort: 65535, PublishedPort: 1 },
  ];
  await w.client!.post('/containers/run', { Networks: [], Cmd: ['true'], Ports: ports });
  await w.client!.post('/containers/run', { Networks: ['a'], Cmd: ['true'] });
  equal(w.runs, [
    { Networks: [], Cmd: ['true'], Ports: ports },
    { Networks: ['a'], Cmd: ['true'] },
  ]);
});

t('run: a bad port is a 400 naming the field; nothing reaches the manager', async (w) => {
  const port = { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080 };
  const cases: [unknown, string][] = [
    [[{ ...port, Protocol: 'icmp' }], 'body.Ports[0].Protocol: expected one of tcp|udp|sctp, got string "icmp"'],
    [[{ ...port, PublishedPort: 65536 }], 'body.Ports[0].PublishedPort: expected a port 1-65535, got number 65536'],
    [[{ ...port, TargetPort: 0 }], 'body.Ports[0].TargetPort: expected an integer >= 1, got number 0'],
    [[{ Protocol: 'tcp', TargetPort: 80 }], 'body.Ports[0].PublishedPort: missing'],
    [[{ ...port, HostIp: '10.0.0.1' }], 'body.Ports[0]: unknown field "HostIp"'],
    [[port, { ...port, TargetPort: 81 }], 'body.Ports[1]: published port 8080/tcp is given twice'],
    ['8080:80', 'body.Ports: expected an array, got string "8080:80"'],
  ];
  for (const [Ports, message] of cases) {
    const a = await w.client!.raw('POST', '/containers/run', { Networks: [], Cmd: ['true'], Ports });
    equal([a.status, (JSON.parse(a.body) as { message: string }).message], [400, message], message);
  }
  is(w.runs.length, 0);
});

t.run();
