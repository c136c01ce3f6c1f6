// The node's plumbing on a real kernel (DESIGN §3), inside test-bed host h0:
// every host-side command runs there (`ip -n`, `ip netns exec`), every netns
// made is named <bed prefix>-h0-..., so bed.destroy() removes it all even when
// a test fails. h1 is only a far end for the masquerade check.
import { suite, is, ok, equal, eventually } from '../harness.js';
import { TestBed, type Host } from '../../agent/testbed/index.js';
import { run } from '../../agent/host/run.js';
import { HostPlumbing, macForIPv4, pipeAddrs, type GwIfaceSpec, type OverlayIfaceSpec, type SandboxSpec } from '../../agent/datapath/plumbing.js';
import { plumbingContract } from '../../agent/datapath/plumbing-contract.js';

interface Ctx {
  bed?: TestBed;
}

const t = suite<Ctx>('plumbing', {});
const VNI = 4097;
const MTU = 1350;
const GWBRIDGE = 'agent_gwbridge';
const NAT = 'agent_nat';

function world(h0: Host) {
  const H = h0.netns;
  const sandbox: SandboxSpec = { hostNetns: H, netns: `${H}-n${VNI}`, hostLink: `ag-p${VNI}`, pipeIndex: 0, vni: VNI, mtu: MTU };
  const eps = ['0123456789ab', 'ba9876543210'].map((id, i) => {
    const ip = `10.0.1.${2 + i}`;
    const netns = `${H}-e${id}`;
    const overlay: OverlayIfaceSpec = { sandboxNetns: sandbox.netns, sandboxLink: `v${id}`, endpointNetns: netns, ifname: 'eth0', address: `${ip}/24`, mac: macForIPv4(ip), mtu: MTU };
    const gw: GwIfaceSpec = { hostNetns: H, bridge: GWBRIDGE, hostLink: `ag-g${id.slice(0, 10)}`, endpointNetns: netns, address: `172.18.0.${2 + i}/16`, gateway: '172.18.0.1', isolated: true };
    return { ip, netns, overlay, gw };
  });
  return { H, sandbox, eps, gwbridge: { hostNetns: H, name: GWBRIDGE, icc: false, masquerade: true, natTable: NAT } };
}

const plumbing = () => new HostPlumbing({ timeoutMs: 10_000 });

async function pings(netns: string, to: string, waitS = '1'): Promise<boolean> {
  return (await run(['ping', '-n', '-c1', `-W${waitS}`, to], { netns, allowFail: true, timeoutMs: 5_000 })).code === 0;
}

async function links(netns: string): Promise<{ ifname: string; mtu: number; address: string; master?: string; linkinfo?: { info_slave_data?: { isolated?: boolean } } }[]> {
  return JSON.parse((await run(['ip', '-n', netns, '-d', '-j', 'link', 'show'])).stdout) as never;
}

async function teardown(p: HostPlumbing, w: ReturnType<typeof world>): Promise<void> {
  for (const e of w.eps) {
    await p.removeOverlayIface(e.overlay);
    await p.removeGwIface(e.gw);
    await p.deleteEndpoint(e.netns);
  }
  await p.deleteSandbox(w.sandbox);
  await p.removeGwbridge({ hostNetns: w.H, bridge: GWBRIDGE, natTable: NAT });
}

// Binds the pipe's host end in the host netns and prints the first VXLAN
// datagram carrying an ARP request for the target, parsed (RFC 7348 §5: flags,
// VNI; RFC 826: the ARP fields); exits 1 after ms without one.
const VXLAN_ARP_CATCHER = `const [addr, port, target, ms] = process.argv.slice(1);
const s = require('dgram').createSocket('udp4');
setTimeout(() => process.exit(1), +ms);
s.on('message', (b, r) => {
  if (b.length < 8 + 14 + 28 || b.readUInt16BE(8 + 12) !== 0x0806) return;
  const a = 8 + 14, ip = (o) => [...b.subarray(o, o + 4)].join('.');
  if (ip(a + 24) !== target) return;
  console.log(JSON.stringify({ flags: b[0], reserved: [b[1], b[2], b[3], b[7]], vni: b.readUIntBE(4, 3), dst: b.subarray(8, 14).toString('hex'),
    src: b.subarray(14, 20).toString('hex'), op: b.readUInt16BE(a + 6), spa: ip(a + 14), tpa: ip(a + 24), from: r.address, len: b.length }));
  process.exit(0);
});
s.bind(+port, addr);`;

