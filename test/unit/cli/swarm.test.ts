// `agent swarm ...` and the swarm section of `agent info`, driven as a user
// drives them, against a fake daemon on a Unix socket: canned answers, and a
// record of every request the CLI sent.
import { equal, is, match } from '../../harness.js';
import { runCli } from '../../../agent/cli/index.js';
import type { SwarmInfo, SwarmInspect, SystemInfo } from '../../../agent/api/types.js';
import { ApiError } from '../../../shared/errors.js';
import { agent, fake, fakeApiSuite } from './fake-api.js';

const t = fakeApiSuite('cli swarm', 'agent-swarm-');

const NODE_ID = 'n7k2q9x4m1b8v5c3z6w0p2r4t';

const SWARM: SwarmInspect = {
  ID: 'c1u5t3r0000000000000000000',
  Version: { Index: 42 },
  CreatedAt: '2025-01-02T03:04:05.678Z',
  UpdatedAt: '2025-01-02T03:04:06Z',
  Spec: { Name: 'default', Dispatcher: { HeartbeatPeriodMs: 5000 }, CAConfig: { NodeCertExpiryMs: 7_776_000_000 }, EncryptionConfig: { KeyRotationMs: 43_200_000 } },
  CaDigest: '1abc',
  JoinTokens: { Worker: 'SWMTKN-1-1abc-worker', Manager: 'SWMTKN-1-1abc-manager' },
  DefaultAddrPool: ['10.0.0.0/8'],
  SubnetSize: 24,
  DataPathPort: 4789,
};

function swarmInfo(over: Partial<SwarmInfo> = {}): SwarmInfo {
  return {
    LocalNodeState: 'active',
    NodeID: NODE_ID,
    NodeAddr: '192.0.2.10',
    ControlAvailable: true,
    Error: '',
    RemoteManagers: [
      { NodeID: 'other0000000000000000000000', Addr: '192.0.2.11:2377' },
      { NodeID: NODE_ID, Addr: '192.0.2.10:2377' },
    ],
    Nodes: 3,
    Managers: 2,
    Cluster: { ID: SWARM.ID },
    ...over,
  };
}

function info(sw: SwarmInfo = swarmInfo()): SystemInfo {
  return { Name: 'edge-1', Pid: 1234, StateDir: '/var/lib/agent', NamePrefix: 'ag', Runtime: 'node 20', Swarm: sw };
}

const WORKER_JOIN = `To add a worker to this swarm, run the following command:\n\n    agent swarm join --token SWMTKN-1-1abc-worker 192.0.2.10:2377\n\n`;
const MANAGER_JOIN = `To add a manager to this swarm, run the following command:\n\n    agent swarm join --token SWMTKN-1-1abc-manager 192.0.2.10:2377\n\n`;

t('swarm init: an empty request, then docker\'s text with the worker token and this manager\'s address', async (s) => {
  await fake(s, { 'POST /swarm/init': NODE_ID, 'GET /swarm': SWARM, 'GET /info': info() });
  const r = await agent(s, 'swarm', 'init');
  equal(r, {
    code: 0,
    out:
      `Swarm initialized: current node (${NODE_ID}) is now a manager.\n\n` +
      WORKER_JOIN +
      "To add a manager to this swarm, run 'agent swarm join-token manager' and follow the instructions.\n\n",
    err: '',
  });
  equal(s.calls, [
    { call: 'POST /swarm/init', query: {}, body: {} },
    { call: 'GET /swarm', query: {}, body: undefined },
    { call: 'GET /info', query: {}, body: undefined },
  ]);
});

