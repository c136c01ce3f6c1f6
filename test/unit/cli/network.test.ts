// `agent network ...` driven as a user drives it, against a fake daemon on a
// Unix socket: canned networks, a record of every request the CLI sent, and
// stdin lines for the prompts.
import { PassThrough } from 'node:stream';
import { equal, is, ok } from '../../harness.js';
import type { Request } from '../../../agent/api/server.js';
import type { NetworkCreateRequest, NetworkInspect } from '../../../agent/api/types.js';
import { ApiError } from '../../../shared/errors.js';
import { readOneLine } from '../../../agent/cli/index.js';
import { INGRESS_WARNING } from '../../../agent/cli/network-rm.js';
import { PRUNE_WARNING } from '../../../agent/cli/network-prune.js';
import { agent, agentWithInput, fake, fakeApiSuite, type State } from './fake-api.js';

const t = fakeApiSuite('cli network', 'agent-network-');

function mkNetwork(name: string, id: string, over: Partial<NetworkInspect> = {}): NetworkInspect {
  return {
    Name: name,
    Id: id,
    Created: '2025-03-04T05:06:07.890Z',
    Scope: 'swarm',
    Driver: 'overlay',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '10.0.1.0/24', Gateway: '10.0.1.1' }] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigOnly: false,
    Options: {},
    Labels: {},
    VNI: 4097,
    ...over,
  };
}

// Swarm network ids are 25 characters; a local bridge's is 64 hex digits, as docker's.
const INGRESS = mkNetwork('ingress', 'qf3x8w1m2n9b4v7c6z5l0k1j2', { Ingress: true, VNI: 4096 });
const BACKEND = mkNetwork('backend', 'b8k2p4r6t8v0x2z4a6c8e0g2i', {
  Attachable: true,
  Options: { encrypted: '' },
  Labels: { tier: 'db', env: 'prod' },
  Created: '2025-03-04T05:06:07Z',
});
const NET10 = mkNetwork('net10', '4d6f8h0j2l4n6p8r0t2v4x6z8', { Labels: { env: 'dev' }, Internal: true });
const NET2 = mkNetwork('net2', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', {
  Scope: 'local',
  Driver: 'bridge',
  EnableIPv6: true,
  VNI: undefined,
});
const NETWORKS = [NET10, INGRESS, NET2, BACKEND];
const NEW_ID = 'n3wn3tw0rk1d000000000000a';

/** A fake daemon over networks: list, get by id, id prefix or name, create, remove, prune; every request recorded. */
async function fakeNetworks(s: State, nets: NetworkInspect[] = NETWORKS, pruned: string[] = []): Promise<void> {
  const find = (ref: string): NetworkInspect => {
    const n = nets.find((x) => x.Id === ref || x.Name === ref) ?? nets.find((x) => x.Id.startsWith(ref));
    if (!n) throw new ApiError(`network ${ref} not found`, 404);
    return n;
  };
  await fake(s, {
    'GET /networks': nets,
    'GET /networks/:ref': (req: Request) => find(req.params['ref']!),
    'POST /networks/create': (req: Request) => {
      const name = (req.body as NetworkCreateRequest).Name;
      if (nets.some((n) => n.Name === name)) throw new ApiError(`network with name ${name} already exists`, 409);
      return { Id: NEW_ID, Warning: name === 'warned' ? 'subnet 10.0.0.0/24 overlaps with a host route' : '' };
    },
    'DELETE /networks/:ref': (req: Request) => {
      const n = find(req.params['ref']!);
      if (n.Name === 'net2') throw new ApiError(`error while removing network: network net2 id ${n.Id} has active endpoints`, 403);
      return {};
    },
    'POST /networks/prune': { NetworksDeleted: pruned },
  });
}

const pad = (text: string, width: number): string => text + ' '.repeat(width - text.length);
const usage = (msg: string): { code: number; out: string; err: string } => ({ code: 2, out: '', err: `agent: ${msg} (see 'agent --help')\n` });

// ---- ls ---------------------------------------------------------------------