t.before(async (ctx) => {
  ctx.bed = await TestBed.create({ hosts: 2 });
});
t.after(async (ctx) => {
  await ctx.bed?.destroy();
});

t('gwbridge, a sandbox and two endpoints: overlay, gwbridge isolation, masquerade, the pipe, MTUs; teardown leaves nothing', async ({ bed }) => {
  if (!bed) throw new Error('no bed');
  const [h0, h1] = bed.hosts as [Host, Host];
  const w = world(h0);
  const p = plumbing();
  const ms: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const spawns = p.spawns;
    try {
      return await f();
    } finally {
      ms[name] = Math.round((performance.now() - t0) * 10) / 10;
      ms[`${name} processes`] = p.spawns - spawns;
    }
  };
  try {
    equal(await timed('ensureGwbridge', () => p.ensureGwbridge(w.gwbridge)), { subnet: '172.18.0.0/16', gateway: '172.18.0.1', created: true });
    await timed('createSandbox', () => p.createSandbox(w.sandbox));
    is(await timed('sandboxReady', () => p.sandboxReady(w.sandbox)), true);
    for (const [i, e] of w.eps.entries()) {
      await timed(`createEndpoint${i}`, () => p.createEndpoint(e.netns));
      await timed(`addOverlayIface${i}`, () => p.addOverlayIface(e.overlay));
      await timed(`addGwIface${i}`, () => p.addGwIface(e.gw));
    }
    const [e1, e2] = w.eps as [(typeof w.eps)[0], (typeof w.eps)[0]];

    // (a) the two endpoints reach each other over the sandbox bridge.
    await eventually(() => pings(e1.netns, e2.ip), 5_000, 'e1 -> e2 over the overlay');
    ok(await pings(e2.netns, e1.ip));

    // (b) both reach the gwbridge gateway, never each other through it (icc off);
    // what leaves through h0's eth0 is masqueraded, so h1 (no route to 172.18/16) answers.
    await eventually(() => pings(e1.netns, '172.18.0.1'), 5_000, 'e1 -> gateway');
    ok(await pings(e2.netns, '172.18.0.1'));
    equal([await pings(e1.netns, '172.18.0.3', '0.5'), await pings(e2.netns, '172.18.0.2', '0.5')], [false, false]);
    await eventually(() => pings(e1.netns, h1.ip), 5_000, 'e1 -> h1 through the masquerade');

    // (c) a frame for nobody here leaves through vx0 as a VXLAN datagram to the pipe's host end.
    const { host: pipeHost, sandbox: pipeSandbox } = pipeAddrs(0);
    let caught = false;
    const catcher = run([process.execPath, '-e', VXLAN_ARP_CATCHER, pipeHost, '4789', '10.0.1.99', '6000'], { netns: w.H, allowFail: true, timeoutMs: 8_000 }).finally(() => (caught = true));
    const deadline = performance.now() + 7_000;
    while (!caught && performance.now() < deadline) await pings(e1.netns, '10.0.1.99', '0.3');
    const got = await catcher;
    is(got.code, 0, `no VXLAN datagram with an ARP request for 10.0.1.99 reached ${pipeHost}:4789 (${got.stderr.trim()})`);
    const { len, ...datagram } = JSON.parse(got.stdout) as { len: number };
    equal(datagram, { flags: 0x08, reserved: [0, 0, 0, 0], vni: VNI, dst: 'ffffffffffff', src: macForIPv4(e1.ip).replaceAll(':', ''), op: 1, spa: e1.ip, tpa: '10.0.1.99', from: pipeSandbox });
    ok(len >= 8 + 14 + 28, `datagram of ${len} bytes`);

    // (d) MTUs as specified, TX checksum off on pipe, IPv6 off, ports isolated, MACs by address.
    const sb = new Map((await links(w.sandbox.netns)).map((l) => [l.ifname, l]));
    equal([sb.get('br0')?.mtu, sb.get('vx0')?.mtu, sb.get('pipe')?.mtu, sb.get('v0123456789ab')?.mtu, sb.get('vba9876543210')?.mtu], [MTU, MTU, MTU + 50, MTU, MTU]);
    equal([sb.get('vx0')?.master, sb.get('v0123456789ab')?.master], ['br0', 'br0']);
    const host = new Map((await links(w.H)).map((l) => [l.ifname, l]));
    is(host.get(`ag-p${VNI}`)?.mtu, MTU + 50);
    equal(w.eps.map((e) => host.get(e.gw.hostLink)?.linkinfo?.info_slave_data?.isolated), [true, true]);
    equal(w.eps.map((e) => host.get(e.gw.hostLink)?.master), [GWBRIDGE, GWBRIDGE]);
    const eth0 = (await links(e1.netns)).find((l) => l.ifname === 'eth0');
    equal([eth0?.mtu, eth0?.address], [MTU, '02:42:0a:00:01:02']);
    const offloads = (await run(['ethtool', '-k', 'pipe'], { netns: w.sandbox.netns })).stdout;
    ok(/^tx-checksumming: off$/m.test(offloads), offloads.split('\n').slice(0, 4).join(' | '));
    const v6 = await run(['sysctl', '-n', 'net.ipv6.conf.all.disable_ipv6', 'net.ipv6.conf.br0.disable_ipv6', 'net.ipv6.conf.vx0.disable_ipv6', 'net.ipv6.conf.pipe.disable_ipv6'], { netns: w.sandbox.netns });
    is(v6.stdout, '1\n1\n1\n1\n');
    is((await run(['sysctl', '-n', 'net.ipv6.conf.eth0.disable_ipv6'], { netns: e1.netns })).stdout, '1\n');
    is((await run(['sysctl', '-n', 'net.ipv4.ip_forward'], { netns: w.H })).stdout, '1\n');
    ok((await run(['nft', 'list', 'table', 'ip', NAT], { netns: w.H })).stdout.includes('ip saddr 172.18.0.0/16 oifname != "agent_gwbridge" masquerade'));
    is((await run(['ip', '-n', e1.netns, 'route', 'show', 'default'])).stdout.trim(), 'default via 172.18.0.1 dev eth-gw');
    equal(await p.list({ hostNetns: w.H, netnsPrefix: `${w.H}-`, linkPrefix: 'ag' }), {
      netns: [e1.netns, e2.netns, w.sandbox.netns].sort(),
      links: [w.eps[0]!.gw.hostLink, w.eps[1]!.gw.hostLink, `ag-p${VNI}`, GWBRIDGE].sort(),
    });

    // (e) teardown leaves nothing, and again is a no-op.
    await timed('deleteEndpoint', () => p.deleteEndpoint(e2.netns));
    await timed('teardown', () => teardown(p, w));
    const nothing = async (what: string) => {
      equal(await p.list({ hostNetns: w.H, netnsPrefix: `${w.H}-`, linkPrefix: '' }), { netns: [], links: ['eth0', 'lo'] }, what);
      is((await run(['nft', 'list', 'tables'], { netns: w.H })).stdout, '', `${what}: nft tables`);
    };
    await nothing('after teardown');
    await teardown(p, w);
    await nothing('after a second teardown');
    process.stdout.write(`  timings (ms, processes): ${JSON.stringify(ms)}\n`);
  } finally {
    await teardown(p, w).catch(() => {});
  }
});