t('swarm init: every flag lands in its field; pools repeat or come comma-separated; durations in ms', async (s) => {
  await fake(s, { 'POST /swarm/init': NODE_ID, 'GET /swarm': SWARM, 'GET /info': info() });
  const r = await agent(
    s,
    'swarm', 'init',
    '--advertise-addr', '192.0.2.10',
    '--data-path-addr', 'eth1',
    '--listen-addr', '0.0.0.0:4000',
    '--data-path-port', '7789',
    '--default-addr-pool', '10.10.0.0/16',
    '--default-addr-pool', '10.20.0.0/16,fd00::/48',
    '--default-addr-pool-mask-length', '26',
    '--force-new-cluster',
    '--dispatcher-heartbeat', '1500ms',
    '--cert-expiry', '1h30m',
  );
  is(r.code, 0, r.err);
  equal(s.calls[0]!.body, {
    ListenAddr: '0.0.0.0:4000',
    AdvertiseAddr: '192.0.2.10',
    DataPathAddr: 'eth1',
    DataPathPort: 7789,
    DefaultAddrPool: ['10.10.0.0/16', '10.20.0.0/16', 'fd00::/48'],
    SubnetSize: 26,
    ForceNewCluster: true,
    Spec: { Dispatcher: { HeartbeatPeriodMs: 1500 }, CAConfig: { NodeCertExpiryMs: 5_400_000 } },
  });
});

t('swarm init: --datapath-addr is ours, --data-path-addr docker\'s; a repeated string flag keeps the last', async (s) => {
  await fake(s, { 'POST /swarm/init': NODE_ID, 'GET /swarm': SWARM, 'GET /info': info() });
  await agent(s, 'swarm', 'init', '--datapath-addr', '198.51.100.7', '--advertise-addr', 'a', '--advertise-addr', 'b');
  equal(s.calls[0]!.body, { DataPathAddr: '198.51.100.7', AdvertiseAddr: 'b' });
});

t('swarm init: bad flag values are one usage line, exit 2, and nothing is sent', async (s) => {
  await fake(s, { 'POST /swarm/init': NODE_ID });
  const cases: [string[], string][] = [
    [['--cert-expiry', '90d'], '--cert-expiry: expected a duration such as 500ms, 90s, 1h30m or 2160h (units ns, us, ms, s, m, h), got "90d"'],
    [['--dispatcher-heartbeat', '0s'], '--dispatcher-heartbeat: expected a duration greater than 0, got "0s"'],
    [['--default-addr-pool', '10.0.0.0'], '--default-addr-pool: expected a CIDR such as 10.0.0.0/8, got "10.0.0.0"'],
    [['--default-addr-pool', '10.0.0.0/33'], '--default-addr-pool: expected a CIDR such as 10.0.0.0/8, got "10.0.0.0/33"'],
    [['--data-path-port', '70000'], '--data-path-port: expected an integer from 0 to 65535, got "70000"'],
    [['--default-addr-pool-mask-length', 'x'], '--default-addr-pool-mask-length: expected an integer from 1 to 128, got "x"'],
    [['--advertise-addr', ''], '--advertise-addr: expected <ip|interface>[:port], got ""'],
  ];
  for (const [flags, msg] of cases) {
    const r = await agent(s, 'swarm', 'init', ...flags);
    equal(r, { code: 2, out: '', err: `agent: ${msg} (see 'agent --help')\n` }, flags.join(' '));
  }
  equal(s.calls, []);
});

t('swarm init: the daemon\'s refusal is one line, exit 1, nothing on stdout', async (s) => {
  await fake(s, {
    'POST /swarm/init': () => {
      throw new ApiError('this node is already part of a swarm', 409);
    },
  });
  equal(await agent(s, 'swarm', 'init'), { code: 1, out: '', err: 'agent: this node is already part of a swarm\n' });
});

t('swarm join: the request, and the role the answer names', async (s) => {
  let role = 'worker';
  await fake(s, { 'POST /swarm/join': () => ({ Role: role }) });
  let r = await agent(s, 'swarm', 'join', '--token', 'SWMTKN-1-x-y', '192.0.2.10:2377');
  equal(r, { code: 0, out: 'This node joined a swarm as a worker.\n', err: '' });
  equal(s.calls[0]!.body, { RemoteAddrs: ['192.0.2.10:2377'], JoinToken: 'SWMTKN-1-x-y' });
  role = 'manager';
  r = await agent(s, 'swarm', 'join', '--token', 'T', '--advertise-addr', 'eth0', '--data-path-addr', 'eth1', '--listen-addr', '0.0.0.0:2377', 'mgr.example');
  equal(r, { code: 0, out: 'This node joined a swarm as a manager.\n', err: '' });
  equal(s.calls[1]!.body, { ListenAddr: '0.0.0.0:2377', AdvertiseAddr: 'eth0', DataPathAddr: 'eth1', RemoteAddrs: ['mgr.example'], JoinToken: 'T' });
});