t("network ls: docker's table, 12-character ids, by name in natural order (net2 before net10)", async (s) => {
  await fakeNetworks(s);
  const r = await agent(s, 'network', 'ls');
  // Widths: NETWORK ID 12 + 3 = 15; NAME and DRIVER at docker's minimum 10; SCOPE unpadded.
  const row = (id: string, name: string, driver: string, scope: string): string => pad(id, 15) + pad(name, 10) + pad(driver, 10) + scope + '\n';
  equal(r, {
    code: 0,
    out:
      row('NETWORK ID', 'NAME', 'DRIVER', 'SCOPE') +
      row('b8k2p4r6t8v0', 'backend', 'overlay', 'swarm') +
      row('qf3x8w1m2n9b', 'ingress', 'overlay', 'swarm') +
      row('e3b0c44298fc', 'net2', 'bridge', 'local') +
      row('4d6f8h0j2l4n', 'net10', 'overlay', 'swarm'),
    err: '',
  });
  equal(s.calls, [{ call: 'GET /networks', query: {}, body: undefined }]);
});

t('network ls --no-trunc: full ids, the column as wide as the widest', async (s) => {
  await fakeNetworks(s, [NET2, BACKEND]);
  const r = await agent(s, 'network', 'list', '--no-trunc');
  const row = (id: string, name: string, driver: string, scope: string): string => pad(id, 67) + pad(name, 10) + pad(driver, 10) + scope + '\n';
  equal(r, {
    code: 0,
    out: row('NETWORK ID', 'NAME', 'DRIVER', 'SCOPE') + row(BACKEND.Id, 'backend', 'overlay', 'swarm') + row(NET2.Id, 'net2', 'bridge', 'local'),
    err: '',
  });
});

t('network ls -q: ids only, short unless --no-trunc, in the same order', async (s) => {
  await fakeNetworks(s);
  equal(await agent(s, 'network', 'ls', '-q'), { code: 0, out: 'b8k2p4r6t8v0\nqf3x8w1m2n9b\ne3b0c44298fc\n4d6f8h0j2l4n\n', err: '' });
  equal(await agent(s, 'network', 'ls', '--quiet', '--no-trunc'), { code: 0, out: `${BACKEND.Id}\n${INGRESS.Id}\n${NET2.Id}\n${NET10.Id}\n`, err: '' });
});

t("network ls --format json: one object per line, docker's fields as strings; -q gives way; a bad format is an error", async (s) => {
  await fakeNetworks(s, [NET2, BACKEND]);
  let r = await agent(s, 'network', 'ls', '--format', 'json', '-q');
  equal(r, {
    code: 0,
    out:
      '{"CreatedAt":"2025-03-04 05:06:07 +0000 UTC","Driver":"overlay","ID":"b8k2p4r6t8v0","IPv6":"false","Internal":"false","Labels":"env=prod,tier=db","Name":"backend","Scope":"swarm"}\n' +
      '{"CreatedAt":"2025-03-04 05:06:07.89 +0000 UTC","Driver":"bridge","ID":"e3b0c44298fc","IPv6":"true","Internal":"false","Labels":"","Name":"net2","Scope":"local"}\n',
    err: '',
  });
  r = await agent(s, 'network', 'ls', '--format', 'json', '--no-trunc');
  is(JSON.parse(r.out.split('\n')[1]!).ID, NET2.Id);
  equal(await agent(s, 'network', 'ls', '--format', 'table'), { code: 1, out: '', err: 'agent: --format: expected "json", got "table"\n' });
});

t('network ls on no networks: the header alone', async (s) => {
  await fakeNetworks(s, []);
  equal(await agent(s, 'network', 'ls'), { code: 0, out: pad('NETWORK ID', 13) + pad('NAME', 10) + pad('DRIVER', 10) + 'SCOPE\n', err: '' });
});

t("network ls --filter: docker's meaning: values of a name are alternatives, names all required", async (s) => {
  await fakeNetworks(s);
  const names = async (...filters: string[]): Promise<string> => {
    const r = await agent(s, 'network', 'ls', '--format', 'json', ...filters.flatMap((f) => ['-f', f]));
    is(r.code, 0, r.err);
    return r.out
      .trimEnd()
      .split('\n')
      .filter((l) => l)
      .map((l) => (JSON.parse(l) as { Name: string }).Name)
      .join(' ');
  };
  is(await names('driver=bridge'), 'net2');
  is(await names('driver=overlay', 'driver=bridge'), 'backend ingress net2 net10');
  is(await names('scope=swarm'), 'backend ingress net10');
  is(await names('scope=global'), '');
  // name and id as docker's filters.Match: the text itself, or an unanchored regular expression.
  is(await names('name=net'), 'net2 net10');
  is(await names('name=^net1'), 'net10');
  is(await names('name=['), '');
  is(await names(`id=${INGRESS.Id.slice(0, 5)}`), 'ingress');
  // Labels: the key alone, or key=value; every label filter must hold.
  is(await names('label=env'), 'backend net10');
  is(await names('label=env=prod'), 'backend');
  is(await names('label=env', 'label=tier'), 'backend');
  is(await names('label=env', 'name=net'), 'net10');
  // The name is trimmed and lowercased, the value trimmed, as docker's FilterOpt.
  is(await names(' Driver = bridge '), 'net2');
  equal(s.calls.every((c) => c.call === 'GET /networks' && Object.keys(c.query).length === 0), true);
});

