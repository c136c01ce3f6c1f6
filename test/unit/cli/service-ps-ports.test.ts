// `agent service ps` of a service some node cannot publish (issue 10): the
// service's PortErrors, as the daemon's inspect carries them, are said one
// per line after the table (`<service>: node <hostname>: <error>`), driven
// against the fake daemon of fake-api.ts with the services and tasks of
// service-fixtures.ts.
import { equal, is } from '../../harness.js';
import type { ServiceInspect } from '../../../agent/api/types.js';
import { ApiError } from '../../../shared/errors.js';
import { agentAt, fake, fakeApiSuite, type State } from './fake-api.js';
import { NOW_MS, mkService, mkTask } from './service-fixtures.js';

const t = fakeApiSuite('cli service ps port errors', 'agent-service-ps-');

const PORTS = [{ Protocol: 'tcp' as const, TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' as const }];
/** A service publishing 8080 through the mesh, with these PortErrors if any. */
const service = (name: string, id: string, portErrors?: ServiceInspect['PortErrors']): ServiceInspect => mkService(name, id, { ports: PORTS, PortErrors: portErrors });

const WEB_ID = 'w3bs3rv1c3000000000000000';
const API_ID = 'ap1ap1ap1ap1ap1ap1ap1ap10';
const ERRORS: ServiceInspect['PortErrors'] = [
  { NodeID: 'n0d3b0000000000000000000b', Hostname: 'edge-2', Port: '8080/tcp', Error: 'port 8080/tcp is in use on this node by another program: not published here' },
  { NodeID: 'n0d3c0000000000000000000c', Hostname: '', Port: '8080/tcp', Error: 'port 8080/tcp is already published on this node by 4b1d' },
];

async function daemon(s: State, services: ServiceInspect[]): Promise<void> {
  await fake(s, {
    'GET /services/:ref': (req: { params: Record<string, string> }) => {
      const svc = services.find((x) => x.ID === req.params['ref'] || x.Spec.Name === req.params['ref']);
      if (!svc) throw new ApiError(`service ${req.params['ref']} not found`, 404);
      return svc;
    },
    'GET /tasks': (req: { query: URLSearchParams }) => services.filter((x) => x.ID === req.query.get('service')).map((x) => mkTask(x, `${x.Spec.Name}.1`, `${x.ID.slice(0, 4)}t4sk00000000000000000000`.slice(0, 25))),
  });
}

t('a service with PortErrors: the table as without them, then one line per error, the node by hostname (its id when it has none)', async (s) => {
  await daemon(s, [service('web', WEB_ID)]);
  const plain = await agentAt(NOW_MS, s, 'service', 'ps', 'web');
  is(plain.code, 0, plain.err);
  await s.server!.close();
  await daemon(s, [service('web', WEB_ID, ERRORS)]);
  const r = await agentAt(NOW_MS, s, 'service', 'ps', 'web');
  equal(r, {
    code: 0,
    out:
      plain.out +
      'web: node edge-2: port 8080/tcp is in use on this node by another program: not published here\n' +
      'web: node n0d3c0000000000000000000c: port 8080/tcp is already published on this node by 4b1d\n',
    err: '',
  });
});

t("several services: each one's errors after the one table, in the order the services were named", async (s) => {
  await daemon(s, [service('web', WEB_ID, ERRORS.slice(0, 1)), service('api', API_ID, [{ NodeID: 'n1', Hostname: 'edge-9', Port: '9090/tcp', Error: 'boom' }])]);
  const r = await agentAt(NOW_MS, s, 'service', 'ps', 'web', 'api');
  is(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  equal(lines.slice(-2), ['web: node edge-2: port 8080/tcp is in use on this node by another program: not published here', 'api: node edge-9: boom']);
  is(lines.length, 5, 'header, two tasks, two errors');
});

t('-q and --format json print the tasks only: their output stays what scripts read', async (s) => {
  await daemon(s, [service('web', WEB_ID, ERRORS)]);
  const q = await agentAt(NOW_MS, s, 'service', 'ps', '-q', 'web');
  equal([q.code, q.out.trimEnd().split('\n').length, q.err], [0, 1, '']);
  const j = await agentAt(NOW_MS, s, 'service', 'ps', '--format', 'json', 'web');
  is(j.code, 0);
  equal(j.out.trimEnd().split('\n').map((l) => (JSON.parse(l) as { Name: string }).Name), ['web.1']);
});

t.run();
