// `agent service ...` driven as a user drives it, against the fake daemon of
// fake-api.ts: canned services, tasks and logs, and a record of every request
// the CLI sent. The waits (convergence, logs -f) are driven with a manual
// clock through the functions the commands use, so no test sleeps.
import { equal, is, ok } from '../../harness.js';
import type { Request } from '../../../agent/api/server.js';
import type { NetworkInspect, ServiceInspect, ServiceLogs, TaskInspect } from '../../../agent/api/types.js';
import { ApiClient } from '../../../agent/api/client.js';
import { ApiError } from '../../../shared/errors.js';
import { Convergence, POLL_MS, waitForConvergence, type Clock } from '../../../agent/cli/service-progress.js';
import { streamLogs } from '../../../agent/cli/service-logs.js';
import { goDuration } from '../../../agent/cli/service-pretty.js';
import { portsCell } from '../../../agent/cli/service-ls.js';
import { agent, agentAt, fake, fakeApiSuite, type Captured, type State } from './fake-api.js';
import { NOW_MS, iso, mkService, mkTask } from './service-fixtures.js';

const t = fakeApiSuite('cli service', 'agent-service-');

// Commands run with Date.now() pinned at NOW_MS (service-fixtures.ts), so every age is exact.
const agentAtNow = (s: State, ...argv: string[]): Promise<Captured> => agentAt(NOW_MS, s, ...argv);

// Swarm ids are 25 characters.
const WEB = mkService('web', 'w3bs3rv1c3000000000000000', {
  Spec: {
    Labels: { tier: 'front', canary: '' },
    Mode: { Replicated: { Replicas: 3 } },
    UpdateConfig: { Parallelism: 1, Order: 'start-first' },
    TaskTemplate: {
      ContainerSpec: { Command: ['python3', '-m', 'http.server', '80'], Env: ['A=1', 'B=two words'] },
      RestartPolicy: { Condition: 'on-failure', DelayMs: 5000, MaxAttempts: 3, WindowMs: 90_000 },
      Placement: { Constraints: ['node.role==worker', 'node.labels.zone!=b'] },
      Networks: [
        { Target: 'fr0ntn3tw0rk1d00000000000', Aliases: [] },
        { Target: 'b4ckn3tw0rk', Aliases: [] },
      ],
    },
  },
  ports: [
    { Protocol: 'udp', TargetPort: 53, PublishedPort: 5353, PublishMode: 'host' },
    { Protocol: 'tcp', TargetPort: 81, PublishedPort: 8081, PublishMode: 'ingress' },
    { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
  ],
  status: [2, 3],
});
const MONITOR = mkService('monitor', 'm0n1t0rm0n1t0rm0n1t0rm0n0', { Spec: { Mode: { Global: {} } }, status: [2, 2] });
const API = mkService('api', 'ap1ap1ap1ap1ap1ap1ap1ap10', { Spec: { Labels: { tier: 'back' }, TaskTemplate: { ContainerSpec: { Command: ['node', 'server.js'], Env: [] } } } });
const SERVICES = [WEB, MONITOR, API];
const NEW_ID = 'n3wn3wn3wn3wn3wn3wn3wn3w0';

// web.1 failed twice before its third task ran; web.3 waits for a node.
const T1 = mkTask(WEB, 'web.1', 'a1a1a1a1a1a1a1a1a1a1a1a10');
const T1_OLD = mkTask(WEB, 'web.1', 'b1b1b1b1b1b1b1b1b1b1b1b10', { DesiredState: 'shutdown', state: 'failed', err: 'task: non-zero exit (1)', atMs: 61_000, CreatedAt: iso(120_000) });
const T1_OLDER = mkTask(WEB, 'web.1', 'c1c1c1c1c1c1c1c1c1c1c1c10', {
  DesiredState: 'shutdown',
  state: 'failed',
  err: 'starting container failed: executable file not found in $PATH',
  atMs: 2 * 3_600_000,
  CreatedAt: iso(180_000),
  NodeHostname: 'edge-3',
});
const T2 = mkTask(WEB, 'web.2', 'a2a2a2a2a2a2a2a2a2a2a2a20', { NodeHostname: 'edge-2' });
const T3 = mkTask(WEB, 'web.3', 'a3a3a3a3a3a3a3a3a3a3a3a30', { state: 'pending', atMs: 200, NodeID: '', NodeHostname: '' });
const API_1 = mkTask(API, 'api.1', 'ap1t4sk000000000000000000');
// Given out of order: the CLI sorts.
const TASKS = [T2, T1_OLDER, T3, T1, T1_OLD, API_1];

const NETWORKS = [{ Id: 'fr0ntn3tw0rk1d00000000000', Name: 'frontend' }] as NetworkInspect[];

interface FakeOpts {
  services?: ServiceInspect[];
  tasks?: TaskInspect[] | ((req: Request) => TaskInspect[]);
  logs?: (req: Request) => ServiceLogs;
  createWarnings?: string[];
}

/**
 * A fake daemon over services: create, list, get (by id, name or id prefix,
 * as the daemon finds them), update (a global service refuses replicas),
 * delete, tasks by service, logs; every request recorded.
 */
async function fakeServices(s: State, opts: FakeOpts = {}): Promise<void> {
  const services = opts.services ?? SERVICES;
  const find = (ref: string): ServiceInspect => {
    const svc = services.find((x) => x.ID === ref || x.Spec.Name === ref) ?? services.find((x) => x.ID.startsWith(ref));
    if (!svc) throw new ApiError(`service ${ref} not found`, 404);
    return svc;
  };
  const tasks = opts.tasks ?? TASKS;
  await fake(s, {
    'POST /services/create': (req: Request) => {
      const name = (req.body as { Name: string }).Name;
      if (services.some((x) => x.Spec.Name === name && x.ID !== NEW_ID)) throw new ApiError(`rpc error: code = AlreadyExists desc = name conflicts with an existing object: service ${name} already exists`, 409);
      return { ID: NEW_ID, Warnings: opts.createWarnings ?? [] };
    },
    'GET /services': services,
    'GET /services/:ref': (req: Request) => find(req.params['ref']!),
    'POST /services/:ref/update': (req: Request) => (find(req.params['ref']!), { Warnings: [] }),
    'DELETE /services/:ref': (req: Request) => (find(req.params['ref']!), {}),
    'GET /tasks': (req: Request) => {
      const all = typeof tasks === 'function' ? tasks(req) : tasks;
      return all.filter((x) => x.ServiceID === req.query.get('service'));
    },
    'GET /services/:ref/logs': (req: Request) => (find(req.params['ref']!), opts.logs ? opts.logs(req) : { Chunks: [] }),
    'GET /networks': NETWORKS,
  });
}

const pad = (text: string, width: number): string => text + ' '.repeat(width - [...text].length);
/** A docker table row: each cell padded to its column's width, the last as it is. */
const tableRow = (widths: number[], cells: string[]): string => cells.map((c, i) => (i < widths.length ? pad(c, widths[i]!) : c)).join('') + '\n';
const usage = (msg: string): Captured => ({ code: 2, out: '', err: `agent: ${msg} (see 'agent --help')\n` });
const failure = (msg: string, out = ''): Captured => ({ code: 1, out, err: `agent: ${msg}\n` });
/** yargs' own complaint (a missing positional, an unknown argument): one line, exit 2, nothing on stdout. */
const isYargsUsage = (r: Captured, what: string): void => equal([r.code, r.out, r.err.split('\n').length, r.err.startsWith('agent: ')], [2, '', 2, true], `${what}: ${r.err}`);

/** A manual clock: sleeping only records the wait and moves time on; after `sleeps` sleeps it stops the loop. */
function manualClock(sleeps = Infinity): Clock & { slept: number[] } {
  let now = NOW_MS;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      if (slept.length >= sleeps) throw new Error('stopped by the test (Ctrl-C)');
      slept.push(ms);
      now += ms;
    },
  };
}

