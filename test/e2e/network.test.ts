// Overlay network objects as a user drives them (issue 6, first part: the
// managers' side): `swarm init` makes ingress; `network create` allocates
// subnets from the default pool and VNIs from 4096, honours --subnet,
// --gateway, --ip-range and options, refuses overlaps and a second ingress;
// ls, inspect, rm (with ingress's question) and prune, from any manager.
import { suite, ok, is, match, equal } from '../harness.js';
import type { NetworkInspect } from '../../agent/api/types.js';
import type { AgentProcess } from '../../agent/testbed/index.js';
import { cli, fails, init, joinAs, start, token, until, withBed } from './fixtures/cluster.js';

const t = suite('network');

async function inspect(a: AgentProcess, ...refs: string[]): Promise<NetworkInspect[]> {
  return JSON.parse(await cli(a, 'network', 'inspect', ...refs)) as NetworkInspect[];
}

t('network create, ls, inspect, rm and prune across managers, with IPAM from the default pool and the user', () =>
  withBed(2, async (ctx) => {
    const [m, m2] = [await start(ctx, 0), await start(ctx, 1)];
    await init(ctx, m, 0);
    await joinAs(ctx, m2, 1, await token(m, 'manager'));

    // swarm init made the routing mesh's network.
    const [ingress] = await inspect(m, 'ingress');
    is(ingress!.Ingress, true);
    is(ingress!.Attachable, false);
    is(ingress!.Scope, 'swarm');
    equal(ingress!.IPAM.Config, [{ Subnet: '10.0.0.0/24', Gateway: '10.0.0.1' }]);
    is(ingress!.VNI, 4096);

    // From the default pool, next /24 and next VNI; created on a follower (forwarded to the leader).
    const id = (await cli(m2, 'network', 'create', '-d', 'overlay', '--attachable', 'front')).trim();
    match(id, /^[0-9a-z]{25}$/);
    const [front] = await inspect(m, 'front');
    is(front!.Id, id);
    equal(front!.IPAM.Config, [{ Subnet: '10.0.1.0/24', Gateway: '10.0.1.1' }]);
    is(front!.VNI, 4097);
    is(front!.Attachable, true);

    // User IPAM and docker's option keys, kept as given.
    await cli(m, 'network', 'create', '-d', 'overlay', '--subnet', '172.28.0.0/16', '--gateway', '172.28.5.254', '--ip-range', '172.28.5.0/24', '--opt', 'encrypted', '-o', 'com.docker.network.driver.mtu=1300', '--label', 'tier=back', 'back');
    const [back] = await inspect(m2, 'back');
    equal(back!.IPAM.Config, [{ Subnet: '172.28.0.0/16', Gateway: '172.28.5.254', IPRange: '172.28.5.0/24' }]);
    equal(back!.Options, { encrypted: '', 'com.docker.network.driver.mtu': '1300' });
    equal(back!.Labels, { tier: 'back' });

    // Refusals: one line each, nothing created.
    match(await fails(m, 'network', 'create', '-d', 'overlay', '--subnet', '172.28.128.0/24', 'overlap'), /Pool overlaps with other one on this address space/);
    match(await fails(m, 'network', 'create', 'front'), /network with name front already exists/);
    match(await fails(m, 'network', 'create', '-d', 'overlay', '--ingress', 'ingress2'), /already the ingress network/);
    match(await fails(m, 'network', 'create', '-d', 'overlay', '-o', 'com.docker.network.driver.mtu=9', 'tiny'), /expected an integer MTU from 68 to 65535/);
    match(await fails(m, 'network', 'create', 'bad name!'), /invalid network name/);

    const ls = await cli(m2, 'network', 'ls');
    match(ls, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE\n/);
    match(ls, new RegExp(`\\n${id.slice(0, 12)}\\s+front\\s+overlay\\s+swarm\\n`));
    equal(
      ls.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[1]).filter((n) => n !== 'agent_gwbridge'),
      ['back', 'front', 'ingress'],
    );
    // The two networks a node gets from the swarm, as the seed says: ingress, and the gwbridge (local) its mesh sandbox is on.
    const gw = await until('agent_gwbridge listed', 15_000, async () => /\n\w{12}\s+agent_gwbridge\s+bridge\s+local\n/.exec(await cli(m2, 'network', 'ls'))?.[0]);
    ok(gw !== undefined);
    const gwIns = (JSON.parse(await cli(m2, 'network', 'inspect', 'agent_gwbridge')) as NetworkInspect[])[0]!;
    equal([gwIns.Scope, gwIns.Driver, gwIns.IPAM.Config[0]!.Subnet, Object.values(gwIns.Containers ?? {}).map((c) => c.Name)], ['local', 'bridge', '172.18.0.0/16', ['ingress-endpoint']]);
    match(await fails(m2, 'network', 'rm', 'agent_gwbridge'), /has active endpoints \(ingress-endpoint\)/);

    // rm of ingress asks first; "n" keeps it.
    const kept = await m.cli(['network', 'rm', 'ingress'], { input: 'n\n' });
    is(kept.code, 1);
    match(kept.stderr, /WARNING! Before removing the routing-mesh network/);
    ok((await inspect(m, 'ingress')).length === 1);

    is((await cli(m, 'network', 'rm', 'front')).trim(), 'front');
    match(await fails(m2, 'network', 'inspect', 'front'), /network front not found/);

    // Prune by label, then everything unused but ingress.
    await cli(m, 'network', 'create', '-d', 'overlay', '--label', 'env=test', 'scratch');
    is((await cli(m, 'network', 'prune', '-f', '--filter', 'label=env=test')).trim(), 'Deleted Networks:\nscratch');
    is((await cli(m2, 'network', 'prune', '-f')).trim(), 'Deleted Networks:\nback');
    equal((await cli(m, 'network', 'ls', '-q', '--filter', 'scope=swarm')).trim().split('\n').length, 1);
    // A freed subnet is allocated again.
    await cli(m, 'network', 'create', '-d', 'overlay', 'again');
    equal((await inspect(m, 'again'))[0]!.IPAM.Config[0]!.Subnet, '10.0.1.0/24');
  }),
);

t.run();
