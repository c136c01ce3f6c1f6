// Service discovery and the VIP (issue 9), as a user would see them: tasks
// find a service by name through the agent's resolver and reach it through
// its VIP, spread over the tasks on every host; tasks.<service> follows the
// running tasks within a second; dnsrr answers task addresses; names of a
// network the asker is not on do not resolve; other names go to the host's
// resolver; dig gets well-formed answers over UDP and TCP.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, ok, is, match } from '../harness.js';
import type { AgentProcess } from '../../agent/testbed/index.js';
import { cli, init, joinAs, runningOn, start, token, until, withBed, type Ctx } from './fixtures/cluster.js';

const t = suite('discovery');
const FIXTURES = join(process.cwd(), 'test/e2e/fixtures');

/** dig from inside a task (its resolv.conf names the agent's resolver). */
async function dig(a: AgentProcess, task: string, ...args: string[]): Promise<{ code: number; out: string }> {
  const r = await a.cli(['exec', task, '--', 'dig', '+time=2', '+tries=1', ...args], { timeoutMs: 20_000 });
  return { code: r.code, out: r.stdout };
}

const ips = (out: string) => out.split('\n').map((l) => l.trim()).filter((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l)).sort();

async function swarmOf3(ctx: Ctx, env: Record<string, string>): Promise<AgentProcess[]> {
  const agents = [await start(ctx, 0, undefined, env), await start(ctx, 1), await start(ctx, 2)];
  await init(ctx, agents[0]!, 0);
  const tok = await token(agents[0]!, 'worker');
  for (const i of [1, 2]) await joinAs(ctx, agents[i]!, i, tok);
  return agents;
}

