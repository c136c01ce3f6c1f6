// Overlay networks carrying frames between nodes (issue 6), driven as a user
// would: real daemons in test-bed hosts (one of them on Deno), `agent run`
// endpoints, ping and a 50 MB TCP transfer between hosts, isolation between
// overlays, a removed endpoint leaving every peer table, tshark decoding the
// agent's VXLAN on the wire, a restart that keeps every address, and control
// and data traffic on separate interfaces.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, ok, is, match } from '../harness.js';
import type { ContainerInspect } from '../../agent/api/types.js';
import type { AgentProcess, Host, TestBed } from '../../agent/testbed/index.js';
import { DENO, cli, fails, init, inspectEp, pings, start, token, until, withBed, type Ctx } from './fixtures/cluster.js';

const t = suite('overlay');

const FIXTURES = join(process.cwd(), 'test/e2e/fixtures');
const MB50 = 50 * 1024 * 1024;


function addrOn(c: ContainerInspect, net: string): string {
  const n = c.NetworkSettings.Networks[net];
  ok(n, `${c.Name} has no interface on ${net}: ${JSON.stringify(c.NetworkSettings)}`);
  return n!.IPAddress;
}



interface DatapathDiag {
  Networks: { VNI: number; Peers: { ip: string; mac: string; vtep: string }[] }[];
  Stats: { drops: Record<string, number> };
}

async function peersOn(a: AgentProcess, vni: number): Promise<string[]> {
  const r = await a.api('GET', '/diagnostic/datapath');
  const d = JSON.parse(r.body) as DatapathDiag;
  return (d.Networks.find((n) => n.VNI === vni)?.Peers ?? []).map((p) => p.ip);
}