t('swarm join: no token, an empty token, no address or two are usage errors', async (s) => {
  await fake(s, { 'POST /swarm/join': { Role: 'worker' } });
  let r = await agent(s, 'swarm', 'join', '192.0.2.10');
  equal([r.code, r.out], [2, '']);
  match(r.err, /^agent: Missing required argument: token \(see 'agent --help'\)\n$/);
  r = await agent(s, 'swarm', 'join', '--token', '', '192.0.2.10');
  equal(r, { code: 2, out: '', err: `agent: --token: expected a join token (see 'agent swarm join-token'), got "" (see 'agent --help')\n` });
  r = await agent(s, 'swarm', 'join', '--token', 'T');
  equal([r.code, r.err.split('\n').length], [2, 2]);
  r = await agent(s, 'swarm', 'join', '--token', 'T', 'a', 'b');
  equal([r.code, r.err], [2, "agent: Unknown argument: b (see 'agent --help')\n"]);
  equal(s.calls, []);
});

t('swarm join-token: docker\'s text for each role; -q the token alone', async (s) => {
  await fake(s, { 'GET /swarm': SWARM, 'GET /info': info() });
  equal(await agent(s, 'swarm', 'join-token', 'worker'), { code: 0, out: WORKER_JOIN, err: '' });
  equal(await agent(s, 'swarm', 'join-token', 'manager'), { code: 0, out: MANAGER_JOIN, err: '' });
  equal(await agent(s, 'swarm', 'join-token', '-q', 'worker'), { code: 0, out: 'SWMTKN-1-1abc-worker\n', err: '' });
  equal(await agent(s, 'swarm', 'join-token', 'manager', '--quiet'), { code: 0, out: 'SWMTKN-1-1abc-manager\n', err: '' });
  equal(s.calls.filter((c) => c.call.startsWith('POST')), []);
});

t('swarm join-token --rotate: posts the update with the version and the role\'s flag, then prints the new token', async (s) => {
  let sw = SWARM;
  await fake(s, {
    'GET /swarm': () => sw,
    'GET /info': info(),
    'POST /swarm/update': () => {
      sw = { ...SWARM, Version: { Index: 43 }, JoinTokens: { ...SWARM.JoinTokens, Manager: 'SWMTKN-1-1abc-rotated' } };
      return {};
    },
  });
  let r = await agent(s, 'swarm', 'join-token', '--rotate', 'manager');
  equal(r, {
    code: 0,
    out: 'Successfully rotated manager join token.\n\n' + MANAGER_JOIN.replace('SWMTKN-1-1abc-manager', 'SWMTKN-1-1abc-rotated'),
    err: '',
  });
  equal(s.calls.find((c) => c.call === 'POST /swarm/update'), { call: 'POST /swarm/update', query: { version: '42', rotateManagerToken: 'true' }, body: {} });
  s.calls = [];
  r = await agent(s, 'swarm', 'join-token', '--rotate', '-q', 'worker');
  equal(r, { code: 0, out: 'SWMTKN-1-1abc-worker\n', err: '' });
  equal(s.calls.find((c) => c.call === 'POST /swarm/update')!.query, { version: '43', rotateWorkerToken: 'true' });
});

t('swarm join-token: a role other than worker or manager is a usage error', async (s) => {
  await fake(s, { 'GET /swarm': SWARM });
  equal(await agent(s, 'swarm', 'join-token', 'admin'), {
    code: 2,
    out: '',
    err: `agent: join-token: expected role "worker" or "manager", got "admin" (see 'agent --help')\n`,
  });
  equal(s.calls, []);
});