t('network ls: a filter that is not name=value, or on an unknown name, is a usage error before any request', async (s) => {
  await fakeNetworks(s);
  equal(await agent(s, 'network', 'ls', '-f', 'dangling'), usage('--filter: expected name=value, got "dangling"'));
  equal(await agent(s, 'network', 'ls', '--filter', 'type=custom'), usage('--filter: expected a filter on driver, id, label, name or scope, got "type=custom"'));
  equal(s.calls, []);
});

// ---- create -----------------------------------------------------------------

t("network create: a bridge by default, as docker's; prints the new id", async (s) => {
  await fakeNetworks(s);
  equal(await agent(s, 'network', 'create', 'web'), { code: 0, out: `${NEW_ID}\n`, err: '' });
  equal(await agent(s, 'network', 'create', '-d', 'overlay', 'web2'), { code: 0, out: `${NEW_ID}\n`, err: '' });
  equal(s.calls, [
    { call: 'POST /networks/create', query: {}, body: { Name: 'web', Driver: 'bridge' } },
    { call: 'POST /networks/create', query: {}, body: { Name: 'web2', Driver: 'overlay' } },
  ]);
});

t("network create: every flag in docker's shape; options and labels as docker's maps", async (s) => {
  await fakeNetworks(s);
  const r = await agent(
    s,
    'network',
    'create',
    '--driver=bridge',
    '-d',
    'overlay',
    '--attachable',
    '--internal',
    '--subnet',
    '10.11.0.0/16',
    '--gateway=10.11.0.2',
    '--ip-range',
    '10.11.4.0/24',
    '--opt',
    'encrypted',
    '-o',
    'com.docker.network.driver.mtu=1200',
    '-o',
    'k=v=w',
    '-o',
    'com.docker.network.driver.mtu=1400',
    '--label',
    'env=prod',
    '--label',
    'gpu',
    'web',
  );
  equal(r, { code: 0, out: `${NEW_ID}\n`, err: '' });
  equal(s.calls[0]!.body, {
    Name: 'web',
    Driver: 'overlay',
    Attachable: true,
    Internal: true,
    IPAM: { Config: [{ Subnet: '10.11.0.0/16', Gateway: '10.11.0.2', IPRange: '10.11.4.0/24' }] },
    Options: { encrypted: '', 'com.docker.network.driver.mtu': '1400', k: 'v=w' },
    Labels: { env: 'prod', gpu: '' },
  });
});

t('network create: --ingress, a subnet alone, an IPv6 subnet with its gateway, and encrypted=true passed as given', async (s) => {
  await fakeNetworks(s);
  is((await agent(s, 'network', 'create', '-d', 'overlay', '--ingress', '--subnet', '10.12.0.0/24', 'my-ingress')).code, 0);
  is((await agent(s, 'network', 'create', '-d', 'bridge', '--subnet', 'fd00:1::/64', '--gateway', 'fd00:1::1', 'v6')).code, 0);
  is((await agent(s, 'network', 'create', '-d', 'overlay', '--opt', 'encrypted=true', '42')).code, 0);
  equal(
    s.calls.map((c) => c.body),
    [
      { Name: 'my-ingress', Driver: 'overlay', Ingress: true, IPAM: { Config: [{ Subnet: '10.12.0.0/24' }] } },
      { Name: 'v6', Driver: 'bridge', IPAM: { Config: [{ Subnet: 'fd00:1::/64', Gateway: 'fd00:1::1' }] } },
      { Name: '42', Driver: 'overlay', Options: { encrypted: 'true' } },
    ],
  );
});

t("network create: the daemon's warning goes to stderr, its refusal is one line and exit 1", async (s) => {
  await fakeNetworks(s);
  equal(await agent(s, 'network', 'create', 'warned'), { code: 0, out: `${NEW_ID}\n`, err: 'WARNING: subnet 10.0.0.0/24 overlaps with a host route\n' });
  equal(await agent(s, 'network', 'create', 'backend'), { code: 1, out: '', err: 'agent: network with name backend already exists\n' });
});