t('a sandbox over a half-made one of that name works', async ({ bed }) => {
  if (!bed) throw new Error('no bed');
  const w = world(bed.hosts[0]!);
  const p = plumbing();
  const sb = w.sandbox.netns;
  try {
    // What a crash after the pipe and before vx0 leaves, plus an old host end of the pipe on its own.
    await run(['ip', 'netns', 'add', sb]);
    await run(['ip', '-n', w.H, 'link', 'add', `ag-p${VNI}`, 'type', 'veth', 'peer', 'name', 'pipe', 'netns', sb]);
    await run(['ip', '-n', sb, 'link', 'add', 'br0', 'type', 'bridge']);
    is(await p.sandboxReady(w.sandbox), false);
    await p.createSandbox(w.sandbox);
    is(await p.sandboxReady(w.sandbox), true);
    // A leftover endpoint netns, and an endpoint veth end left in the sandbox.
    const e = w.eps[0]!;
    await run(['ip', 'netns', 'add', e.netns]);
    await run(['ip', '-n', sb, 'link', 'add', e.overlay.sandboxLink, 'type', 'veth', 'peer', 'name', 'x0']);
    await p.createEndpoint(e.netns);
    await p.addOverlayIface(e.overlay);
    ok(await p.hasLink(e.netns, 'eth0'));
    await p.deleteEndpoint(e.netns);
    await p.deleteSandbox(w.sandbox);
    equal(await p.list({ hostNetns: w.H, netnsPrefix: `${w.H}-`, linkPrefix: 'ag' }), { netns: [], links: [] });
  } finally {
    await teardown(p, w).catch(() => {});
  }
});

