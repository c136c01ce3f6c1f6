// `agent node ...` driven as a user drives it, against a fake daemon on a
// Unix socket: canned nodes, and a record of every request the CLI sent.
import { equal, is } from '../../harness.js';
import { ApiServer, type Request } from '../../../agent/api/server.js';
import type { NodeInspect, SystemInfo } from '../../../agent/api/types.js';
import { ApiError } from '../../../shared/errors.js';
import { naturalCompare } from '../../../agent/cli/node-ls.js';
import { agent, fake, fakeApiSuite, type State } from './fake-api.js';

const t = fakeApiSuite('cli node', 'agent-node-');

const SELF = 'selfid0000000000000000000'; // 25 characters, as swarm node ids

function mkNode(id: string, hostname: string, over: Partial<NodeInspect> = {}): NodeInspect {
  return {
    ID: id,
    Version: { Index: 10 },
    CreatedAt: '2025-03-04T05:06:07.890Z',
    UpdatedAt: '2025-03-04T05:06:08Z',
    Spec: { Role: 'worker', Availability: 'active', Labels: {} },
    Description: { Hostname: hostname, Platform: { OS: 'linux', Architecture: 'x86_64' }, Engine: { EngineVersion: '0.1.0' } },
    Status: { State: 'ready', Message: '', Addr: '192.0.2.20' },
    ...over,
  };
}

const LEADER = mkNode(SELF, 'edge-2', {
  Spec: { Role: 'manager', Availability: 'active', Labels: {} },
  ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: '192.0.2.2:2377' },
});
const REACHABLE = mkNode('mgr2id0000000000000000000', 'edge-10', {
  Spec: { Role: 'manager', Availability: 'drain', Labels: {} },
  ManagerStatus: { Leader: false, Reachability: 'unreachable', Addr: '192.0.2.10:2377' },
  Status: { State: 'down', Message: '', Addr: '192.0.2.10' },
});
const WORKER_B = mkNode('wkrbid0000000000000000000', 'edge-1', { Spec: { Role: 'worker', Availability: 'pause', Labels: {} } });
const WORKER_A = mkNode('wkraid0000000000000000000', 'edge-1', { Status: { State: 'disconnected', Message: '', Addr: '' } });
const NODES = [LEADER, REACHABLE, WORKER_B, WORKER_A];

const INFO = { Name: 'edge-2', Pid: 1, StateDir: '/var/lib/agent', NamePrefix: 'ag', Runtime: 'node 20', Swarm: { NodeID: SELF } } as unknown as SystemInfo;

/** A fake daemon over nodes: list, get by id or hostname, update, delete; every request recorded. */
async function fakeNodes(s: State, nodes: NodeInspect[] = NODES, info: SystemInfo = INFO): Promise<void> {
  const find = (ref: string): NodeInspect => {
    const n = nodes.find((x) => x.ID === ref || x.Description.Hostname === ref);
    if (!n) throw new ApiError(`node ${ref} not found`, 404);
    return n;
  };
  await fake(s, {
    'GET /info': info,
    'GET /nodes': nodes,
    'GET /nodes/:id': (req: Request) => find(req.params['id']!),
    'POST /nodes/:id/update': (req: Request) => {
      const n = find(req.params['id']!);
      if (n.Description.Hostname === 'edge-10') throw new ApiError('update out of sequence', 409);
      return {};
    },
    'DELETE /nodes/:id': (req: Request) => {
      const n = find(req.params['id']!);
      if (n.Spec.Role === 'manager') throw new ApiError(`node ${n.ID} is a manager: demote it first`, 400);
      return {};
    },
  });
}

const pad = (text: string, width: number): string => text + ' '.repeat(width - text.length);