// ---- the group ----------------------------------------------------------------

t('service alone, or an unknown subcommand: one usage line naming the subcommands', async (s) => {
  await fakeServices(s);
  const want = usage('service: expected a subcommand (create, inspect, logs, ls, ps, rm, scale, update)');
  equal(await agent(s, 'service'), want);
  isYargsUsage(await agent(s, 'service', 'frobnicate'), 'unknown subcommand');
  equal(s.calls, []);
});

// ---- create -------------------------------------------------------------------

t('create -d: every flag in one POST, in the API\'s fields; prints the id', async (s) => {
  await fakeServices(s);
  const r = await agent(
    s,
    'service', 'create', '-d', '--name', 'front', '--replicas', '3',
    '--network', 'frontend', '--network', 'backend',
    '-p', '8080:80', '--publish', 'published=5353,target=53,protocol=udp,mode=host', '-p', '9000',
    '--endpoint-mode', 'vip', '-e', 'A=1', '--env', 'B=x=y',
    '--restart-condition', 'on-failure', '--restart-delay', '1m30s', '--restart-max-attempts', '5', '--restart-window', '2h',
    '--constraint', 'node.role==worker', '--constraint', 'node.labels.zone != b',
    '--update-order', 'start-first',
    '--', 'python3', '-m', 'http.server', '80',
  );
  equal(r, { code: 0, out: `${NEW_ID}\n`, err: '' });
  equal(s.calls, [
    {
      call: 'POST /services/create',
      query: {},
      body: {
        Name: 'front',
        Mode: { Replicated: { Replicas: 3 } },
        Command: ['python3', '-m', 'http.server', '80'],
        Networks: ['frontend', 'backend'],
        Ports: [
          { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
          { Protocol: 'udp', TargetPort: 53, PublishedPort: 5353, PublishMode: 'host' },
          { Protocol: 'tcp', TargetPort: 9000, PublishMode: 'ingress' },
        ],
        EndpointMode: 'vip',
        Env: ['A=1', 'B=x=y'],
        Constraints: ['node.role==worker', 'node.labels.zone != b'],
        RestartPolicy: { Condition: 'on-failure', DelayMs: 90_000, MaxAttempts: 5, WindowMs: 7_200_000 },
        UpdateOrder: 'start-first',
      },
    },
  ]);
});

t('create -d: only what was given is sent; --mode global, --mode replicated alone is 1 replica; the command verbatim', async (s) => {
  await fakeServices(s);
  const cmd = ['sh', '-c', 'echo "$A"; sleep 1', '--name=x', '-d', '0600', '1e3', ''];
  equal(await agent(s, 'service', 'create', '--detach', '--name', 'a', '--', ...cmd), { code: 0, out: `${NEW_ID}\n`, err: '' });
  equal(await agent(s, 'service', 'create', '-d', '--name', 'b', '--mode', 'global', 'sleep', '600'), { code: 0, out: `${NEW_ID}\n`, err: '' });
  equal(await agent(s, 'service', 'create', '-d', '--name', 'c', '--mode', 'replicated', '--replicas', '0', '--', 'true'), { code: 0, out: `${NEW_ID}\n`, err: '' });
  equal(await agent(s, 'service', 'create', '-d', '--name', 'd', '--mode', 'replicated', '--', 'true'), { code: 0, out: `${NEW_ID}\n`, err: '' });
  equal(
    s.calls.map((c) => c.body),
    [
      { Name: 'a', Command: cmd },
      { Name: 'b', Mode: { Global: {} }, Command: ['sleep', '600'] },
      { Name: 'c', Mode: { Replicated: { Replicas: 0 } }, Command: ['true'] },
      { Name: 'd', Mode: { Replicated: { Replicas: 1 } }, Command: ['true'] },
    ],
  );
});

t("create -e KEY: the value from the CLI's environment, as docker; left out when it is not set", async (s) => {
  await fakeServices(s);
  process.env['AGENT_SERVICE_TEST_TOKEN'] = 's3cret';
  delete process.env['AGENT_SERVICE_TEST_UNSET'];
  try {
    const r = await agent(s, 'service', 'create', '-d', '--name', 'e', '-e', 'AGENT_SERVICE_TEST_TOKEN', '-e', 'AGENT_SERVICE_TEST_UNSET', '-e', 'EMPTY=', '--', 'env');
    is(r.code, 0, r.err);
  } finally {
    delete process.env['AGENT_SERVICE_TEST_TOKEN'];
  }
  equal(s.calls[0]!.body, { Name: 'e', Env: ['AGENT_SERVICE_TEST_TOKEN=s3cret', 'EMPTY='], Command: ['env'] });
});

t('create with bad flags: one usage line, exit 2, nothing sent', async (s) => {
  await fakeServices(s);
  const base = ['service', 'create', '-d', '--name', 'x'];
  const cases: [string[], string][] = [
    [['service', 'create', '-d', '--', 'true'], '--name: expected a service name, got none'],
    [['service', 'create', '-d', '--name', '', '--', 'true'], '--name: expected a service name, got ""'],
    [[...base, '--mode', 'global', '--replicas', '2', '--', 'true'], 'replicas can only be used with replicated mode'],
    [[...base, '--mode', 'job', '--', 'true'], '--mode: expected "replicated" or "global", got "job"'],
    [[...base, '--replicas', 'two', '--', 'true'], '--replicas: expected an integer from 0 to 2147483647, got "two"'],
    [[...base, '--replicas', '-1', '--', 'true'], '--replicas: expected an integer from 0 to 2147483647, got "-1"'],
    [[...base, '-p', '8080:abc', '--', 'true'], 'invalid argument "8080:abc" for "-p, --publish" flag: invalid containerPort: abc'],
    [[...base, '-p', '8080:80/tcp+udp', '--', 'true'], 'invalid argument "8080:80/tcp+udp" for "-p, --publish" flag: invalid proto: tcp+udp'],
    [[...base, '--network', '', '--', 'true'], '--network: expected a network name or id, got ""'],
    [[...base, '--endpoint-mode', 'rr', '--', 'true'], '--endpoint-mode: expected "vip" or "dnsrr", got "rr"'],
    [[...base, '--endpoint-mode', 'dnsrr', '-p', '8080:80', '--', 'true'], "EndpointSpec: port published with ingress mode can't be used with dnsrr mode"],
    [[...base, '-e', '=x', '--', 'true'], 'invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x'],
    [[...base, '--restart-condition', 'always', '--', 'true'], '--restart-condition: expected "none", "on-failure" or "any", got "always"'],
    [[...base, '--restart-delay', '5', '--', 'true'], '--restart-delay: expected a duration such as 500ms, 90s, 1h30m or 2160h (units ns, us, ms, s, m, h), got "5"'],
    [[...base, '--restart-delay=-1s', '--', 'true'], '--restart-delay: expected a duration of 0 or more, got "-1s"'],
    [[...base, '--restart-window', '1500us', '--', 'true'], '--restart-window: expected a whole number of milliseconds, got "1500us"'],
    [[...base, '--restart-max-attempts', 'many', '--', 'true'], '--restart-max-attempts: expected an integer from 0 to 2147483647, got "many"'],
    [[...base, '--constraint', 'node.role=worker', '--', 'true'], '--constraint: expected KEY==VALUE or KEY!=VALUE (e.g. node.role==worker), got "node.role=worker"'],
    [[...base, '--constraint', '==worker', '--', 'true'], '--constraint: expected KEY==VALUE or KEY!=VALUE (e.g. node.role==worker), got "==worker"'],
    [[...base, '--update-order', 'random', '--', 'true'], '--update-order: expected "stop-first" or "start-first", got "random"'],
    [[...base], 'service create: a command is required, e.g. agent service create --name web -- sleep 600'],
    [[...base, '--'], 'service create: a command is required, e.g. agent service create --name web -- sleep 600'],
  ];
  for (const [argv, msg] of cases) equal(await agent(s, ...argv), usage(msg), argv.join(' '));
  isYargsUsage(await agent(s, ...base, '--image', 'nginx', '--', 'true'), 'unknown flag');
  equal(s.calls, []);
});

t('proxy-protocol=v2 (issue 10): sent as ProxyProtocol by create and update --publish-add, shown by inspect --pretty; a udp or host port refused before any request', async (s) => {
  const proxied = mkService('tls', 'tl5s3rv1c3000000000000000', { ports: [{ Protocol: 'tcp', TargetPort: 443, PublishedPort: 8443, PublishMode: 'ingress', ProxyProtocol: 'v2' }] });
  await fakeServices(s, { services: [...SERVICES, proxied] });
  equal(await agent(s, 'service', 'create', '-d', '--name', 'edge', '-p', 'published=8443,target=443,proxy-protocol=v2', '--', 'true'), { code: 0, out: `${NEW_ID}\n`, err: '' });
  equal((await agent(s, 'service', 'update', '-d', '--publish-add', 'proxy-protocol=v2,target=8443', 'web')).code, 0);
  equal(
    s.calls.filter((c) => c.call.startsWith('POST')).map((c) => c.body),
    [
      { Name: 'edge', Ports: [{ Protocol: 'tcp', TargetPort: 443, PublishedPort: 8443, PublishMode: 'ingress', ProxyProtocol: 'v2' }], Command: ['true'] },
      { PortsAdd: [{ Protocol: 'tcp', TargetPort: 8443, PublishMode: 'ingress', ProxyProtocol: 'v2' }] },
    ],
  );
  const pretty = (await agent(s, 'service', 'inspect', '--pretty', 'tls')).out;
  ok(pretty.endsWith('Ports:\n PublishedPort = 8443\n  Protocol = tcp\n  TargetPort = 443\n  PublishMode = ingress\n  ProxyProtocol = v2\n'), pretty);
  s.calls = [];
  equal(
    await agent(s, 'service', 'create', '-d', '--name', 'x', '-p', 'target=53,protocol=udp,proxy-protocol=v2', '--', 'true'),
    usage('invalid argument "target=53,protocol=udp,proxy-protocol=v2" for "-p, --publish" flag: proxy-protocol=v2 needs a tcp port published in ingress mode'),
  );
  equal(
    await agent(s, 'service', 'update', '--publish-add', 'target=80,proxy-protocol=v1', 'web'),
    usage('invalid argument "target=80,proxy-protocol=v1" for "--publish-add" flag: invalid proxy-protocol value (v1): must be \'v2\''),
  );
  equal(s.calls, []);
});

t("create: the daemon's warnings on stderr as they came; its refusal one line, exit 1, no waiting", async (s) => {
  await fakeServices(s, { createWarnings: ['network frontend is not attachable'] });
  equal(await agent(s, 'service', 'create', '-d', '--name', 'x', '--', 'true'), { code: 0, out: `${NEW_ID}\n`, err: 'network frontend is not attachable\n' });
  s.calls = [];
  equal(await agent(s, 'service', 'create', '--name', 'web', '--', 'true'), failure('rpc error: code = AlreadyExists desc = name conflicts with an existing object: service web already exists'));
  equal(s.calls.map((c) => c.call), ['POST /services/create']);
});

t('create without -d: the id on stdout, then docker\'s progress on stderr until every task runs', async (s) => {
  const created = mkService('x', NEW_ID, { Spec: { Mode: { Replicated: { Replicas: 2 } } } });
  await fakeServices(s, { services: [...SERVICES, created], tasks: [mkTask(created, 'x.1', 'x1x1x1x1x1x1x1x1x1x1x1x10'), mkTask(created, 'x.2', 'x2x2x2x2x2x2x2x2x2x2x2x20')] });
  const r = await agent(s, 'service', 'create', '--name', 'x', '--replicas', '2', '--', 'sleep', '600');
  equal(r, { code: 0, out: `${NEW_ID}\n`, err: `overall progress: 2 out of 2 tasks\nverify: Service ${NEW_ID} converged\n` });
  equal(
    s.calls.map((c) => [c.call, c.query]),
    [
      ['POST /services/create', {}],
      [`GET /services/${NEW_ID}`, {}],
      ['GET /tasks', { service: NEW_ID }],
    ],
  );
});

// ---- convergence --------------------------------------------------------------

t('convergence: progress as tasks start, a failed task said once with its slot, converged once every slot runs', () => {
  const svc = mkService('x', NEW_ID, { Spec: { Mode: { Replicated: { Replicas: 3 } } } });
  const c = new Convergence(NEW_ID);
  const x1 = mkTask(svc, 'x.1', 'x1');
  const x2 = mkTask(svc, 'x.2', 'x2', { state: 'preparing' });
  const x3 = mkTask(svc, 'x.3', 'x3', { DesiredState: 'shutdown', state: 'failed', err: 'task: non-zero exit (1)' });
  equal(c.observe(svc, []), { lines: ['overall progress: 0 out of 3 tasks'], converged: false });
  equal(c.observe(svc, [x1, x2, x3]), { lines: ['3/3: task: non-zero exit (1)', 'overall progress: 1 out of 3 tasks'], converged: false });
  // Nothing new: nothing said.
  equal(c.observe(svc, [x1, x2, x3]), { lines: [], converged: false });
  const x3b = mkTask(svc, 'x.3', 'x3b');
  equal(c.observe(svc, [x1, { ...x2, Status: { ...x2.Status, State: 'running' } }, x3, x3b]), {
    lines: ['overall progress: 3 out of 3 tasks', `verify: Service ${NEW_ID} converged`],
    converged: true,
  });
});

t('convergence: a long error cut to 75 characters on one line; 0 replicas converge at once', () => {
  const svc = mkService('x', NEW_ID, { Spec: { Mode: { Replicated: { Replicas: 1 } } } });
  const long = 'line one\n' + 'x'.repeat(100);
  const { lines } = new Convergence(NEW_ID).observe(svc, [mkTask(svc, 'x.1', 'x1', { state: 'rejected', err: long })]);
  equal(lines, [`1/1: line one ${'x'.repeat(65)}…`, 'overall progress: 0 out of 1 tasks']);
  const none = mkService('x', NEW_ID, { Spec: { Mode: { Replicated: { Replicas: 0 } } } });
  equal(new Convergence(NEW_ID).observe(none, []), { lines: ['overall progress: 0 out of 0 tasks', `verify: Service ${NEW_ID} converged`], converged: true });
});

t('convergence of a global service: waits for tasks to exist, then one per node with a task to run; failures by node', () => {
  const svc = mkService('g', NEW_ID, { Spec: { Mode: { Global: {} } } });
  const c = new Convergence(NEW_ID);
  equal(c.observe(svc, []), { lines: ['overall progress: waiting for new tasks'], converged: false });
  const a = mkTask(svc, 'g.nodea', 'ga', { NodeID: 'nodeaaaaaaaaaaaaaaaaaaaaa' });
  const b = mkTask(svc, 'g.nodeb', 'gb', { NodeID: 'nodebbbbbbbbbbbbbbbbbbbbb', state: 'starting' });
  const bFailed = mkTask(svc, 'g.nodeb', 'gb0', { NodeID: 'nodebbbbbbbbbbbbbbbbbbbbb', DesiredState: 'shutdown', state: 'failed', err: 'boom' });
  equal(c.observe(svc, [a, b, bFailed]), { lines: ['nodebbbbbbbb: boom', 'overall progress: 1 out of 2 tasks'], converged: false });
  equal(c.observe(svc, [a, { ...b, Status: { ...b.Status, State: 'running' } }, bFailed]).converged, true);
});

t('convergence after an update that changed the spec: only tasks made since count; old failures are history', () => {
  const changedAt = iso(10_000);
  const before = mkService('x', NEW_ID, { Spec: { Mode: { Replicated: { Replicas: 1 } } } });
  const svc = mkService('x', NEW_ID, { Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: { ContainerSpec: { Command: ['sleep', '600'], Env: ['A=1'] } } }, UpdatedAt: changedAt });
  const old = mkTask(svc, 'x.1', 'old', { CreatedAt: iso(60_000) });
  const oldFailure = mkTask(svc, 'x.1', 'oldf', { DesiredState: 'shutdown', state: 'failed', err: 'old news', CreatedAt: iso(5_000) });
  const fresh = mkTask(svc, 'x.1', 'new', { CreatedAt: iso(1_000), state: 'starting' });
  const c = new Convergence(NEW_ID, { before, oldFailuresAreHistory: true });
  equal(c.observe(svc, [old, oldFailure]), { lines: ['overall progress: 0 out of 1 tasks'], converged: false });
  const freshFailure = mkTask(svc, 'x.1', 'newf', { CreatedAt: iso(500), DesiredState: 'shutdown', state: 'failed', err: 'new news' });
  equal(c.observe(svc, [old, oldFailure, fresh, freshFailure]).lines, ['1/1: new news']);
  equal(c.observe(svc, [old, { ...fresh, Status: { ...fresh.Status, State: 'running' } }]).converged, true);
  // A new replica count, or an update that changed nothing, replaces no task: every task counts.
  const scaled = { ...svc, Spec: { ...svc.Spec, Mode: { Replicated: { Replicas: 2 } } } };
  equal(new Convergence(NEW_ID, { before: svc }).observe(scaled, [old, mkTask(svc, 'x.2', 'two')]).converged, true);
  equal(new Convergence(NEW_ID, { before: svc }).observe(svc, [old]).converged, true);
  // --force changes the spec's ForceUpdate.
  const forced = { ...svc, Spec: { ...svc.Spec, TaskTemplate: { ...svc.Spec.TaskTemplate, ForceUpdate: 1 } } };
  equal(new Convergence(NEW_ID, { before: svc }).observe(forced, [old]).converged, false);
});