t('swarm join-token: no manager address for this node in /info is an error, not a half command', async (s) => {
  await fake(s, { 'GET /swarm': SWARM, 'GET /info': info(swarmInfo({ RemoteManagers: [] })) });
  equal(await agent(s, 'swarm', 'join-token', 'worker'), {
    code: 1,
    out: '',
    err: `agent: this node (${NODE_ID}) is not among the swarm's managers in /info: no address to join\n`,
  });
});

t('swarm leave: force only when asked', async (s) => {
  await fake(s, { 'POST /swarm/leave': {} });
  equal(await agent(s, 'swarm', 'leave'), { code: 0, out: 'Node left the swarm.\n', err: '' });
  equal(await agent(s, 'swarm', 'leave', '-f'), { code: 0, out: 'Node left the swarm.\n', err: '' });
  equal(await agent(s, 'swarm', 'leave', '--force'), { code: 0, out: 'Node left the swarm.\n', err: '' });
  equal(s.calls.map((c) => c.query), [{}, { force: 'true' }, { force: 'true' }]);
});

t('swarm leave: the daemon\'s warning comes through as one line', async (s) => {
  await fake(s, {
    'POST /swarm/leave': () => {
      throw new ApiError('leaving would lose the quorum: use --force to leave anyway', 400);
    },
  });
  equal(await agent(s, 'swarm', 'leave'), { code: 1, out: '', err: 'agent: leaving would lose the quorum: use --force to leave anyway\n' });
});