t('node ls: docker\'s columns and layout, the local node starred, natural order by hostname then id', async (s) => {
  await fakeNodes(s);
  const r = await agent(s, 'node', 'ls');
  is(r.code, 0, r.err);
  // Widths: the ID cell is a 25-character id and " *" or "  " (27) + 3 = 30; HOSTNAME 8 + 3 = 11;
  // STATUS "Disconnected" 12 + 3 = 15; AVAILABILITY 12 + 3; MANAGER STATUS 14 + 3; the last column unpadded.
  const row = (id: string, host: string, status: string, avail: string, mgr: string, engine: string): string =>
    pad(id, 30) + pad(host, 11) + pad(status, 15) + pad(avail, 15) + pad(mgr, 17) + engine + '\n';
  is(
    r.out,
    row('ID  ', 'HOSTNAME', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS', 'ENGINE VERSION') +
      row('wkraid0000000000000000000  ', 'edge-1', 'Disconnected', 'Active', '', '0.1.0') +
      row('wkrbid0000000000000000000  ', 'edge-1', 'Ready', 'Pause', '', '0.1.0') +
      row(`${SELF} *`, 'edge-2', 'Ready', 'Active', 'Leader', '0.1.0') +
      row('mgr2id0000000000000000000  ', 'edge-10', 'Down', 'Drain', 'Unreachable', '0.1.0'),
  );
  equal(s.calls.map((c) => c.call), ['GET /nodes', 'GET /info']);
});

t('node ls -q: ids only, in the same order, without asking /info', async (s) => {
  await fakeNodes(s);
  const r = await agent(s, 'node', 'ls', '-q');
  equal(r, { code: 0, out: `wkraid0000000000000000000\nwkrbid0000000000000000000\n${SELF}\nmgr2id0000000000000000000\n`, err: '' });
  equal(s.calls.map((c) => c.call), ['GET /nodes']);
});

t('node ls --format json: one object per line with docker\'s fields; bad format is an error', async (s) => {
  await fakeNodes(s);
  let r = await agent(s, 'node', 'ls', '--format', 'json');
  is(r.code, 0);
  const lines = r.out.trimEnd().split('\n');
  is(lines.length, 4);
  is(lines[2], `{"Availability":"Active","EngineVersion":"0.1.0","Hostname":"edge-2","ID":"${SELF}","ManagerStatus":"Leader","Self":true,"Status":"Ready"}`);
  r = await agent(s, 'node', 'ls', '--format', 'table');
  equal(r, { code: 1, out: '', err: 'agent: --format: expected "json", got "table"\n' });
});

t('node ls on an empty list: the header alone, and no /info', async (s) => {
  await fakeNodes(s, []);
  const r = await agent(s, 'node', 'list');
  equal(r, { code: 0, out: pad('ID  ', 10) + pad('HOSTNAME', 11) + pad('STATUS', 10) + pad('AVAILABILITY', 15) + pad('MANAGER STATUS', 17) + 'ENGINE VERSION\n', err: '' });
  equal(s.calls.map((c) => c.call), ['GET /nodes']);
});

t('natural order as docker\'s sortorder: numbers by value, fewer leading zeros first, digits before letters', () => {
  const sorted = ['n10', 'n2', 'n02', 'n1a', 'n', 'na', 'n1', 'm9'].sort(naturalCompare);
  equal(sorted, ['m9', 'n', 'n1', 'n1a', 'n2', 'n02', 'n10', 'na']);
  // Pairwise, both ways round: a sort can hide a comparator that is not antisymmetric.
  const less: [string, string][] = [['n2', 'n02'], ['n1', 'na'], ['n9', 'n10'], ['edge-2', 'edge-10'], ['a', 'a0'], ['x07z', 'x007y']];
  for (const [a, b] of less) equal([naturalCompare(a, b) < 0, naturalCompare(b, a) > 0], [true, true], `${a} < ${b}`);
  is(naturalCompare('n010', 'n010'), 0);
});

t('node inspect: an array indented by 4; --format json on one line; refs are encoded', async (s) => {
  await fakeNodes(s);
  let r = await agent(s, 'node', 'inspect', 'edge-2', WORKER_B.ID);
  equal(r, { code: 0, out: JSON.stringify([LEADER, WORKER_B], null, 4) + '\n', err: '' });
  r = await agent(s, 'node', 'inspect', '-f', 'json', 'edge-10');
  equal(r, { code: 0, out: JSON.stringify([REACHABLE]) + '\n', err: '' });
  s.calls = [];
  r = await agent(s, 'node', 'inspect', 'a/b?c');
  equal(r, { code: 1, out: '[]\n', err: 'agent: node a/b?c not found\n' });
  equal(s.calls.map((c) => c.call), ['GET /nodes/a%2Fb%3Fc']);
});

t('node inspect self: the id /info gives; without one, the daemon\'s reason', async (s) => {
  await fakeNodes(s);
  const r = await agent(s, 'node', 'inspect', 'self');
  equal(r, { code: 0, out: JSON.stringify([LEADER], null, 4) + '\n', err: '' });
  equal(s.calls.map((c) => c.call), ['GET /info', `GET /nodes/${SELF}`]);
  await s.server!.close();
  const notManager = new ApiServer()
    .route('GET', '/info', () => ({ ...INFO, Swarm: { NodeID: '' } }))
    .route('GET', '/nodes', () => {
      throw new ApiError('This node is not a swarm manager.', 503);
    });
  await notManager.listen(s.sock);
  s.server = notManager;
  equal(await agent(s, 'node', 'inspect', 'self'), { code: 1, out: '[]\n', err: 'agent: This node is not a swarm manager.\n' });
});

t('node inspect: a missing node does not stop the others; all failures in one line, exit 1', async (s) => {
  await fakeNodes(s);
  const r = await agent(s, 'node', 'inspect', 'nope', 'edge-2', 'gone');
  equal(r, { code: 1, out: JSON.stringify([LEADER], null, 4) + '\n', err: 'agent: node nope not found; node gone not found\n' });
});

t('node inspect --pretty: docker\'s summary, values at column 24', async (s) => {
  const labelled = {
    ...LEADER,
    Spec: { ...LEADER.Spec, Labels: { zone: 'b', gpu: '' } },
    Status: { State: 'ready' as const, Message: 'heartbeat ok', Addr: '192.0.2.2' },
    Certificate: { Serial: '3f9a', NotAfterMs: Date.UTC(2025, 5, 1, 12, 0, 0) },
  };
  await fakeNodes(s, [labelled, WORKER_A]);
  const r = await agent(s, 'node', 'inspect', '--pretty', 'edge-2', WORKER_A.ID);
  is(r.code, 0, r.err);
  const l = (label: string, value: string): string => pad(label, 24) + value + '\n';
  is(
    r.out,
    l('ID:', SELF) +
      'Labels:\n - gpu\n - zone=b\n' +
      l('Hostname:', 'edge-2') +
      l('Joined at:', '2025-03-04 05:06:07.89 +0000 UTC') +
      'Status:\n' +
      l(' State:', 'Ready') +
      l(' Message:', 'Heartbeat ok') +
      l(' Availability:', 'Active') +
      l(' Address:', '192.0.2.2') +
      'Manager Status:\n' +
      l(' Address:', '192.0.2.2:2377') +
      l(' Raft Status:', 'Reachable') +
      l(' Leader:', 'Yes') +
      'Platform:\n' +
      l(' Operating System:', 'linux') +
      l(' Architecture:', 'x86_64') +
      l('Engine Version:', '0.1.0') +
      'TLS Info:\n' +
      l(' Certificate Serial:', '3f9a') +
      l(' Certificate Expiry:', '2025-06-01 12:00:00 +0000 UTC') +
      l('ID:', WORKER_A.ID) +
      l('Hostname:', 'edge-1') +
      l('Joined at:', '2025-03-04 05:06:07.89 +0000 UTC') +
      'Status:\n' +
      l(' State:', 'Disconnected') +
      l(' Availability:', 'Active') +
      'Platform:\n' +
      l(' Operating System:', 'linux') +
      l(' Architecture:', 'x86_64') +
      l('Engine Version:', '0.1.0'),
  );
  equal(await agent(s, 'node', 'inspect', '--pretty', '--format', 'json', 'edge-2'), {
    code: 2,
    out: '',
    err: "agent: --pretty: cannot be combined with --format (see 'agent --help')\n",
  });
});

t('node promote: posts Role manager with the node\'s version to its id; already a manager is said, not sent', async (s) => {
  await fakeNodes(s);
  const r = await agent(s, 'node', 'promote', 'edge-1', 'edge-2');
  equal(r, { code: 0, out: `Node edge-1 promoted to a manager in the swarm.\nNode ${SELF} is already a manager.\n`, err: '' });
  equal(s.calls.filter((c) => c.call.startsWith('POST')), [{ call: `POST /nodes/${WORKER_B.ID}/update`, query: { version: '10' }, body: { Role: 'manager' } }]);
});

t('node demote: posts Role worker; already a worker is said; failures collected, the rest still done', async (s) => {
  await fakeNodes(s);
  const r = await agent(s, 'node', 'demote', 'edge-10', 'nope', WORKER_A.ID, 'edge-2');
  equal(r, {
    code: 1,
    out: `Node ${WORKER_A.ID} is already a worker.\nManager edge-2 demoted in the swarm.\n`,
    err: 'agent: update out of sequence; node nope not found\n',
  });
  equal(
    s.calls.filter((c) => c.call.startsWith('POST')).map((c) => [c.call, c.body]),
    [
      [`POST /nodes/${REACHABLE.ID}/update`, { Role: 'worker' }],
      [`POST /nodes/${SELF}/update`, { Role: 'worker' }],
    ],
  );
});

t('node rm: each node as given once removed; -f sends force; failures collected', async (s) => {
  await fakeNodes(s);
  let r = await agent(s, 'node', 'rm', 'edge-1', 'edge-2', WORKER_A.ID);
  equal(r, { code: 1, out: `edge-1\n${WORKER_A.ID}\n`, err: `agent: node ${SELF} is a manager: demote it first\n` });
  equal(s.calls.map((c) => [c.call, c.query]), [
    ['DELETE /nodes/edge-1', {}],
    ['DELETE /nodes/edge-2', {}],
    [`DELETE /nodes/${WORKER_A.ID}`, {}],
  ]);
  s.calls = [];
  r = await agent(s, 'node', 'remove', '--force', 'edge-1');
  equal(r, { code: 0, out: 'edge-1\n', err: '' });
  equal(s.calls[0]!.query, { force: 'true' });
});

t('node update: availability and labels (added, then removed) in one post with the version; prints the node as given', async (s) => {
  const labelled = { ...WORKER_B, Spec: { ...WORKER_B.Spec, Labels: { zone: 'a', old: 'x' } } };
  await fakeNodes(s, [labelled]);
  const r = await agent(s, 'node', 'update', '--availability', 'drain', '--label-add', 'zone=b', '--label-add', 'gpu', '--label-add', 'k=v=w', '--label-rm', 'old', 'edge-1');
  equal(r, { code: 0, out: 'edge-1\n', err: '' });
  equal(s.calls[1], {
    call: `POST /nodes/${WORKER_B.ID}/update`,
    query: { version: '10' },
    body: { Availability: 'drain', Labels: { zone: 'b', gpu: '', k: 'v=w' } },
  });
  s.calls = [];
  await agent(s, 'node', 'update', '--role', 'manager', 'edge-1');
  equal(s.calls[1]!.body, { Role: 'manager' });
});

t('node update: removing a label the node lacks fails as docker does, and nothing is posted', async (s) => {
  await fakeNodes(s);
  equal(await agent(s, 'node', 'update', '--label-rm', 'zone', 'edge-2'), { code: 1, out: '', err: "agent: key zone doesn't exist in node's labels\n" });
  equal(s.calls.map((c) => c.call), [`GET /nodes/edge-2`]);
});

t('node update: no change flag, a bad choice or a bad label is a usage error before any request', async (s) => {
  await fakeNodes(s);
  const cases: [string[], string][] = [
    [[], 'node update: expected at least one of --availability, --role, --label-add, --label-rm'],
    [['--availability', 'paused'], '--availability: expected "active", "pause", "drain", got "paused"'],
    [['--role', 'boss'], '--role: expected "worker", "manager", got "boss"'],
    [['--label-add', '=v'], '--label-add: expected key=value, got "=v"'],
  ];
  for (const [flags, msg] of cases) {
    equal(await agent(s, 'node', 'update', ...flags, 'edge-1'), { code: 2, out: '', err: `agent: ${msg} (see 'agent --help')\n` }, flags.join(' '));
  }
  const r = await agent(s, 'node', 'update', '--availability', 'drain');
  equal([r.code, r.err.split('\n').length], [2, 2]);
  equal(s.calls, []);
});

t('node alone, or a subcommand without its NODE: one usage line, exit 2', async (s) => {
  equal(await agent(s, 'node'), {
    code: 2,
    out: '',
    err: "agent: node: expected a subcommand (demote, inspect, ls, promote, rm, update) (see 'agent --help')\n",
  });
  for (const sub of ['inspect', 'promote', 'demote', 'rm']) {
    const r = await agent(s, 'node', sub);
    equal([r.code, r.out, r.err.split('\n').length], [2, '', 2], sub);
  }
});

t('no daemon: one line, and nothing on stdout even for inspect', async (s) => {
  const err = `agent: cannot connect to the agent daemon at unix://${s.sock}: is the daemon running?\n`;
  equal(await agent(s, 'node', 'inspect', 'a', 'b'), { code: 1, out: '', err });
  equal(await agent(s, 'node', 'rm', 'a', 'b'), { code: 1, out: '', err });
});

t.run();