t('waitForConvergence: asks for the service and its tasks every 500 ms until converged, each line once', async (s) => {
  const svc = mkService('x', NEW_ID, { Spec: { Mode: { Replicated: { Replicas: 2 } } } });
  const x1 = mkTask(svc, 'x.1', 'x1', { state: 'preparing' });
  const x2 = mkTask(svc, 'x.2', 'x2', { state: 'preparing' });
  const answers = [[], [x1, x2], [x1, { ...x2, Status: { ...x2.Status, State: 'running' } }], [x1, x2].map((x) => ({ ...x, Status: { ...x.Status, State: 'running' } }))];
  let asked = 0;
  await fakeServices(s, { services: [svc], tasks: () => answers[Math.min(asked++, answers.length - 1)]! });
  const clock = manualClock();
  let err = '';
  await waitForConvergence(new ApiClient({ host: `unix://${s.sock}` }), NEW_ID, (x) => void (err += x), clock);
  is(err, `overall progress: 0 out of 2 tasks\noverall progress: 1 out of 2 tasks\noverall progress: 2 out of 2 tasks\nverify: Service ${NEW_ID} converged\n`);
  equal(clock.slept, [POLL_MS, POLL_MS, POLL_MS]);
  equal(s.calls.map((c) => c.call), Array.from({ length: 4 }, () => [`GET /services/${NEW_ID}`, 'GET /tasks']).flat());
});

