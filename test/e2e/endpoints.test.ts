// Standalone endpoints as a user drives them (issue 6, seed "Operations for
// standalone containers" and "Customize the docker_gwbridge interface"): a
// gwbridge made beforehand is used as it is; --ip; network connect and
// disconnect; a namespace made by another runtime (`ip netns add`) attached
// with --netns; the gwbridge refuses removal while endpoints use it.
import { suite, ok, is, equal, match } from '../harness.js';
import type { AgentProcess } from '../../agent/testbed/index.js';
import { run } from '../../agent/host/run.js';
import { cli, fails, init, inspectEp, start, token, until, withBed } from './fixtures/cluster.js';

const t = suite('endpoints');


async function pings(a: AgentProcess, argv: string[], ip: string): Promise<boolean> {
  return (await a.cli([...argv, 'ping', '-c', '2', '-i', '0.2', '-W', '2', ip], { timeoutMs: 30_000 })).code === 0;
}

t('a gwbridge made beforehand, --ip, connect and disconnect, and a namespace of another runtime attached with --netns', () =>
  withBed(2, async (ctx) => {
    const bed = ctx.bed!;
    const [h0, h1] = [await start(ctx, 0), await start(ctx, 1)];

    // The seed's gwbridge customization word for word (no driver: bridge is the default, as docker's), before the node joins a swarm.
    await cli(h0, 'network', 'create', '--subnet', '10.11.0.0/16',
      '--opt', 'com.docker.network.bridge.name=agent_gwbridge',
      '--opt', 'com.docker.network.bridge.enable_icc=false',
      '--opt', 'com.docker.network.bridge.enable_ip_masquerade=true', 'agent_gwbridge');
    match(await cli(h0, 'network', 'ls'), /agent_gwbridge\s+bridge\s+local/);

    await init(ctx, h0, 0);
    await cli(h1, 'swarm', 'join', '--token', await token(h0, 'worker'), '--advertise-addr', bed.hosts[1]!.ip, `${bed.hosts[0]!.ip}:2377`);
    await cli(h0, 'network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.20.0.0/24', 'ov');
    await cli(h0, 'network', 'create', '-d', 'overlay', '--attachable', '--opt', 'com.docker.network.driver.mtu=1200', 'ov2');

    // The user's gwbridge is used as it is: its subnet, icc off between endpoints.
    await cli(h0, 'run', '-d', '--name', 'one', '--network', 'ov', '--ip', '10.20.0.50', '--', 'sleep', '600');
    await cli(h0, 'run', '-d', '--name', 'two', '--', 'sleep', '600');
    const [one, two] = [await inspectEp(h0, 'one'), await inspectEp(h0, 'two')];
    // network inspect lists this node's endpoints on each network, as docker's does.
    type Listed = { Containers: Record<string, { Name: string; IPv4Address: string }> }[];
    const listed = async (net: string) => Object.values((JSON.parse(await cli(h0, 'network', 'inspect', net)) as Listed)[0]!.Containers).map((c) => `${c.Name} ${c.IPv4Address}`).sort();
    equal(await listed('ov'), ['one 10.20.0.50/24']);
    const onGw = await listed('agent_gwbridge');
    ok(['one', 'two'].every((n) => onGw.some((l) => l.startsWith(`${n} 10.11.`))), `both on the gwbridge: ${onGw.join(', ')}`);
    match(one.NetworkSettings.Gateway!.IPAddress, /^10\.11\.\d+\.\d+$/);
    is(one.NetworkSettings.Gateway!.Gateway, '10.11.0.1');
    is(one.NetworkSettings.Networks['ov']!.IPAddress, '10.20.0.50', '--ip');
    ok(await pings(h0, ['exec', 'one', '--'], '10.11.0.1'), 'an endpoint reaches the gwbridge gateway');
    ok(!(await pings(h0, ['exec', 'one', '--'], two.NetworkSettings.Gateway!.IPAddress)), 'icc off: no endpoint-to-endpoint traffic over gwbridge');
    match(await fails(h1, 'run', '-d', '--name', 'dup', '--network', 'ov', '--ip', '10.20.0.50', '--', 'sleep', '1'), /Address already in use/);
    match(await fails(h0, 'network', 'rm', 'agent_gwbridge'), /has active endpoints/);

    // connect and disconnect: one more interface (eth1), then gone again.
    await cli(h1, 'run', '-d', '--name', 'peer', '--network', 'ov2', '--', 'sleep', '600');
    const peerIp = (await inspectEp(h1, 'peer')).NetworkSettings.Networks['ov2']!.IPAddress;
    ok(!(await pings(h0, ['exec', 'one', '--'], peerIp)), 'not on ov2 yet');
    await cli(h0, 'network', 'connect', 'ov2', 'one');
    const ov2 = (await inspectEp(h0, 'one')).NetworkSettings.Networks['ov2']!;
    is(ov2.Interface, 'eth1');
    is(ov2.MTU, 1200, 'the network option sets the MTU');
    is((await h0.cli(['exec', 'one', '--', 'cat', '/sys/class/net/eth1/mtu'])).stdout.trim(), '1200');
    ok(await pings(h0, ['exec', 'one', '--'], peerIp), 'one -> peer over ov2 after connect');
    await cli(h0, 'network', 'disconnect', 'ov2', 'one');
    is((await inspectEp(h0, 'one')).NetworkSettings.Networks['ov2'], undefined);
    const links = await h0.cli(['exec', 'one', '--', 'ip', '-o', 'link']);
    ok(!links.stdout.includes('eth1'), `eth1 is gone: ${links.stdout}`);

    // A namespace another runtime made, attached with --netns; disconnect leaves the namespace, without our link.
    const ext = `${bed.prefix}-h1-ext`;
    // As another runtime would, from the machine's own mount namespace (`ip netns exec` would hide the mount).
    await run(['ip', 'netns', 'add', ext]);
    await run(['ip', '-n', ext, 'link', 'set', 'lo', 'up']);
    await cli(h1, 'network', 'connect', 'ov', '--netns', `/run/netns/${ext}`);
    match(await cli(h1, 'ps'), new RegExp(`Attached\\s+ov\\s+${ext}`));
    const fromExt = await run(['ip', 'netns', 'exec', ext, 'ping', '-c', '2', '-i', '0.2', '-W', '2', '10.20.0.50'], { allowFail: true });
    is(fromExt.code, 0, `the foreign namespace reaches one over ov: ${fromExt.stdout}`);
    await cli(h1, 'network', 'disconnect', 'ov', ext);
    const left = await run(['ip', '-n', ext, '-o', 'link']);
    ok(!left.stdout.includes('eth0'), `our interface left the foreign namespace: ${left.stdout}`);
    match(await fails(h1, 'inspect', ext), /No such container/);
    await run(['ip', 'netns', 'del', ext]);

    // swarm leave refuses while endpoints are on overlays.
    match(await fails(h1, 'swarm', 'leave'), /has endpoints on overlay networks \(peer\)/);

    // `run` without -d: the command's output, and its exit code; ps -a shows it exited.
    const attached = await h0.cli(['run', '--name', 'once', '--network', 'ov', '--', 'sh', '-c', 'ip -o -4 addr show eth0; exit 3'], { timeoutMs: 30_000 });
    is(attached.code, 3, `exit code of the command: ${attached.stderr}`);
    match(attached.stdout, /eth0\s+inet 10\.20\.0\.\d+\/24/);
    match(await cli(h0, 'ps', '-a'), /Exited \(3\)\s+ov\s+once/);
    ok(!(await cli(h0, 'ps')).includes('once'), 'ps without -a shows running endpoints only');
    await cli(h0, 'rm', 'once');

    // Removing endpoints frees the gwbridge, once the node is out of the swarm (its mesh sandbox is on it too, as docker's ingress-sbox).
    for (const n of ['one', 'two']) await cli(h0, 'rm', '-f', n);
    await cli(h1, 'rm', '-f', 'peer');
    match(await fails(h0, 'network', 'rm', 'agent_gwbridge'), /has active endpoints \(ingress-endpoint\)/);
    await cli(h1, 'swarm', 'leave');
    await cli(h0, 'swarm', 'leave', '--force');
    await until('the mesh sandbox gone', 10_000, async () => ((await h0.cli(['network', 'rm', 'agent_gwbridge'])).code === 0 ? true : undefined));
    const nets = JSON.parse(`[${(await cli(h0, 'network', 'ls', '--format', 'json')).trim().split('\n').join(',')}]`) as { Name: string }[];
    ok(!nets.some((n) => n.Name === 'agent_gwbridge'));
  }),
);