t('network create: every bad flag is one usage line, exit 2, before any request', async (s) => {
  await fakeNetworks(s);
  const cases: [string[], string][] = [
    [['-d', 'macvlan'], '--driver: expected "overlay", "bridge", got "macvlan"'],
    [['--subnet', '10.0.0.0/24', '--subnet', '10.1.0.0/24'], '--subnet: only one subnet per network is supported, got 2 (10.0.0.0/24, 10.1.0.0/24)'],
    [['--gateway', '10.0.0.1'], '--gateway: every ip-range or gateway must have a corresponding subnet'],
    [['--ip-range', '10.0.0.0/25'], '--ip-range: every ip-range or gateway must have a corresponding subnet'],
    [['--subnet', '10.0.0.0/24', '--gateway', '10.0.0.1', '--gateway', '10.0.0.2'], '--gateway: every ip-range or gateway must have a corresponding subnet'],
    [['--subnet', '10.0.0.0'], '--subnet: expected a CIDR such as 10.0.0.0/8, got "10.0.0.0"'],
    [['--subnet', '10.0.0.0/33'], '--subnet: expected a CIDR such as 10.0.0.0/8, got "10.0.0.0/33"'],
    [['--subnet', '10.0.0.0/24', '--gateway', 'gw'], '--gateway: expected an IP address, got "gw"'],
    [['--subnet', '10.0.0.0/24', '--gateway', '10.0.1.1'], '--gateway: expected an address in 10.0.0.0/24, got "10.0.1.1"'],
    [['--subnet', '10.0.0.0/24', '--gateway', 'fd00::1'], '--gateway: expected an address in 10.0.0.0/24, got "fd00::1"'],
    // An IPv4-mapped IPv6 address is of the other family, whatever it maps to.
    [['--subnet', '10.0.0.0/24', '--gateway', '::ffff:10.0.0.1'], '--gateway: expected an address in 10.0.0.0/24, got "::ffff:10.0.0.1"'],
    [['--subnet', '10.0.0.0/24', '--ip-range', '10.0.0.0'], '--ip-range: expected a CIDR such as 10.0.0.0/8, got "10.0.0.0"'],
    [['--subnet', '10.0.0.0/24', '--ip-range', '10.0.1.0/25'], '--ip-range: expected a range within 10.0.0.0/24, got "10.0.1.0/25"'],
    [['--subnet', '10.0.0.0/24', '--ip-range', '10.0.0.0/16'], '--ip-range: expected a range within 10.0.0.0/24, got "10.0.0.0/16"'],
    [['-o', '=1'], '--opt: expected key=value, got "=1"'],
    [['--label', '=prod'], '--label: expected key=value, got "=prod"'],
  ];
  for (const [flags, msg] of cases) equal(await agent(s, 'network', 'create', ...flags, 'web'), usage(msg), flags.join(' '));
  equal(await agent(s, 'network', 'create', ''), usage('NETWORK: expected a network name, got ""'));
  // No name, two names, a flag docker has and this does not: yargs' one line.
  for (const argv of [[], ['a', 'b'], ['--ipv6', 'web']]) {
    const r = await agent(s, 'network', 'create', ...argv);
    equal([r.code, r.out, r.err.split('\n').length], [2, '', 2], argv.join(' '));
  }
  equal(s.calls, []);
});

t("network create --help: says bridge is the default, as docker's", async (s) => {
  const r = await agent(s, 'network', 'create', '--help');
  is(r.code, 0);
  // yargs wraps the text to the terminal's width: compare it unwrapped.
  const flat = r.out.replace(/\s+/g, ' ');
  ok(flat.includes('-d, --driver Driver to manage the Network: "overlay" (a swarm network) or "bridge" (this node only) (default "bridge", as docker)'), r.out);
});

// ---- inspect ----------------------------------------------------------------

t('network inspect: an array indented by 4; -f json on one line; by id, id prefix or name; refs encoded', async (s) => {
  await fakeNetworks(s);
  let r = await agent(s, 'network', 'inspect', 'backend', NET2.Id.slice(0, 6));
  equal(r, { code: 0, out: JSON.stringify([BACKEND, NET2], null, 4) + '\n', err: '' });
  r = await agent(s, 'network', 'inspect', '-f', 'json', INGRESS.Id);
  equal(r, { code: 0, out: JSON.stringify([INGRESS]) + '\n', err: '' });
  s.calls = [];
  r = await agent(s, 'network', 'inspect', 'a/b?c');
  equal(r, { code: 1, out: '[]\n', err: 'agent: network a/b?c not found\n' });
  equal(s.calls.map((c) => c.call), ['GET /networks/a%2Fb%3Fc']);
});