t('adoptNetns names a netns someone else made; releaseNetns drops only the name', async ({ bed }) => {
  if (!bed) throw new Error('no bed');
  const w = world(bed.hosts[0]!);
  const p = plumbing();
  const foreign = `${w.H}-foreign`;
  const named = `${w.H}-x1`;
  try {
    await run(['ip', 'netns', 'add', foreign]);
    await p.ensureGwbridge(w.gwbridge);
    await p.adoptNetns(`/run/netns/${foreign}`, named);
    await p.addGwIface({ ...w.eps[0]!.gw, endpointNetns: named });
    ok((await run(['ip', '-n', foreign, '-o', 'addr', 'show', 'eth-gw'])).stdout.includes('172.18.0.2/16'), 'the address is in the foreign netns');
    await p.removeGwIface(w.eps[0]!.gw);
    await p.releaseNetns(named);
    await p.releaseNetns(named);
    equal((await p.list({ hostNetns: w.H, netnsPrefix: `${w.H}-`, linkPrefix: 'ag-' })).netns, [foreign]);
    is((await run(['ip', '-n', foreign, 'link', 'show', 'lo'])).code, 0);
    const bad = await p.adoptNetns('/run/netns', named).then(() => 'no error', (e: Error) => e.message);
    ok(bad.startsWith(`adoptNetns /run/netns: `) && !bad.includes('\n'), bad);
    equal((await p.list({ hostNetns: w.H, netnsPrefix: `${w.H}-`, linkPrefix: 'ag-' })).netns, [foreign]);
  } finally {
    await p.releaseNetns(named).catch(() => {});
    await p.removeGwbridge({ hostNetns: w.H, bridge: GWBRIDGE, natTable: NAT }).catch(() => {});
    await run(['ip', 'netns', 'del', foreign], { allowFail: true });
  }
});

for (const c of plumbingContract) {
  t(`contract (host): ${c.name}`, async ({ bed }) => {
    if (!bed) throw new Error('no bed');
    const H = bed.hosts[0]!.netns;
    await c.run(plumbing(), { hostNetns: H, netnsPrefix: `${H}-c`, linkPrefix: 'ct-' });
  });
}

t.run();