// ---- ls -----------------------------------------------------------------------

// ID 12 + 3; NAME "monitor" 7 + 3; MODE "replicated" 10 + 3; REPLICAS 8 + 3; COMMAND cut to 20 + 3.
const LS_HEADER = ['ID', 'NAME', 'MODE', 'REPLICAS', 'COMMAND', 'PORTS'];
const lsRow = (...cells: string[]): string => tableRow([15, 10, 13, 11, 23], cells);

t("service ls: docker's columns, COMMAND for IMAGE cut to 20, ports folded into ranges, natural order by name", async (s) => {
  await fakeServices(s);
  const r = await agent(s, 'service', 'ls');
  equal(r, {
    code: 0,
    out:
      lsRow(...LS_HEADER) +
      lsRow('ap1ap1ap1ap1', 'api', 'replicated', '1/1', 'node server.js', '') +
      lsRow('m0n1t0rm0n1t', 'monitor', 'global', '2/2', 'sleep 600', '') +
      lsRow('w3bs3rv1c300', 'web', 'replicated', '2/3', 'python3 -m http.ser…', '*:8080-8081->80-81/tcp, *:5353->53/udp'),
    err: '',
  });
  equal(s.calls.map((c) => c.call), ['GET /services']);
  is((await agent(s, 'service', 'list')).out, r.out);
});