t('web by name through its VIP reaches all 3 tasks on 3 hosts; tasks.web follows scaling within 1 s; dnsrr, scoping, forwarding, dig over UDP and TCP', () =>
  withBed(3, async (ctx) => {
    const bed = ctx.bed!;
    // h0's agent forwards other names to a resolver this test runs on h0's loopback.
    const dir = mkdtempSync(join(tmpdir(), 'agent-dns-e2e-'));
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\nsearch example.test\n');
    const upstream = bed.spawn(bed.hosts[0]!, [process.execPath, join(FIXTURES, 'dns-upstream.mjs'), '127.0.0.1', '53', '180']);
    const [h0] = await swarmOf3(ctx, { AGENT_RESOLV_CONF: join(dir, 'resolv.conf') });
    void upstream;
    await cli(h0!, 'network', 'create', '-d', 'overlay', 'front');
    await cli(h0!, 'network', 'create', '-d', 'overlay', 'back');
    await cli(h0!, 'service', 'create', '-d', '--name', 'web', '--replicas', '3', '--network', 'front', '--', 'node', join(FIXTURES, 'http-name.mjs'), '8080', '600');
    await cli(h0!, 'service', 'create', '-d', '--name', 'client', '--network', 'front', '--constraint', 'node.hostname==h0', '--', 'sleep', '600');
    await cli(h0!, 'service', 'create', '-d', '--name', 'rr', '--replicas', '2', '--endpoint-mode', 'dnsrr', '--network', 'front', '--', 'sleep', '600');
    await cli(h0!, 'service', 'create', '-d', '--name', 'hidden', '--network', 'back', '--', 'sleep', '600');
    const web = await runningOn(h0!, 'web', 3, 20_000);
    is(new Set(web.map((x) => x.NodeHostname)).size, 3, 'one web task per host');
    const [client] = await runningOn(h0!, 'client', 1);
    const rr = await runningOn(h0!, 'rr', 2);
    await runningOn(h0!, 'hidden', 1);
    const c = client!.ContainerName;
    const webIps = web.map((x) => x.NetworksAttachments[0]!.Addresses[0]!.split('/')[0]!).sort();
    const vip = (JSON.parse(await cli(h0!, 'service', 'inspect', 'web')) as { Endpoint: { VirtualIPs: { Addr: string }[] } }[])[0]!.Endpoint.VirtualIPs[0]!.Addr.split('/')[0]!;

    // The task's resolver is the agent, at the gwbridge gateway.
    const conf = await h0!.cli(['exec', c, '--', 'cat', '/etc/resolv.conf']);
    match(conf.stdout, /^nameserver 172\.18\.0\.1$/m, conf.stdout);

    // web -> its VIP; tasks.web -> the three tasks; over UDP and TCP.
    await until('web resolves to its VIP', 10_000, async () => (ips((await dig(h0!, c, '+short', 'web')).out).join() === vip ? true : undefined));
    is(ips((await dig(h0!, c, '+short', '+tcp', 'web')).out).join(), vip, 'the same over TCP');
    is(ips((await dig(h0!, c, '+short', 'tasks.web')).out).join(), webIps.join(), 'tasks.web: every task');
    is(ips((await dig(h0!, c, '+short', 'web.front')).out).join(), vip, '<service>.<network>');
    // A task by its name, and back from its address (PTR).
    const w0 = web[0]!;
    const w0ip = w0.NetworksAttachments[0]!.Addresses[0]!.split('/')[0]!;
    is(ips((await dig(h0!, c, '+short', w0.ContainerName)).out).join(), w0ip, 'a task by its name');
    is((await dig(h0!, c, '+short', '-x', w0ip)).out.trim().replace(/\.$/, ''), w0.ContainerName, 'PTR: its name');
    const full = await dig(h0!, c, 'web');
    match(full.out, /status: NOERROR/);
    match(full.out, /flags: qr aa rd ra/);

    // 300 requests to http://web:8080/, each a new connection: all three tasks, each 20-45%.
    const get = await h0!.cli(['exec', c, '--', 'node', join(FIXTURES, 'http-get.mjs'), 'http://web:8080/', '300'], { timeoutMs: 120_000 });
    is(get.code, 0, get.stderr);
    const seen = JSON.parse(get.stdout) as Record<string, number>;
    const byTask = new Map<string, number>();
    for (const [line, n] of Object.entries(seen)) {
      ok(!line.startsWith('error'), `a request failed: ${line} x${n}`);
      const [name, from] = line.split(' ');
      is(from, client!.NetworksAttachments[0]!.Addresses[0]!.split('/')[0], 'the task sees the client\'s own address');
      byTask.set(name!, (byTask.get(name!) ?? 0) + n);
    }
    is(byTask.size, 3, `all three tasks answered: ${JSON.stringify(seen)}`);
    for (const [name, n] of byTask) ok(n >= 60 && n <= 135, `${name}: ${n} of 300 (20-45%)`);

    // Idle connections are not cut at 15 minutes (IPVS's default, moby#31208): the kernel's established-TCP timeout is left at its days.
    const ct = await h0!.cli(['exec', c, '--', 'cat', '/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established']);
    ok(Number(ct.stdout.trim()) >= 86_400, `conntrack keeps an idle established flow ${ct.stdout.trim()} s`);

    // dnsrr: the task addresses, no VIP.
    const rrIps = rr.map((x) => x.NetworksAttachments[0]!.Addresses[0]!.split('/')[0]!).sort();
    is(ips((await dig(h0!, c, '+short', 'rr')).out).join(), rrIps.join(), 'dnsrr: task addresses');
    // Scoping: hidden is on back only, which the client is not on.
    match((await dig(h0!, c, 'hidden')).out, /status: NXDOMAIN/);
    match((await dig(h0!, c, 'tasks.hidden')).out, /status: NXDOMAIN|status: SERVFAIL/);
    // Anything else goes to the host's resolver.
    is(ips((await dig(h0!, c, '+short', 'www.example.test')).out).join(), '198.51.100.7', 'forwarded to the upstream');
    match((await dig(h0!, c, 'nosuch.invalid')).out, /status: NXDOMAIN/, 'the upstream\'s answer, relayed');

    // Scale to 2: tasks.web has 2 addresses within 1 s of the command.
    await cli(h0!, 'service', 'scale', '-d', 'web=2');
    const t0 = Date.now();
    let last = '';
    await until('tasks.web down to 2', 5_000, async () => {
      last = (await dig(h0!, c, '+short', 'tasks.web')).out;
      return ips(last).length === 2 ? true : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}; the last answer: ${JSON.stringify(last)}`);
    });
    const took = Date.now() - t0;
    ok(took <= 1_000, `tasks.web followed the scale in ${took} ms`);
    // And the VIP sends nothing to the stopped task.
    const after = JSON.parse((await h0!.cli(['exec', c, '--', 'node', join(FIXTURES, 'http-get.mjs'), 'http://web:8080/', '40'], { timeoutMs: 60_000 })).stdout) as Record<string, number>;
    ok(Object.keys(after).every((k) => !k.startsWith('error')), `no failed request after scaling down: ${JSON.stringify(after)}`);
    is(new Set(Object.keys(after).map((k) => k.split(' ')[0])).size, 2, `two tasks answer: ${JSON.stringify(after)}`);
  }),
);

t.run();