async function netnsList(bed: TestBed): Promise<string[]> {
  const r = await bed.exec(bed.hosts[0]!, ['ip', 'netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(bed.prefix));
}

async function swarmOf3(ctx: Ctx): Promise<AgentProcess[]> {
  const agents = [await start(ctx, 0), await start(ctx, 1), await start(ctx, 2, DENO)];
  await init(ctx, agents[0]!, 0);
  const tok = await token(agents[0]!, 'worker');
  for (const i of [1, 2]) await cli(agents[i]!, 'swarm', 'join', '--token', tok, '--advertise-addr', ctx.bed!.hosts[i]!.ip, `${ctx.bed!.hosts[0]!.ip}:2377`);
  return agents;
}

t('endpoints on three hosts (one on Deno) ping each other and move 50 MB over TCP; overlays are isolated; removal reaches every node; tshark reads the VXLAN; a restart keeps addresses', () =>
  withBed(3, async (ctx) => {
    const bed = ctx.bed!;
    const [h0, h1, h2] = await swarmOf3(ctx);
    await cli(h0!, 'network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.10.0.0/24', '--gateway', '10.10.0.1', '--ip-range', '10.10.0.128/25', 'front');
    await cli(h0!, 'network', 'create', '-d', 'overlay', '--attachable', 'back');
    const frontVni = (JSON.parse(await cli(h0!, 'network', 'inspect', 'front')) as { VNI: number }[])[0]!.VNI;

    // Not attachable: docker's refusal, one line, nothing made.
    const refused = await fails(h1!, "run", "-d", "--name", "xx", "--network", "ingress", "--", "sleep", "60");
    match(refused, /network ingress not manually attachable/, refused);

    await cli(h0!, 'run', '-d', '--name', 'alpha', '--network', 'front', '--', 'sleep', '600');
    await cli(h1!, 'run', '-d', '--name', 'bravo', '--network', 'front', '--', 'sleep', '600');
    await cli(h2!, 'run', '-d', '--name', 'charlie', '--network', 'front', '--network', 'back', '--', 'node', join(FIXTURES, 'tcp-sink.mjs'), '5001', '120');
    await cli(h1!, 'run', '-d', '--name', 'delta', '--network', 'back', '--', 'sleep', '600');
    const [a, b, c, d] = [await inspectEp(h0!, 'alpha'), await inspectEp(h1!, 'bravo'), await inspectEp(h2!, 'charlie'), await inspectEp(h1!, 'delta')];
    const [ipA, ipB, ipC] = [addrOn(a, 'front'), addrOn(b, 'front'), addrOn(c, 'front')];
    for (const ip of [ipA, ipB, ipC]) match(ip, /^10\.10\.0\.(12[89]|1[3-9]\d|2[0-4]\d|25[0-4])$/, `${ip} is in --ip-range 10.10.0.128/25`);
    is(new Set([ipA, ipB, ipC]).size, 3, 'no two endpoints share an address');
    is(a.NetworkSettings.Networks['front']!.Gateway, '10.10.0.1');
    is(a.NetworkSettings.Networks['front']!.MTU, 1350, 'overlay MTU = underlay 1400 - 50');
    const mtu = await h0!.cli(['exec', 'alpha', '--', 'cat', '/sys/class/net/eth0/mtu']);
    is(mtu.stdout.trim(), '1350', `exec: ${mtu.code} ${mtu.stdout} ${mtu.stderr}`);

    // Every pair, both ways, across hosts (h2's daemon runs on Deno).
    for (const [ag, from, ip] of [[h0, 'alpha', ipB], [h0, 'alpha', ipC], [h1, 'bravo', ipA], [h1, 'bravo', ipC], [h2, 'charlie', ipA], [h2, 'charlie', ipB]] as const) {
      ok(await pings(ag!, from, ip, 3), `${from} -> ${ip}`);
    }

    // 50 MB over TCP from a (h0, Node) to c (h2, Deno): the bytes arrive intact.
    const sent = await h0!.cli(['exec', 'alpha', '--', 'node', join(FIXTURES, 'tcp-send.mjs'), ipC, '5001', String(MB50), '120'], { timeoutMs: 150_000 });
    is(sent.code, 0, `sender: ${sent.stdout}${sent.stderr}`);
    const got = await until('the sink to report', 10_000, async () => {
      const out = await cli(h2!, 'logs', 'charlie');
      return /sha256 /.test(out) ? out : undefined;
    });
    match(sent.stdout, /sha256 [0-9a-f]{64} bytes 52428800/);
    is(got.match(/sha256 ([0-9a-f]{64}) bytes (\d+)/)?.slice(1).join(' '), sent.stdout.match(/sha256 ([0-9a-f]{64}) bytes (\d+)/)?.slice(1).join(' '), 'same digest and length');

    // Two overlays are isolated: d (back only) reaches c over back, never a over front.
    const ipCback = addrOn(c, 'back');
    const ipD = addrOn(d, 'back');
    ok(await pings(h1!, 'delta', ipCback), 'd -> c over back');
    ok(!(await pings(h1!, 'delta', ipA, 1)), 'd (back) cannot reach a (front)');
    ok(!(await pings(h0!, 'alpha', ipD, 1)), 'a (front) cannot reach d (back)');

    // tshark's VXLAN dissector reads the agent's frames on h1's wire: VNI of front, inner ICMP from a.
    const cap = bed.spawn(bed.hosts[1]!, ['timeout', '20', 'tshark', '-i', 'eth0', '-f', 'udp port 4789', '-c', '4', '-T', 'fields', '-e', 'vxlan.vni', '-e', 'ip.src', '-e', 'icmp.type', '-E', 'separator=,']);
    await new Promise((r) => setTimeout(r, 2_000)); // tshark needs a moment before it captures
    ok(await pings(h0!, 'alpha', ipB, 3));
    await cap.exited;
    const out = readFileSync(cap.logPath, 'utf8');
    const lines = out.split('\n').filter((l) => /^\d+,/.test(l));
    ok(lines.length >= 2, `tshark decoded VXLAN: ${out}`);
    ok(lines.every((l) => l.startsWith(`${frontVni},`)), `every frame carries VNI ${frontVni}: ${lines.join(' | ')}`);
    ok(lines.some((l) => l.includes(ipA)), `inner source ${ipA} seen: ${lines.join(' | ')}`);

    // A restart of h1's agent: b and d keep their addresses and talk again; nothing leaks.
    const before = (await netnsList(bed)).sort();
    await h1!.stop(5_000);
    ctx.agents[1] = await start(ctx, 1);
    const b2 = await inspectEp(ctx.agents[1], 'bravo');
    is(addrOn(b2, 'front'), ipB, 'b keeps its address');
    await until('a to reach b again', 20_000, async () => ((await pings(h0!, 'alpha', ipB, 1)) ? true : undefined));
    ok(await pings(ctx.agents[1], 'delta', ipCback), 'd -> c after the restart');
    is((await netnsList(bed)).sort().join(' '), before.join(' '), 'the same namespaces, none leaked');

    // rm on h1: b leaves h0's and h2's peer tables within 2 s.
    await cli(ctx.agents[1], 'rm', '-f', 'bravo');
    const t0 = Date.now();
    await until('b gone from h0 and h2', 2_000, async () => {
      const [p0, p2] = [await peersOn(h0!, frontVni), await peersOn(h2!, frontVni)];
      return !p0.includes(ipB) && !p2.includes(ipB) ? true : undefined;
    });
    ok(Date.now() - t0 <= 2_000);
    ok(!(await pings(h0!, 'alpha', ipB, 1)), 'b is gone');
    match(await fails(ctx.agents[1], 'inspect', 'bravo'), /No such container: b/);
  }),
);

/** Packets matching filter on the host's interface during seconds (tshark's autostop). */
function capture(bed: TestBed, host: number, iface: string, filter: string, seconds: number): Promise<number> {
  const p = bed.spawn(bed.hosts[host]!, ['timeout', String(seconds + 15), 'tshark', '-i', iface, '-f', filter, '-a', `duration:${seconds}`, '-T', 'fields', '-e', 'frame.number']);
  return p.exited.then(() => readFileSync(p.logPath, 'utf8').split('\n').filter((l) => /^\d+$/.test(l.trim())).length);
}

t('control and gossip on one interface, VXLAN on another (--advertise-addr and --datapath-addr apart): a capture per interface proves it', () =>
  withBed(
    2,
    async (ctx) => {
      const bed = ctx.bed!;
      const [h0, h1] = [await start(ctx, 0), await start(ctx, 1)];
      const [a, b] = bed.hosts as [Host, Host];
      await cli(h0, 'swarm', 'init', '--advertise-addr', a.ip, '--datapath-addr', a.ip2!, '--dispatcher-heartbeat', '1s');
      await cli(h1, 'swarm', 'join', '--token', await token(h0, 'worker'), '--advertise-addr', b.ip, '--datapath-addr', b.ip2!, `${a.ip}:2377`);
      await cli(h0, 'network', 'create', '-d', 'overlay', '--attachable', 'split');
      await cli(h0, 'run', '-d', '--name', 'left', '--network', 'split', '--', 'sleep', '600');
      await cli(h1, 'run', '-d', '--name', 'right', '--network', 'split', '--', 'sleep', '600');
      const ipRight = addrOn(await inspectEp(h1, 'right'), 'split');
      ok(await pings(h0, 'left', ipRight, 2), 'left -> right');

      // While pings flow and gossip and heartbeats run, capture on both of h1's interfaces.
      const caps = Promise.all([
        capture(bed, 1, 'eth0', 'udp port 4789', 5),
        capture(bed, 1, 'eth1', 'udp port 4789', 5),
        capture(bed, 1, 'eth0', 'port 2377 or port 7946', 5),
        capture(bed, 1, 'eth1', 'port 2377 or port 7946', 5),
      ]);
      await new Promise((r) => setTimeout(r, 2_000));
      ok(await pings(h0, 'left', ipRight, 5), 'left -> right during the capture');
      const [vx0, vx1, ctl0, ctl1] = await caps;
      is(vx0, 0, 'no VXLAN on the control interface');
      ok(vx1 > 0, `VXLAN on the data interface (${vx1} packets)`);
      ok(ctl0 > 0, `control and gossip on the control interface (${ctl0} packets)`);
      is(ctl1, 0, 'no control or gossip on the data interface');
    },
    { secondUnderlay: true },
  ),
);

t.run();