t('service ls -q: 12-character ids, as docker; --format json one object per line, the command whole; a bad format before any request', async (s) => {
  await fakeServices(s);
  equal(await agent(s, 'service', 'ls', '-q'), { code: 0, out: 'ap1ap1ap1ap1\nm0n1t0rm0n1t\nw3bs3rv1c300\n', err: '' });
  const r = await agent(s, 'service', 'ls', '--format', 'json', '-q');
  is(r.code, 0, r.err);
  const lines = r.out.split('\n');
  equal([lines.length, lines.pop()], [4, ''], 'three lines, each ending with a newline');
  is(lines[2], JSON.stringify({ Command: 'python3 -m http.server 80', ID: 'w3bs3rv1c300', Mode: 'replicated', Name: 'web', Ports: '*:8080-8081->80-81/tcp, *:5353->53/udp', Replicas: '2/3' }));
  s.calls = [];
  equal(await agent(s, 'service', 'ls', '--format', 'table'), failure('--format: expected "json", got "table"'));
  equal(s.calls, []);
});

t('service ls --filter: mode exactly, name and id by prefix, labels; alternatives within a name; bad filters before any request', async (s) => {
  await fakeServices(s);
  const ids = async (...f: string[]): Promise<string> => (await agent(s, 'service', 'ls', '-q', ...f.flatMap((x) => ['--filter', x]))).out;
  is(await ids('mode=global'), 'm0n1t0rm0n1t\n');
  is(await ids('mode=replicated'), 'ap1ap1ap1ap1\nw3bs3rv1c300\n');
  is(await ids('name=we'), 'w3bs3rv1c300\n');
  is(await ids('name=web', 'name=api'), 'ap1ap1ap1ap1\nw3bs3rv1c300\n');
  is(await ids('id=m0n'), 'm0n1t0rm0n1t\n');
  is(await ids('label=tier'), 'ap1ap1ap1ap1\nw3bs3rv1c300\n');
  is(await ids('label=tier=back'), 'ap1ap1ap1ap1\n');
  is(await ids('mode=replicated', 'label=canary'), 'w3bs3rv1c300\n');
  s.calls = [];
  equal(await agent(s, 'service', 'ls', '-f', 'mode=job'), usage('--filter: expected mode "replicated" or "global", got "mode=job"'));
  equal(await agent(s, 'service', 'ls', '-f', 'image=nginx'), usage('--filter: expected a filter on id, label, mode or name, got "image=nginx"'));
  equal(await agent(s, 'service', 'ls', '-f', 'mode'), usage('--filter: expected name=value, got "mode"'));
  equal(s.calls, []);
});

t('service ls on no services: the header alone', async (s) => {
  await fakeServices(s, { services: [] });
  equal(await agent(s, 'service', 'ls'), { code: 0, out: tableRow([10, 10, 10, 11, 10], LS_HEADER), err: '' });
});

t("ports cell as docker's: ranges by protocol, a new range where ports stop following on, unchosen ports left out", () => {
  const p = (pub: number | undefined, target: number, Protocol: 'tcp' | 'udp' = 'tcp') => ({ Protocol, TargetPort: target, ...(pub !== undefined ? { PublishedPort: pub } : {}), PublishMode: 'ingress' as const });
  is(portsCell([]), '');
  is(portsCell([p(8080, 80)]), '*:8080->80/tcp');
  // Many published ports to one target fold into one range; then a target range.
  is(portsCell([p(80, 80), p(81, 80), p(82, 80)]), '*:80-82->80/tcp');
  is(portsCell([p(80, 80), p(81, 81), p(82, 80)]), '*:80-81->80-81/tcp, *:82->80/tcp');
  is(portsCell([p(80, 80), p(82, 82)]), '*:80->80/tcp, *:82->82/tcp');
  is(portsCell([p(53, 53, 'udp'), p(53, 53)]), '*:53->53/tcp, *:53->53/udp');
  is(portsCell([p(undefined, 80), p(8080, 81)]), '*:8080->81/tcp');
});

// ---- ps -----------------------------------------------------------------------