t('--internal: endpoints on an internal overlay reach each other across nodes and nothing beyond it; a network that is not internal opens the way out', () =>
  withBed(2, async (ctx) => {
    const bed = ctx.bed!;
    const [h0, h1] = [await start(ctx, 0), await start(ctx, 1)];
    await init(ctx, h0, 0);
    await cli(h1, 'swarm', 'join', '--token', await token(h0, 'worker'), '--advertise-addr', bed.hosts[1]!.ip, `${bed.hosts[0]!.ip}:2377`);
    await cli(h0, 'network', 'create', '-d', 'overlay', '--attachable', '--internal', 'vault');
    await cli(h0, 'network', 'create', '-d', 'overlay', '--attachable', 'open');
    is((JSON.parse(await cli(h0, 'network', 'inspect', 'vault')) as { Internal: boolean }[])[0]!.Internal, true);
    await cli(h0, 'run', '-d', '--name', 'safe', '--network', 'vault', '--', 'sleep', '600');
    await cli(h1, 'run', '-d', '--name', 'peer', '--network', 'vault', '--', 'sleep', '600');
    const peerIp = (await inspectEp(h1, 'peer')).NetworkSettings.Networks['vault']!.IPAddress;
    ok(await pings(h0, ['exec', 'safe', '--'], peerIp), 'safe -> peer across nodes over vault');
    const routes = (await cli(h0, 'exec', 'safe', '--', 'ip', '-4', 'route')).trim();
    ok(!/default/.test(routes), `no default route: ${routes}`);
    // The other host's own address lies outside every overlay: only a way out reaches it.
    const outside = bed.hosts[1]!.ip;
    ok(!(await pings(h0, ['exec', 'safe', '--'], outside)), 'no way out from vault');
    await cli(h0, 'run', '-d', '--name', 'free', '--network', 'open', '--', 'sleep', '600');
    ok(await pings(h0, ['exec', 'free', '--'], outside), 'an endpoint on a network that is not internal gets out');
    await cli(h0, 'network', 'connect', 'open', 'safe');
    ok(await pings(h0, ['exec', 'safe', '--'], outside), 'connected to open as well: out');
    await cli(h0, 'network', 'disconnect', 'open', 'safe');
    ok(!(await pings(h0, ['exec', 'safe', '--'], outside)), 'disconnected: no way out again');
    ok(await pings(h0, ['exec', 'safe', '--'], peerIp), 'and still to its peer');
  }),
);

t.run();