t('swarm inspect: a one-element array indented by 4 as docker prints it; --format json on one line', async (s) => {
  await fake(s, { 'GET /swarm': SWARM });
  let r = await agent(s, 'swarm', 'inspect');
  is(r.code, 0);
  is(r.out, JSON.stringify([SWARM], null, 4) + '\n');
  match(r.out, /^\[\n {4}\{\n {8}"ID": "c1u5t3r0+",\n {8}"Version": \{\n {12}"Index": 42\n/);
  r = await agent(s, 'swarm', 'inspect', '--format', 'json');
  equal(r, { code: 0, out: JSON.stringify([SWARM]) + '\n', err: '' });
  r = await agent(s, 'swarm', 'inspect', '-f', 'yaml');
  equal(r, { code: 1, out: '', err: 'agent: --format: expected "json", got "yaml"\n' });
});

t('swarm update: reads the version, posts only the given settings', async (s) => {
  await fake(s, { 'GET /swarm': SWARM, 'POST /swarm/update': {} });
  const r = await agent(s, 'swarm', 'update', '--dispatcher-heartbeat', '10s', '--cert-expiry', '2160h', '--key-rotation', '90m');
  equal(r, { code: 0, out: 'Swarm updated.\n', err: '' });
  equal(s.calls, [
    { call: 'GET /swarm', query: {}, body: undefined },
    {
      call: 'POST /swarm/update',
      query: { version: '42' },
      body: { Dispatcher: { HeartbeatPeriodMs: 10_000 }, CAConfig: { NodeCertExpiryMs: 7_776_000_000 }, EncryptionConfig: { KeyRotationMs: 5_400_000 } },
    },
  ]);
  s.calls = [];
  await agent(s, 'swarm', 'update', '--key-rotation', '12h');
  equal(s.calls[1]!.body, { EncryptionConfig: { KeyRotationMs: 43_200_000 } });
});

t('swarm update: no flag, or a bad duration, is a usage error before any request', async (s) => {
  await fake(s, { 'GET /swarm': SWARM, 'POST /swarm/update': {} });
  equal(await agent(s, 'swarm', 'update'), {
    code: 2,
    out: '',
    err: "agent: swarm update: expected at least one of --dispatcher-heartbeat, --cert-expiry, --key-rotation (see 'agent --help')\n",
  });
  equal(await agent(s, 'swarm', 'update', '--key-rotation', '1x'), {
    code: 2,
    out: '',
    err: `agent: --key-rotation: expected a duration such as 500ms, 90s, 1h30m or 2160h (units ns, us, ms, s, m, h), got "1x" (see 'agent --help')\n`,
  });
  equal(s.calls, []);
});

t('swarm alone, an unknown subcommand or flag: one usage line, exit 2', async (s) => {
  equal(await agent(s, 'swarm'), {
    code: 2,
    out: '',
    err: "agent: swarm: expected a subcommand (init, inspect, join, join-token, leave, update) (see 'agent --help')\n",
  });
  equal(await agent(s, 'swarm', 'frob'), { code: 2, out: '', err: "agent: Unknown argument: frob (see 'agent --help')\n" });
  equal(await agent(s, 'swarm', 'leave', '--bogus'), { code: 2, out: '', err: "agent: Unknown argument: bogus (see 'agent --help')\n" });
});

t('swarm --help lists the subcommands; --help lists swarm and node', async (s) => {
  let r = await agent(s, 'swarm', '--help');
  is(r.code, 0);
  for (const sub of ['init', 'inspect', 'join', 'join-token', 'leave', 'update']) match(r.out, new RegExp(`\\n  agent swarm ${sub}\\b`));
  r = await agent(s, 'swarm', 'init', '--help');
  match(r.out, /--datapath-addr, --data-path-addr/);
  let top = '';
  await runCli(['--help'], { out: (x) => void (top += x), err: () => {} });
  match(top, /\nManagement Commands:\n {2}network {5}Manage networks\n {2}node {8}Manage Swarm nodes\n {2}service {5}Manage Swarm services\n {2}swarm {7}Manage Swarm\n/);
});

t('no daemon: one line naming the socket, exit 1', async (s) => {
  equal(await agent(s, 'swarm', 'inspect'), { code: 1, out: '', err: `agent: cannot connect to the agent daemon at unix://${s.sock}: is the daemon running?\n` });
});

t('info: docker\'s swarm section on a manager', async (s) => {
  await fake(s, { 'GET /info': info() });
  const r = await agent(s, 'info');
  is(r.code, 0);
  is(
    r.out,
    'Name:          edge-1\nPid:           1234\nRuntime:       node 20\nState dir:     /var/lib/agent\nName prefix:   ag\n' +
      'Swarm: active\n' +
      ` NodeID: ${NODE_ID}\n` +
      ' Is Manager: true\n' +
      ` ClusterID: ${SWARM.ID}\n` +
      ' Managers: 2\n' +
      ' Nodes: 3\n' +
      ' Node Address: 192.0.2.10\n' +
      ' Manager Addresses:\n' +
      '  192.0.2.10:2377\n' +
      '  192.0.2.11:2377\n',
  );
});

t('info: a worker, an inactive node, a node in error', async (s) => {
  let sw = swarmInfo({ ControlAvailable: false, Cluster: undefined, Nodes: 0, Managers: 0, RemoteManagers: [{ NodeID: 'm', Addr: '192.0.2.11:2377' }] });
  await fake(s, { 'GET /info': () => info(sw) });
  const section = async (): Promise<string> => (await agent(s, 'info')).out.split('Name prefix:   ag\n')[1]!;
  is(await section(), `Swarm: active\n NodeID: ${NODE_ID}\n Is Manager: false\n Node Address: 192.0.2.10\n Manager Addresses:\n  192.0.2.11:2377\n`);
  sw = swarmInfo({ LocalNodeState: 'inactive', NodeID: '', NodeAddr: '', ControlAvailable: false, RemoteManagers: [], Cluster: undefined });
  is(await section(), 'Swarm: inactive\n');
  sw = swarmInfo({ LocalNodeState: 'error', Error: 'this node was removed from the swarm', RemoteManagers: [] });
  is(await section(), `Swarm: error\n NodeID: ${NODE_ID}\n Error: this node was removed from the swarm\n Is Manager: true\n Node Address: 192.0.2.10\n`);
  sw = swarmInfo({ LocalNodeState: 'pending', Error: 'no manager answered', ControlAvailable: false, Cluster: undefined, RemoteManagers: [] });
  is(await section(), `Swarm: pending\n NodeID: ${NODE_ID}\n Error: no manager answered\n Is Manager: false\n Node Address: 192.0.2.10\n`);
});

t('info --format json is the daemon\'s object as it came', async (s) => {
  await fake(s, { 'GET /info': info() });
  const r = await agent(s, 'info', '--format', 'json');
  equal(JSON.parse(r.out), info());
});

t.run();