t('network inspect: a missing network does not stop the others; all failures in one line, exit 1', async (s) => {
  await fakeNetworks(s);
  const r = await agent(s, 'network', 'inspect', 'nope', 'net10', 'gone');
  equal(r, { code: 1, out: JSON.stringify([NET10], null, 4) + '\n', err: 'agent: network nope not found; network gone not found\n' });
  equal(await agent(s, 'network', 'inspect', '--format', 'yaml', 'net10'), { code: 1, out: '', err: 'agent: --format: expected "json", got "yaml"\n' });
});

// ---- rm ---------------------------------------------------------------------

t('network rm: each network as given once removed; failures collected, the rest still removed', async (s) => {
  await fakeNetworks(s);
  const r = await agent(s, 'network', 'rm', 'backend', 'net2', 'nope', NET10.Id.slice(0, 4));
  equal(r, {
    code: 1,
    out: `backend\n${NET10.Id.slice(0, 4)}\n`,
    err: `agent: error while removing network: network net2 id ${NET2.Id} has active endpoints; network nope not found\n`,
  });
  // Each looked up first (is it the routing mesh?), then each removed.
  equal(
    s.calls.map((c) => c.call),
    ['GET /networks/backend', 'GET /networks/net2', 'GET /networks/nope', 'GET /networks/4d6f', 'DELETE /networks/backend', 'DELETE /networks/net2', 'DELETE /networks/nope', 'DELETE /networks/4d6f'],
  );
});

t('network rm -f: no look-up, and a network that does not exist is no error; other failures still are', async (s) => {
  await fakeNetworks(s);
  equal(await agent(s, 'network', 'remove', '-f', 'nope', 'backend'), { code: 0, out: 'backend\n', err: '' });
  equal(s.calls.map((c) => c.call), ['DELETE /networks/nope', 'DELETE /networks/backend']);
  equal(await agent(s, 'network', 'rm', '--force', 'net2'), { code: 1, out: '', err: `agent: error while removing network: network net2 id ${NET2.Id} has active endpoints\n` });
});

t('network rm of the routing-mesh network: docker\'s warning on stderr, then y (or Y) removes', async (s) => {
  await fakeNetworks(s);
  for (const answer of ['y', ' Y ']) {
    s.calls = [];
    const lines = [answer, 'unread'];
    const r = await agentWithInput(s, lines, 'network', 'rm', 'backend', 'ingress');
    equal(r, { code: 0, out: 'backend\ningress\n', err: `${INGRESS_WARNING} [y/N] ` }, answer);
    equal(lines, ['unread'], 'one line read');
    equal(s.calls.map((c) => c.call), ['GET /networks/backend', 'GET /networks/ingress', 'DELETE /networks/backend', 'DELETE /networks/ingress']);
  }
});

t('network rm of the routing-mesh network: no, anything else or the end of input removes nothing, exit 1', async (s) => {
  // The routing mesh is known by its Ingress flag, whatever its name or the ref: here
  // one named "mesh", by its id prefix, given after another network.
  const mesh = mkNetwork('mesh', 'm35hm35hm35hm35hm35hm35h0', { Ingress: true });
  await fakeNetworks(s, [NET10, mesh, NET2]);
  for (const lines of [['n'], ['yes'], ['']]) {
    s.calls = [];
    const r = await agentWithInput(s, lines, 'network', 'rm', 'net10', 'm35hm35h');
    equal(r, { code: 1, out: '', err: `${INGRESS_WARNING} [y/N] agent: network rm has been cancelled\n` }, lines[0]);
    equal(s.calls.map((c) => c.call), ['GET /networks/net10', 'GET /networks/m35hm35h']);
  }
  // No stdin to read at all is a no too.
  equal(await agent(s, 'network', 'rm', 'mesh'), { code: 1, out: '', err: `${INGRESS_WARNING} [y/N] agent: network rm has been cancelled\n` });
});

t('network rm -f of the routing-mesh network: no question asked, nothing read', async (s) => {
  await fakeNetworks(s);
  const lines = ['n'];
  equal(await agentWithInput(s, lines, 'network', 'rm', '-f', 'ingress'), { code: 0, out: 'ingress\n', err: '' });
  equal(lines, ['n']);
  equal(s.calls.map((c) => c.call), ['DELETE /networks/ingress']);
});

