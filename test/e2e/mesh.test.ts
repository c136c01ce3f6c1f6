// The routing mesh (issue 10), as a user would see it from a machine outside
// the swarm (h3, no agent): a published port answers on every node, the
// one without a task too, and reaches the tasks on the others; UDP the same;
// host mode answers only where a task runs, keeping the client's address;
// a port with proxy-protocol=v2 delivers the client's address in the header;
// a port another program holds on a node is said in `service ps`; the seed's
// custom-ingress procedure; `agent run -p` for TCP and SCTP.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { suite, ok, is, equal, match } from '../harness.js';
import type { Host } from '../../agent/testbed/index.js';
import { cli, fails, runningOn, start, swarmOf, tasksOf, until, withBed, type Ctx } from './fixtures/cluster.js';

const t = suite('mesh');
const FIXTURES = join(process.cwd(), 'test/e2e/fixtures');

/** COUNT HTTP GETs from host `from` (each a new connection), as {answer: count}. */
async function httpFrom(ctx: Ctx, from: Host, url: string, count: number): Promise<Record<string, number>> {
  const r = await ctx.bed!.exec(from, [process.execPath, join(FIXTURES, 'http-get.mjs'), url, String(count)], { timeoutMs: 90_000 });
  if (r.code !== 0) throw new Error(`http-get ${url}: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

async function udpFrom(ctx: Ctx, from: Host, host: string, port: number, count: number): Promise<Record<string, number>> {
  const r = await ctx.bed!.exec(from, [process.execPath, join(FIXTURES, 'udp-ask.mjs'), host, String(port), String(count)], { timeoutMs: 90_000 });
  if (r.code !== 0) throw new Error(`udp-ask ${host}:${port}: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

const names = (seen: Record<string, number>): Set<string> => new Set(Object.keys(seen).map((k) => k.split(' ')[0]!));
const noErrors = (seen: Record<string, number>, what: string): void => ok(Object.keys(seen).every((k) => !k.startsWith('error')), `${what}: ${JSON.stringify(seen)}`);

t('published ports answer on every node (also the one without a task) over TCP and UDP, spread over the tasks; host mode only where a task runs, with the client address; PROXY v2 opt-in; a taken port is said', () =>
  withBed(4, async (ctx) => {
    const bed = ctx.bed!;
    const [h0] = await swarmOf(ctx, 3);
    const client = bed.hosts[3]!;
    // h2 runs no task of web or dns, and another program holds 7070 there.
    const squatter = bed.spawn(bed.hosts[2]!, [process.execPath, join(FIXTURES, 'http-name.mjs'), '7070', '300']);
    void squatter;
    const notH2 = ['--constraint', 'node.hostname!=h2'];
    await cli(h0!, 'service', 'create', '-d', '--name', 'web', '--replicas', '2', ...notH2, '-p', '8080:80', '--', 'node', join(FIXTURES, 'http-name.mjs'), '80', '600');
    await cli(h0!, 'service', 'create', '-d', '--name', 'dns', '--replicas', '2', ...notH2, '-p', '5300:53/udp', '--', 'node', join(FIXTURES, 'udp-name.mjs'), '53', '600');
    await cli(h0!, 'service', 'create', '-d', '--name', 'direct', '--constraint', 'node.hostname==h1', '-p', 'published=9090,target=80,mode=host', '--', 'node', join(FIXTURES, 'http-name.mjs'), '80', '600');
    await cli(h0!, 'service', 'create', '-d', '--name', 'px', '--constraint', 'node.hostname==h1', '-p', 'published=8081,target=80,proxy-protocol=v2', '--', 'node', join(FIXTURES, 'proxy-echo.mjs'), '80');
    await cli(h0!, 'service', 'create', '-d', '--name', 'busy', '--constraint', 'node.hostname==h0', '-p', '7070:80', '--', 'node', join(FIXTURES, 'http-name.mjs'), '80', '600');
    const web = await runningOn(h0!, 'web', 2);
    is(new Set(web.map((x) => x.NodeHostname)).size, 2, 'the two web tasks on two hosts');
    await runningOn(h0!, 'dns', 2);
    await runningOn(h0!, 'direct', 1);
    await runningOn(h0!, 'px', 1);
    await runningOn(h0!, 'busy', 1);

    // TCP through each of the three hosts, h2 (no task) included: both tasks answer through each.
    for (const h of bed.hosts.slice(0, 3)) {
      const seen = await until(`web through ${h.name}`, 20_000, async () => {
        const s = await httpFrom(ctx, client, `http://${h.ip}:8080/`, 30);
        return Object.keys(s).every((k) => !k.startsWith('error')) && names(s).size === 2 ? s : undefined;
      }).catch(async (e: Error) => {
        throw new Error(`${e.message}: ${JSON.stringify(await httpFrom(ctx, client, `http://${h.ip}:8080/`, 10))}`);
      });
      is([...names(seen)].sort().join(), web.map((x) => x.ContainerName).sort().join(), `both tasks through ${h.name}`);
    }

    // UDP the same.
    for (const h of bed.hosts.slice(0, 3)) {
      const seen = await udpFrom(ctx, client, h.ip, 5300, 30);
      noErrors(seen, `udp through ${h.name}`);
      is(names(seen).size, 2, `both dns tasks answer through ${h.name}: ${JSON.stringify(seen)}`);
    }

    // The node's own loopback reaches the published port too (the agent's holder relays it).
    const local = await bed.exec(bed.hosts[2]!, [process.execPath, join(FIXTURES, 'http-get.mjs'), 'http://127.0.0.1:8080/', '4'], { timeoutMs: 30_000 });
    noErrors(JSON.parse(local.stdout) as Record<string, number>, 'loopback on h2');

    // Host mode: h1 answers straight from its task, which sees the client; h0 and h2 do not answer.
    const direct = await httpFrom(ctx, client, `http://${bed.hosts[1]!.ip}:9090/`, 3);
    noErrors(direct, 'host mode on h1');
    for (const k of Object.keys(direct)) is(k.split(' ')[1], client.ip, 'the host-mode task sees the client\'s address');
    for (const h of [bed.hosts[0]!, bed.hosts[2]!]) {
      const none = await httpFrom(ctx, client, `http://${h.ip}:9090/`, 1);
      ok(Object.keys(none).every((k) => k.startsWith('error')), `host mode is not published on ${h.name}: ${JSON.stringify(none)}`);
    }

    // PROXY protocol v2: through h0 and h2 (no px task there), the backend learns the client's address from the header.
    for (const h of [bed.hosts[0]!, bed.hosts[2]!]) {
      const px = await until(`px through ${h.name}`, 20_000, async () => {
        const s = await httpFrom(ctx, client, `http://${h.ip}:8081/`, 1);
        return Object.keys(s).some((k) => k.startsWith('proxy=')) ? s : undefined;
      });
      const line = Object.keys(px)[0]!;
      match(line, new RegExp(`^proxy=${client.ip.replace(/\./g, '\\.')} `), `the header carries the client's address: ${line}`);
      ok(!line.includes(`peer=${client.ip} `), `the connection itself comes from the mesh: ${line}`);
    }

    // 7070 is another program's on h2: said in service ps, the other hosts still publish it.
    const ps = await until('busy: h2 reports 7070 taken', 20_000, async () => {
      const out = await cli(h0!, 'service', 'ps', 'busy');
      return /node h2: port 7070\/tcp is in use on this node by another program/.test(out) ? out : undefined;
    });
    match(ps, /busy\.1/);
    noErrors(await httpFrom(ctx, client, `http://${bed.hosts[1]!.ip}:7070/`, 2), 'busy through h1');
    const other = await httpFrom(ctx, client, `http://${bed.hosts[2]!.ip}:7070/`, 1);
    match(Object.keys(other)[0]!, /^unknown /, `h2's own program keeps 7070: ${JSON.stringify(other)}`);

    // service update --publish-add / --publish-rm: 8082 answers through h2, 8080 no longer anywhere.
    // docker's --publish-rm names the target port: 80 takes 8080:80 (removals go before additions).
    await cli(h0!, 'service', 'update', '-d', '--publish-add', '8082:80', '--publish-rm', '80', 'web');
    await until('8082 through h2', 20_000, async () => {
      const s = await httpFrom(ctx, client, `http://${bed.hosts[2]!.ip}:8082/`, 4);
      return Object.keys(s).every((k) => !k.startsWith('error')) ? s : undefined;
    });
    await until('8080 unpublished', 20_000, async () => {
      for (const h of bed.hosts.slice(0, 3)) if (!Object.keys(await httpFrom(ctx, client, `http://${h.ip}:8080/`, 1)).every((k) => k.startsWith('error'))) return undefined;
      return true;
    });

    // dnsrr services cannot use the mesh (docker's words) but publish in host mode.
    match(await fails(h0!, 'service', 'create', '--name', 'rr', '--endpoint-mode', 'dnsrr', '-p', '8083:80', '--', 'sleep', '60'), /port published with ingress mode can't be used with dnsrr mode/);
    await cli(h0!, 'service', 'create', '-d', '--name', 'rr', '--endpoint-mode', 'dnsrr', '--constraint', 'node.hostname==h0', '-p', 'published=8083,target=80,mode=host', '--', 'node', join(FIXTURES, 'http-name.mjs'), '80', '600');
    await runningOn(h0!, 'rr', 1);
    noErrors(await until('rr on h0', 15_000, async () => {
      const s = await httpFrom(ctx, client, `http://${bed.hosts[0]!.ip}:8083/`, 2);
      return Object.keys(s).every((k) => !k.startsWith('error')) ? s : undefined;
    }), 'dnsrr host mode');

    // The node without a task still serves after its agent restarts (its sandbox and rules are found again).
    await ctx.agents[2]!.stop(5_000);
    await start(ctx, 2);
    await until('8082 through h2 after its restart', 20_000, async () => {
      const s = await httpFrom(ctx, client, `http://${bed.hosts[2]!.ip}:8082/`, 10);
      return Object.keys(s).every((k) => !k.startsWith('error')) && names(s).size === 2 ? s : undefined;
    });

    // A host-mode port taken on its node fails the task, with docker's words.
    await cli(h0!, 'service', 'create', '-d', '--name', 'clash', '--constraint', 'node.hostname==h1', '-p', 'published=9090,target=80,mode=host', '--', 'sleep', '600');
    await until('clash rejected', 20_000, async () => ((await tasksOf(h0!, 'clash')).some((x) => /host-mode port already in use on this node/.test(x.Status.Err ?? '')) ? true : undefined));
  }),
);

t('the seed\'s custom ingress procedure: inspect, rm (asks; refused while ports are published), create --ingress with subnet, gateway and MTU; a second ingress fails; services publish through it', () =>
  withBed(3, async (ctx) => {
    const bed = ctx.bed!;
    const [h0] = await swarmOf(ctx, 2);
    const client = bed.hosts[2]!;
    const ins = JSON.parse(await cli(h0!, 'network', 'inspect', 'ingress')) as { Ingress: boolean; IPAM: { Config: { Subnet: string }[] } }[];
    is(ins[0]!.Ingress, true);
    is(ins[0]!.IPAM.Config[0]!.Subnet, '10.0.0.0/24');
    await cli(h0!, 'service', 'create', '-d', '--name', 'pub', '-p', '8080:80', '--', 'node', join(FIXTURES, 'http-name.mjs'), '80', '600');
    // Step 1 of the seed: inspect shows what is connected to ingress on the node asked, the worker too: its mesh sandbox, and the task where it runs.
    const [pubTask] = await runningOn(h0!, 'pub', 1);
    for (const a of ctx.agents.slice(0, 2)) {
      const connected = Object.values((JSON.parse(await cli(a, 'network', 'inspect', 'ingress')) as { Containers: Record<string, { Name: string }> }[])[0]!.Containers).map((c) => c.Name);
      equal(connected.sort(), ['ingress-endpoint', ...(pubTask!.NodeHostname === a.host.name ? [pubTask!.ContainerName] : [])].sort(), a.host.name);
    }
    match(await cli(ctx.agents[1]!, 'network', 'ls'), /\singress\s+overlay\s+swarm\n/, 'a worker lists the overlays it is on');
    const refused = await h0!.cli(['network', 'rm', 'ingress'], { input: 'y\n' });
    ok(refused.code !== 0, 'ingress cannot go while a service publishes');
    match(refused.stderr, /pub/);
    await cli(h0!, 'service', 'rm', 'pub');
    // Answering no keeps it.
    const no = await h0!.cli(['network', 'rm', 'ingress'], { input: 'n\n' });
    match(no.stderr, /routing-mesh network[\s\S]*\[y\/N\]/);
    ok(no.code !== 0, 'a no cancels');
    await cli(h0!, 'network', 'inspect', 'ingress');
    const yes = await h0!.cli(['network', 'rm', 'ingress'], { input: 'y\n' });
    is(yes.code, 0, yes.stderr);
    // No ingress: services without published ports still run; a published port is refused in one line.
    await cli(h0!, 'service', 'create', '-d', '--name', 'quiet', '--', 'sleep', '600');
    await runningOn(h0!, 'quiet', 1);
    const noIngress = await fails(h0!, 'service', 'create', '--name', 'loud', '-p', '8080:80', '--', 'sleep', '600');
    match(noIngress, /no ingress network is present/);
    is(noIngress.trim().split('\n').length, 1, 'one line');

    await cli(h0!, 'network', 'create', '--driver', 'overlay', '--ingress', '--subnet=10.11.0.0/16', '--gateway=10.11.0.2', '--opt', 'com.docker.network.driver.mtu=1200', 'my-ingress');
    match(await fails(h0!, 'network', 'create', '--driver', 'overlay', '--ingress', 'second-ingress'), /ingress/);
    await cli(h0!, 'service', 'create', '-d', '--name', 'web', '--replicas', '2', '-p', '8080:80', '--', 'node', join(FIXTURES, 'http-name.mjs'), '80', '600');
    const web = await runningOn(h0!, 'web', 2);
    const att = web[0]!.NetworksAttachments.find((n) => n.Name === 'my-ingress');
    ok(att !== undefined, `the task is on my-ingress: ${JSON.stringify(web[0]!.NetworksAttachments)}`);
    match(att!.Addresses[0]!, /^10\.11\./);
    const mtu = await h0!.cli(['exec', web.find((x) => x.NodeHostname === 'h0')?.ContainerName ?? web[0]!.ContainerName, '--', 'cat', '/sys/class/net/eth0/mtu']);
    is(mtu.stdout.trim(), '1200', 'the task\'s interface on my-ingress has its MTU');
    for (const h of bed.hosts.slice(0, 2)) {
      const seen = await until(`web through ${h.name}`, 20_000, async () => {
        const s = await httpFrom(ctx, client, `http://${h.ip}:8080/`, 20);
        return Object.keys(s).every((k) => !k.startsWith('error')) && names(s).size === 2 ? s : undefined;
      });
      is(names(seen).size, 2, `both tasks through ${h.name}`);
    }
  }),
);

t('agent run -p publishes a standalone endpoint on its node: TCP keeps the client address; SCTP through the kernel NAT, or one line saying the kernel cannot', () =>
  withBed(2, async (ctx) => {
    const bed = ctx.bed!;
    const [h0] = await swarmOf(ctx, 1);
    const client = bed.hosts[1]!;
    await cli(h0!, 'network', 'create', '-d', 'overlay', '--attachable', 'app');
    await cli(h0!, 'run', '-d', '--name', 'solo', '--network', 'app', '-p', '8088:80', '--', 'node', join(FIXTURES, 'http-name.mjs'), '80', '300');
    const seen = await until('solo answers', 15_000, async () => {
      const s = await httpFrom(ctx, client, `http://${bed.hosts[0]!.ip}:8088/`, 2);
      return Object.keys(s).every((k) => !k.startsWith('error')) ? s : undefined;
    });
    for (const k of Object.keys(seen)) is(k.split(' ')[1], client.ip, 'the endpoint sees the client');
    match(await cli(h0!, 'ps'), /0\.0\.0\.0:8088->80\/tcp/);
    // The same port again on this node: docker's refusal.
    match(await fails(h0!, 'run', '-d', '--name', 'again', '-p', '8088:80', '--', 'sleep', '60'), /port is already allocated/);

    const sctp = await h0!.cli(['run', '-d', '--name', 'sctp', '--network', 'app', '-p', '3868:3868/sctp', '--', 'sleep', '300']);
    // The agent's test of the kernel (port-holder.ts) read here too: the test knows which answer is right.
    const natsSctp = existsSync('/proc/sys/net/netfilter/nf_conntrack_sctp_timeout_established');
    is(sctp.code === 0, natsSctp, `SCTP publish ${natsSctp ? 'works' : 'is refused'} on this kernel: ${sctp.stderr}`);
    if (!natsSctp) {
      // This kernel cannot NAT SCTP: one line says so.
      match(sctp.stderr, /sctp/i);
      is(sctp.stderr.trim().split('\n').length, 1, 'one line');
      return;
    }
    // SCTP: an INIT from the client to the node's 3868 arrives at the endpoint's 3868, translated by the kernel.
    const ep = JSON.parse(await cli(h0!, 'inspect', 'sctp')) as { Netns: string; NetworkSettings: { Gateway: { IPAddress: string } } }[];
    const gw = ep[0]!.NetworkSettings.Gateway.IPAddress;
    const listen = h0!.cli(['exec', 'sctp', '--', 'python3', join(FIXTURES, 'sctp-raw.py'), 'recv', '3868', '15'], { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 1_000));
    const send = await bed.exec(client, ['python3', join(FIXTURES, 'sctp-raw.py'), 'send', bed.hosts[0]!.ip, '3868'], { timeoutMs: 20_000 });
    is(send.code, 0, send.stderr);
    const got = await listen;
    is(got.code, 0, `no SCTP INIT reached the endpoint: ${got.stdout} ${got.stderr}`);
    match(got.stdout, new RegExp(`from ${client.ip.replace(/\./g, '\\.')} to ${gw.replace(/\./g, '\\.')}:3868 crc ok`));
  }),
);

t.run();