// ID 12 + 3; NAME " \_ web.1" 9 + 3; COMMAND 20 + 3; NODE at least 10; DESIRED STATE 13 + 3;
// "Pending less than a second ago" 30 + 3; the cut error, quoted, 32 + 3.
const PS_HEADER = ['ID', 'NAME', 'COMMAND', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR', 'PORTS'];
const psRow = (...cells: string[]): string => tableRow([15, 12, 23, 10, 16, 33, 35], cells);
const WEB_CMD = 'python3 -m http.ser…';

t("service ps: docker's tree (each slot's newest first, older ones indented under it), states with their age, errors quoted and cut", async (s) => {
  await fakeServices(s);
  const r = await agentAtNow(s, 'service', 'ps', 'web');
  equal(r, {
    code: 0,
    out:
      psRow(...PS_HEADER) +
      psRow('a1a1a1a1a1a1', 'web.1', WEB_CMD, 'edge-1', 'Running', 'Running 5 seconds ago', '', '*:5353->53/udp') +
      psRow('b1b1b1b1b1b1', ' \\_ web.1', WEB_CMD, 'edge-1', 'Shutdown', 'Failed 1 minute ago', '"task: non-zero exit (1)"', '') +
      psRow('c1c1c1c1c1c1', ' \\_ web.1', WEB_CMD, 'edge-3', 'Shutdown', 'Failed 2 hours ago', '"starting container failed: ex…"', '') +
      psRow('a2a2a2a2a2a2', 'web.2', WEB_CMD, 'edge-2', 'Running', 'Running 5 seconds ago', '', '*:5353->53/udp') +
      psRow('a3a3a3a3a3a3', 'web.3', WEB_CMD, '', 'Running', 'Pending less than a second ago', '', ''),
    err: '',
  });
  // The service found by name, then its tasks by id.
  equal(s.calls.map((c) => [c.call, c.query]), [
    ['GET /services/web', {}],
    ['GET /tasks', { service: WEB.ID }],
  ]);
});

t('service ps --no-trunc: whole ids, commands and errors; -q: whole ids only, as docker', async (s) => {
  await fakeServices(s);
  const r = await agentAtNow(s, 'service', 'ps', '--no-trunc', '--filter', 'desired-state=shutdown', 'web');
  // ID 25 + 3; NAME 9 + 3; the whole command 25 + 3; "Failed 1 minute ago" 19 + 3; the whole error 61 + 2 + 3.
  const row = (...cells: string[]): string => tableRow([28, 12, 28, 10, 16, 22, 66], cells);
  equal(r, {
    code: 0,
    out:
      row(...PS_HEADER) +
      row(T1_OLD.ID, 'web.1', 'python3 -m http.server 80', 'edge-1', 'Shutdown', 'Failed 1 minute ago', '"task: non-zero exit (1)"', '') +
      row(T1_OLDER.ID, ' \\_ web.1', 'python3 -m http.server 80', 'edge-3', 'Shutdown', 'Failed 2 hours ago', '"starting container failed: executable file not found in $PATH"', ''),
    err: '',
  });
  equal(await agentAtNow(s, 'service', 'ps', '-q', 'web'), { code: 0, out: [T1, T1_OLD, T1_OLDER, T2, T3].map((x) => `${x.ID}\n`).join(''), err: '' });
});

t('service ps of several services: their tasks together in name order; --format json one object per line, no tree', async (s) => {
  await fakeServices(s);
  const r = await agentAtNow(s, 'service', 'ps', '--format', 'json', '-f', 'desired-state=running', 'web', 'ap1');
  is(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  equal(lines.map((l) => l['Name']), ['api.1', 'web.1', 'web.2', 'web.3']);
  equal(lines[1], {
    Command: 'python3 -m http.server 80',
    CurrentState: 'Running 5 seconds ago',
    DesiredState: 'Running',
    Error: '',
    ID: 'a1a1a1a1a1a1',
    Name: 'web.1',
    Node: 'edge-1',
    Ports: '*:5353->53/udp',
  });
  equal(Object.keys(lines[0]!), ['Command', 'CurrentState', 'DesiredState', 'Error', 'ID', 'Name', 'Node', 'Ports']);
});

t('service ps --filter: id and name by prefix, node by hostname or id; a bad filter before any request', async (s) => {
  await fakeServices(s);
  const ids = async (...f: string[]): Promise<string> => (await agentAtNow(s, 'service', 'ps', '-q', 'web', ...f.flatMap((x) => ['-f', x]))).out;
  is(await ids('node=edge-2'), `${T2.ID}\n`);
  is(await ids('name=web.3'), `${T3.ID}\n`);
  is(await ids('id=c1', 'id=a2'), `${T1_OLDER.ID}\n${T2.ID}\n`);
  is(await ids('desired-state=accepted'), '');
  s.calls = [];
  equal(await agent(s, 'service', 'ps', '-f', 'desired-state=gone', 'web'), usage('--filter: expected desired-state "running", "shutdown" or "accepted", got "desired-state=gone"'));
  equal(await agent(s, 'service', 'ps', '-f', 'label=x', 'web'), usage('--filter: expected a filter on desired-state, id, name or node, got "label=x"'));
  equal(await agent(s, 'service', 'ps', 'web', ''), usage('SERVICE: expected a service name, id or id prefix, got ""'));
  isYargsUsage(await agent(s, 'service', 'ps'), 'ps without a service');
  equal(s.calls, []);
});

t("service ps of an unknown service: docker's \"no such service\" after the others' tasks; alone, nothing printed", async (s) => {
  await fakeServices(s);
  const r = await agentAtNow(s, 'service', 'ps', '-q', 'nope', 'api', 'gone');
  equal(r, failure('no such service: nope; no such service: gone', `${API_1.ID}\n`));
  equal(await agentAtNow(s, 'service', 'ps', 'nope'), failure('no such service: nope'));
});

// ---- inspect ------------------------------------------------------------------

t('service inspect: an array indented by 4 as docker inspect prints it; -f json on one line; refs encoded', async (s) => {
  await fakeServices(s);
  equal(await agent(s, 'service', 'inspect', 'web', 'ap1'), { code: 0, out: JSON.stringify([WEB, API], null, 4) + '\n', err: '' });
  equal(await agent(s, 'service', 'inspect', '-f', 'json', 'monitor'), { code: 0, out: JSON.stringify([MONITOR]) + '\n', err: '' });
  s.calls = [];
  equal(await agent(s, 'service', 'inspect', 'a/b?c'), failure('no such service: a/b?c', '[]\n'));
  equal(s.calls.map((c) => c.call), ['GET /services/a%2Fb%3Fc']);
});

t("service inspect of unknown services: what was found, then docker's words for each that was not, exit 1", async (s) => {
  await fakeServices(s);
  equal(await agent(s, 'service', 'inspect', 'nope', 'api', 'gone'), failure('no such service: nope; no such service: gone', JSON.stringify([API], null, 4) + '\n'));
});

t("service inspect --pretty: docker's summary, values at column 16, network ids named; global services without replicas", async (s) => {
  await fakeServices(s);
  const r = await agent(s, 'service', 'inspect', '--pretty', 'web', 'monitor');
  is(r.code, 0, r.err);
  const l = (label: string, value: string): string => pad(label, 16) + value + '\n';
  const port = (pub: number, proto: string, target: number, mode: string): string => ` PublishedPort = ${pub}\n  Protocol = ${proto}\n  TargetPort = ${target}\n  PublishMode = ${mode}\n`;
  is(
    r.out,
    '\n' +
      l('ID:', WEB.ID) +
      l('Name:', 'web') +
      'Labels:\n canary\n tier=front\n' +
      l('Service Mode:', 'Replicated') +
      l(' Replicas:', '3') +
      'Placement:\n' +
      l(' Constraints:', '[node.role==worker node.labels.zone!=b]') +
      'UpdateConfig:\n' +
      l(' Parallelism:', '1') +
      ' Update order:      start-first\n' +
      'RestartPolicy:\n' +
      l(' Condition:', 'on-failure') +
      l(' Delay:', '5s') +
      l(' Max attempts:', '3') +
      l(' Window:', '1m30s') +
      'ContainerSpec:\n' +
      l(' Args:', 'python3 -m http.server 80') +
      l(' Env:', 'A=1 B=two words') +
      'Networks: frontend b4ckn3tw0rk\n' +
      l('Endpoint Mode:', 'vip') +
      'Ports:\n' +
      port(5353, 'udp', 53, 'host') +
      port(8081, 'tcp', 81, 'ingress') +
      port(8080, 'tcp', 80, 'ingress') +
      '\n' +
      l('ID:', MONITOR.ID) +
      l('Name:', 'monitor') +
      l('Service Mode:', 'Global') +
      'Placement:\n' +
      'UpdateConfig:\n' +
      l(' Parallelism:', '1') +
      ' Update order:      stop-first\n' +
      'RestartPolicy:\n' +
      l(' Condition:', 'any') +
      l(' Delay:', '5s') +
      l(' Max attempts:', '0') +
      l(' Window:', '0s') +
      'ContainerSpec:\n' +
      l(' Args:', 'sleep 600') +
      l('Endpoint Mode:', 'vip'),
  );
  s.calls = [];
  equal(await agent(s, 'service', 'inspect', '--pretty', '--format', 'json', 'web'), usage('--pretty: cannot be combined with --format'));
  equal(await agent(s, 'service', 'inspect', 'web', ''), usage('SERVICE: expected a service name, id or id prefix, got ""'));
  equal(await agent(s, 'service', 'inspect', '-f', 'yaml', 'web'), failure('--format: expected "json", got "yaml"'));
  equal(s.calls, []);
});

t('Go durations as docker prints them in --pretty', () => {
  equal([0, 500, 1000, 1500, 5000, 90_000, 3_600_000, 3_723_004, 7 * 24 * 3_600_000].map(goDuration), ['0s', '500ms', '1s', '1.5s', '5s', '1m30s', '1h0m0s', '1h2m3.004s', '168h0m0s']);
});

// ---- logs ---------------------------------------------------------------------

type LogChunk = ServiceLogs['Chunks'][number];
const chunk = (task: TaskInspect, Data: string, Next: number): LogChunk => ({ TaskID: task.ID, ContainerName: task.ContainerName, NodeID: task.NodeID, Hostname: task.NodeHostname, Data, Next });
function inTurn(answers: LogChunk[][]): (req: Request) => ServiceLogs {
  let i = 0;
  return () => ({ Chunks: answers[Math.min(i++, answers.length - 1)]! });
}
const logQueries = (s: State): Record<string, string>[] => s.calls.filter((c) => c.call.endsWith('/logs')).map((c) => c.query);

t("service logs: each line prefixed NAME.SLOT.TASKID@NODE as docker; a partial line held until the end, then printed whole", async (s) => {
  await fakeServices(s, { logs: inTurn([[chunk(T1, 'hello\nwor', 9), chunk(T2, 'one\ntwo\n', 8)]]) });
  const r = await agent(s, 'service', 'logs', 'web');
  equal(r, {
    code: 0,
    out: 'web.1.a1a1a1a1a1a1@edge-1    | hello\n' + 'web.2.a2a2a2a2a2a2@edge-2    | one\n' + 'web.2.a2a2a2a2a2a2@edge-2    | two\n' + 'web.1.a1a1a1a1a1a1@edge-1    | wor\n',
    err: '',
  });
  equal(s.calls.map((c) => c.call), ['GET /services/web', `GET /services/${WEB.ID}/logs`]);
  equal(logQueries(s), [{ offsets: '{}' }]);
});

t('service logs: a full chunk (64 KiB) is asked for again at once from the offsets given, tail on the first request only', async (s) => {
  const big = 'x'.repeat(64 * 1024 - 1) + '\n';
  await fakeServices(s, { logs: inTurn([[chunk(T1, big, 70_000), chunk(T2, 'a\n', 2)], [chunk(T1, 'end\n', 70_004)]]) });
  const r = await agent(s, 'service', 'logs', '--tail', '5', '--no-task-ids', 'web');
  is(r.code, 0, r.err);
  equal(r.out.split('\n').slice(1), ['web.2@edge-2    | a', 'web.1@edge-1    | end', '']);
  equal(logQueries(s), [
    { offsets: '{}', tail: '5' },
    { offsets: JSON.stringify({ [T1.ID]: 70_000, [T2.ID]: 2 }) },
  ]);
});

t('service logs --raw: no prefix, lines as they came; --no-trunc: whole task ids; slots padded to the replica count\'s digits', async (s) => {
  const wide = mkService('wide', 'w1d3w1d3w1d3w1d3w1d3w1d30', { Spec: { Mode: { Replicated: { Replicas: 10 } } } });
  const w1 = mkTask(wide, 'wide.1', 'w1w1w1w1w1w1w1w1w1w1w1w10');
  const w10 = mkTask(wide, 'wide.10', 'w10w10w10w10w10w10w10w100');
  await fakeServices(s, { services: [wide], logs: inTurn([[chunk(w1, 'a\nb', 3), chunk(w10, 'c\n', 2)]]) });
  equal(await agent(s, 'service', 'logs', '--raw', 'wide'), { code: 0, out: 'a\nc\nb', err: '' });
  equal(await agent(s, 'service', 'logs', '--no-trunc', 'wide'), {
    code: 0,
    out: `wide.1.${w1.ID}@edge-1     | a\nwide.10.${w10.ID}@edge-1    | c\nwide.1.${w1.ID}@edge-1     | b\n`,
    err: '',
  });
});

t('service logs: unknown service, bad --tail or no service: one line, and no logs asked for', async (s) => {
  await fakeServices(s);
  equal(await agent(s, 'service', 'logs', 'nope'), failure('service nope not found'));
  equal(await agent(s, 'service', 'logs', '--tail', 'ten', 'web'), usage('--tail: expected a number of lines or "all", got "ten"'));
  equal(await agent(s, 'service', 'logs', '-n', 'all', 'api'), { code: 0, out: '', err: '' });
  isYargsUsage(await agent(s, 'service', 'logs'), 'logs without a service');
  equal(s.calls.map((c) => [c.call, c.query]), [
    ['GET /services/nope', {}],
    ['GET /services/api', {}],
    [`GET /services/${API.ID}/logs`, { offsets: '{}' }],
  ]);
});

t('streamLogs following: polls every 500 ms from the offsets given, a line printed once its newline comes, until stopped', async (s) => {
  await fakeServices(s, {
    logs: inTurn([[chunk(T1, 'first\npar', 9)], [chunk(T1, '', 9)], [chunk(T1, 'tial\n', 14), chunk(T2, 'x\n', 2)], [chunk(T1, '', 14), chunk(T2, '', 2)]]),
  });
  const clock = manualClock(3);
  const writes: string[] = [];
  const client = new ApiClient({ host: `unix://${s.sock}` });
  let stopped = '';
  await streamLogs(client, WEB, { follow: true, taskIds: false, noTrunc: false, raw: false }, (x) => void writes.push(x), clock).catch((e: Error) => (stopped = e.message));
  is(stopped, 'stopped by the test (Ctrl-C)');
  equal(writes, ['web.1@edge-1    | first\n', 'web.1@edge-1    | partial\nweb.2@edge-2    | x\n']);
  equal(clock.slept, [POLL_MS, POLL_MS, POLL_MS]);
  equal(
    logQueries(s).map((q) => q['offsets']),
    ['{}', JSON.stringify({ [T1.ID]: 9 }), JSON.stringify({ [T1.ID]: 9 }), JSON.stringify({ [T1.ID]: 14, [T2.ID]: 2 })],
  );
});

// ---- update -------------------------------------------------------------------

t('service update -d: every flag in one POST to the service\'s id, after reading it; -- CMD replaces the command; prints the service as given', async (s) => {
  await fakeServices(s);
  process.env['AGENT_SERVICE_TEST_REGION'] = 'eu';
  let r: Captured;
  try {
    r = await agent(
      s,
      'service', 'update', '-d', '--replicas', '5',
      '--network-add', 'frontend', '--network-rm', 'backend',
      '--publish-add', '9090:90/udp', '--publish-rm', '80', '--publish-rm', '8081:81/tcp',
      '--env-add', 'A=2', '--env-add', 'AGENT_SERVICE_TEST_REGION', '--env-rm', 'B',
      '--constraint-add', 'node.hostname!=edge-3', '--constraint-rm', 'node.role==worker',
      '--restart-condition', 'any', '--restart-max-attempts', '0', '--update-order', 'stop-first', '--force',
      'web', '--', 'python3', '-m', 'http.server', '8000',
    );
  } finally {
    delete process.env['AGENT_SERVICE_TEST_REGION'];
  }
  equal(r, { code: 0, out: 'web\n', err: '' });
  equal(s.calls, [
    { call: 'GET /services/web', query: {}, body: undefined },
    {
      call: `POST /services/${WEB.ID}/update`,
      query: {},
      body: {
        Replicas: 5,
        NetworksAdd: ['frontend'],
        NetworksRm: ['backend'],
        PortsAdd: [{ Protocol: 'udp', TargetPort: 90, PublishedPort: 9090, PublishMode: 'ingress' }],
        PortsRm: [{ TargetPort: 80 }, { TargetPort: 81, PublishedPort: 8081, Protocol: 'tcp' }],
        EnvAdd: ['A=2', 'AGENT_SERVICE_TEST_REGION=eu'],
        EnvRm: ['B'],
        ConstraintsAdd: ['node.hostname!=edge-3'],
        ConstraintsRm: ['node.role==worker'],
        RestartPolicy: { Condition: 'any', MaxAttempts: 0 },
        UpdateOrder: 'stop-first',
        Command: ['python3', '-m', 'http.server', '8000'],
        Force: true,
      },
    },
  ]);
});

t("service update: --replicas on a global service refused in docker's words before anything is posted; bad flags before any request", async (s) => {
  await fakeServices(s);
  equal(await agent(s, 'service', 'update', '-d', '--replicas', '2', 'monitor'), failure('replicas can only be used with replicated mode'));
  equal(s.calls.map((c) => c.call), ['GET /services/monitor']);
  s.calls = [];
  equal(await agent(s, 'service', 'update', '--publish-add', '80:x', 'web'), usage('invalid argument "80:x" for "--publish-add" flag: invalid containerPort: x'));
  equal(await agent(s, 'service', 'update', '--publish-rm', 'x', 'web'), usage('invalid argument "x" for "--publish-rm" flag: invalid containerPort: x'));
  equal(await agent(s, 'service', 'update', '--env-rm', '', 'web'), usage('--env-rm: expected a variable name, got ""'));
  equal(await agent(s, 'service', 'update', '--restart-delay', 'soon', 'web'), usage('--restart-delay: expected a duration such as 500ms, 90s, 1h30m or 2160h (units ns, us, ms, s, m, h), got "soon"'));
  equal(await agent(s, 'service', 'update', '--constraint-add', 'node.role', 'web'), usage('--constraint-add: expected KEY==VALUE or KEY!=VALUE (e.g. node.role==worker), got "node.role"'));
  equal(await agent(s, 'service', 'update', ''), usage('SERVICE: expected a service name, id or id prefix, got ""'));
  isYargsUsage(await agent(s, 'service', 'update', 'web', 'sleep', '10'), 'a command without --');
  isYargsUsage(await agent(s, 'service', 'update'), 'no service');
  equal(s.calls, []);
  equal(await agent(s, 'service', 'update', '-d', 'nope'), failure('service nope not found'));
});

t('service update without -d: waits for the tasks made since the change; an update that changes nothing counts every task', async (s) => {
  const changed = mkService('api', API.ID, { UpdatedAt: iso(30_000), Spec: { TaskTemplate: { ContainerSpec: { Command: ['node', 'server.js'], Env: ['A=1'] } } } });
  const fresh = mkTask(changed, 'api.1', 'fr3shfr3shfr3shfr3shfr3s0', { CreatedAt: iso(20_000) });
  let updated = false;
  await fake(s, {
    'GET /services/:ref': () => (updated ? changed : API),
    'POST /services/:ref/update': () => ((updated = true), { Warnings: [] }),
    'GET /tasks': [fresh, API_1],
  });
  equal(await agent(s, 'service', 'update', '--env-add', 'A=1', 'api'), { code: 0, out: 'api\n', err: `overall progress: 1 out of 1 tasks\nverify: Service ${API.ID} converged\n` });
  equal(await agent(s, 'service', 'update', '--replicas', '1', 'api'), { code: 0, out: 'api\n', err: `overall progress: 1 out of 1 tasks\nverify: Service ${API.ID} converged\n` });
});

// ---- scale --------------------------------------------------------------------

t('service scale: each service read, then its replicas posted to its id; "NAME scaled to N" as given', async (s) => {
  await fakeServices(s);
  equal(await agent(s, 'service', 'scale', '-d', 'web=5', 'ap1=0'), { code: 0, out: 'web scaled to 5\nap1 scaled to 0\n', err: '' });
  equal(
    s.calls.map((c) => [c.call, c.body]),
    [
      ['GET /services/web', undefined],
      [`POST /services/${WEB.ID}/update`, { Replicas: 5 }],
      ['GET /services/ap1', undefined],
      [`POST /services/${API.ID}/update`, { Replicas: 0 }],
    ],
  );
});

t("service scale: a global service or an unknown one fails alone, named, in docker's words; the rest are scaled; exit 1", async (s) => {
  await fakeServices(s);
  equal(await agent(s, 'service', 'scale', '-d', 'monitor=3', 'web=1', 'nope=2'), failure('monitor: scale can only be used with replicated mode; nope: service nope not found', 'web scaled to 1\n'));
  equal(s.calls.filter((c) => c.call.startsWith('POST')).map((c) => c.call), [`POST /services/${WEB.ID}/update`]);
});

t('service scale: a bad specifier anywhere is one usage line before any request', async (s) => {
  await fakeServices(s);
  equal(await agent(s, 'service', 'scale', 'web=2', 'api'), usage("invalid scale specifier 'api': expected NAME=REPLICAS"));
  equal(await agent(s, 'service', 'scale', '=2'), usage("invalid scale specifier '=2': expected NAME=REPLICAS"));
  equal(await agent(s, 'service', 'scale', 'web='), usage("invalid scale specifier 'web=': expected NAME=REPLICAS"));
  equal(await agent(s, 'service', 'scale', 'web=two'), usage('invalid replicas value for web: expected an integer from 0 to 2147483647, got "two"'));
  isYargsUsage(await agent(s, 'service', 'scale'), 'scale without a specifier');
  equal(s.calls, []);
});

t('service scale without -d: the services that were scaled are waited for', async (s) => {
  await fakeServices(s);
  equal(await agent(s, 'service', 'scale', 'api=1', 'monitor=1'), {
    code: 1,
    out: 'api scaled to 1\n',
    err: `overall progress: 1 out of 1 tasks\nverify: Service ${API.ID} converged\nagent: monitor: scale can only be used with replicated mode\n`,
  });
});

// ---- rm -----------------------------------------------------------------------

t("service rm: each removed and printed as given; a failure does not stop the others; all failures in one line, exit 1", async (s) => {
  await fakeServices(s);
  equal(await agent(s, 'service', 'rm', 'web', 'nope', 'ap1', 'gone'), failure('service nope not found; service gone not found', 'web\nap1\n'));
  equal(s.calls.map((c) => c.call), ['DELETE /services/web', 'DELETE /services/nope', 'DELETE /services/ap1', 'DELETE /services/gone']);
  s.calls = [];
  equal(await agent(s, 'service', 'remove', 'a/b'), failure('service a/b not found'));
  equal(s.calls.map((c) => c.call), ['DELETE /services/a%2Fb']);
  s.calls = [];
  equal(await agent(s, 'service', 'rm', 'web', ''), usage('SERVICE: expected a service name, id or id prefix, got ""'));
  isYargsUsage(await agent(s, 'service', 'rm'), 'rm without a service');
  equal(s.calls, []);
});

// ---- no daemon ----------------------------------------------------------------

t('no daemon: one line for every service command, nothing on stdout even for inspect', async (s) => {
  const err = `agent: cannot connect to the agent daemon at unix://${s.sock}: is the daemon running?\n`;
  for (const argv of [
    ['create', '--name', 'x', '--', 'true'],
    ['ls'],
    ['ps', 'web'],
    ['inspect', 'web', 'api'],
    ['inspect', '--pretty', 'web'],
    ['logs', '-f', 'web'],
    ['update', '--replicas', '2', 'web'],
    ['scale', 'web=2', 'api=1'],
    ['rm', 'web', 'api'],
  ]) {
    equal(await agent(s, 'service', ...argv), { code: 1, out: '', err }, argv.join(' '));
  }
  ok(true);
});

t.run();