t('the warning is docker\'s text, typo included', () => {
  is(
    INGRESS_WARNING,
    'WARNING! Before removing the routing-mesh network, make sure all the nodes in your swarm run the same agent version. Otherwise, removal may not be effective and functionality of newly created ingress networks will be impaired.\nAre you sure you want to continue?',
  );
  is(PRUNE_WARNING, 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?');
});

// ---- prune ------------------------------------------------------------------

t('network prune: asks; y prunes and prints the names removed', async (s) => {
  await fakeNetworks(s, NETWORKS, ['backend', 'net10']);
  const r = await agentWithInput(s, ['y'], 'network', 'prune');
  equal(r, { code: 0, out: 'Deleted Networks:\nbackend\nnet10\n', err: `${PRUNE_WARNING} [y/N] ` });
  equal(s.calls, [{ call: 'POST /networks/prune', query: {}, body: undefined }]);
});

t('network prune: no (or the end of input) sends nothing, exit 1', async (s) => {
  await fakeNetworks(s, NETWORKS, ['backend']);
  equal(await agentWithInput(s, ['N'], 'network', 'prune'), { code: 1, out: '', err: `${PRUNE_WARNING} [y/N] agent: network prune has been cancelled\n` });
  equal(await agent(s, 'network', 'prune'), { code: 1, out: '', err: `${PRUNE_WARNING} [y/N] agent: network prune has been cancelled\n` });
  equal(s.calls, []);
});

t("network prune -f: no question; --filter label as docker's filters query; nothing removed prints nothing", async (s) => {
  await fakeNetworks(s);
  const lines = ['n'];
  equal(await agentWithInput(s, lines, 'network', 'prune', '-f', '--filter', 'label=env=prod', '--filter', 'label=tier'), { code: 0, out: '', err: '' });
  equal(lines, ['n']);
  equal(s.calls, [{ call: 'POST /networks/prune', query: { filters: '{"label":{"env=prod":true,"tier":true}}' }, body: undefined }]);
});

t('network prune: a filter other than label, or not name=value, is a usage error before asking', async (s) => {
  await fakeNetworks(s);
  equal(await agent(s, 'network', 'prune', '--filter', 'until=24h'), usage('--filter: expected a filter on label, got "until=24h"'));
  equal(await agent(s, 'network', 'prune', '--force', '--filter', 'label'), usage('--filter: expected name=value, got "label"'));
  const r = await agent(s, 'network', 'prune', 'extra');
  equal([r.code, r.out, r.err.split('\n').length], [2, '', 2]);
  equal(s.calls, []);
});

// ---- the group, and the shell around it -------------------------------------

t('network alone, or a subcommand without its NETWORK: one usage line, exit 2', async (s) => {
  equal(await agent(s, 'network'), usage('network: expected a subcommand (connect, create, disconnect, inspect, ls, prune, rm)'));
  for (const sub of ['inspect', 'rm']) {
    const r = await agent(s, 'network', sub);
    equal([r.code, r.out, r.err.split('\n').length], [2, '', 2], sub);
  }
  // An empty ref anywhere: refused before any request.
  await fakeNetworks(s);
  equal(await agent(s, 'network', 'rm', 'backend', ''), usage('NETWORK: expected a network id, id prefix or name, got ""'));
  equal(await agent(s, 'network', 'inspect', 'backend', ''), usage('NETWORK: expected a network id, id prefix or name, got ""'));
  equal(s.calls, []);
});

t('no daemon: one line, and nothing on stdout even for inspect', async (s) => {
  const err = `agent: cannot connect to the agent daemon at unix://${s.sock}: is the daemon running?\n`;
  for (const argv of [['ls'], ['inspect', 'a', 'b'], ['rm', 'a', 'b'], ['create', 'a'], ['prune', '-f']]) {
    equal(await agent(s, 'network', ...argv), { code: 1, out: '', err }, argv.join(' '));
  }
});

t('readOneLine: one line without its ending, CRLF too; what is left at the end of input; the stream paused after', async () => {
  const input = new PassThrough();
  const first = readOneLine(input);
  input.write('y');
  input.write('es\r\nno\n');
  is(await first, 'yes');
  ok(input.isPaused());
  const ended = new PassThrough();
  const last = readOneLine(ended);
  ended.end('partial');
  is(await last, 'partial');
  is(await readOneLine(ended), '');
});

t.run();
