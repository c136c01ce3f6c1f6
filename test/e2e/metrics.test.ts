// Prometheus metrics (issue 11) as an operator scrapes them: two agents
// started with --metrics-addr <host ip>:9323, a swarm, an encrypted overlay
// and a service whose tasks are reached through their VIP from a client on
// the manager. Every line of every scrape must be well-formed (the strict
// reader of test/unit/metrics/text-format.ts), and the values must say what
// happened: both nodes ready, a Raft term, both gossip members alive, bytes
// out on the network, sessions up, a DNS query answered, and the requests
// through the VIP counted per backend. Only GET /metrics answers, only on
// the address given; the daemon logs nothing per scrape or per packet.
import { join } from 'node:path';
import { suite, ok, is, equal, match } from '../harness.js';
import type { AgentProcess, Host } from '../../agent/testbed/index.js';
import { run } from '../../agent/host/run.js';
import { AGENT, cli, info, init, joinAs, runningOn, token, until, withBed, type Ctx } from './fixtures/cluster.js';
import { parseExposition, sumOf, valueOf, type ParsedFamily } from '../unit/metrics/text-format.js';

const t = suite('metrics');
const FIXTURES = join(process.cwd(), 'test/e2e/fixtures');
const PORT = 9323;
const REQUESTS = 40;

/** Starts h<i>'s agent with --metrics-addr on its underlay address (fast Raft, as fixtures/cluster.ts's start). */
async function startWithMetrics(ctx: Ctx, i: number): Promise<AgentProcess> {
  const h = ctx.bed!.hosts[i]!;
  const a = await ctx.bed!.startAgent(h, { agentCmd: AGENT, env: { AGENT_RAFT_TICK_MS: '100' }, args: ['--hostname', `h${i}`, '--metrics-addr', `${h.ip}:${PORT}`], readyTimeoutMs: 30_000 });
  ctx.agents[i] = a;
  return a;
}

/** GET url with curl inside the host's netns: status and body. */
async function curl(ctx: Ctx, h: Host, url: string): Promise<{ code: number; status: string; body: string }> {
  const r = await ctx.bed!.exec(h, ['curl', '-sS', '--max-time', '5', '-o', '-', '-w', '\n%{http_code} %{content_type}', url], { allowFail: true });
  const cut = r.stdout.lastIndexOf('\n');
  return { code: r.code, status: r.stdout.slice(cut + 1), body: r.stdout.slice(0, cut) };
}

/** One scrape of h's metrics, every line checked. */
async function scrape(ctx: Ctx, h: Host): Promise<Map<string, ParsedFamily>> {
  const r = await curl(ctx, h, `http://${h.ip}:${PORT}/metrics`);
  if (r.code !== 0) throw new Error(`curl ${h.ip}:${PORT}/metrics: exit ${r.code}`);
  is(r.status, '200 text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(r.body);
}

t('two nodes, an encrypted overlay and a VIP: every line well-formed; nodes, Raft, gossip, bytes, sessions, DNS and flows per backend as they happened', () =>
  withBed(2, async (ctx) => {
    const bed = ctx.bed!;
    const [h0, h1] = [bed.hosts[0]!, bed.hosts[1]!];
    const a0 = await startWithMetrics(ctx, 0);
    const a1 = await startWithMetrics(ctx, 1);

    // Before any swarm: the node says so, and only the metrics path answers, only on the address given.
    const bare = await scrape(ctx, h0);
    is(valueOf(bare, 'agent_swarm_local_node_state', { state: 'inactive' }), 1);
    is(bare.has('agent_raft_term'), false);
    match((await curl(ctx, h0, `http://${h0.ip}:${PORT}/`)).status, /^404 /);
    is((await curl(ctx, h0, `http://127.0.0.1:${PORT}/metrics`)).code, 7, 'nothing listens on loopback (curl: could not connect)');

    await init(ctx, a0, 0);
    await joinAs(ctx, a1, 1, await token(a0, 'worker'));
    await cli(a0, 'network', 'create', '-d', 'overlay', '--opt', 'encrypted', 'sec');
    await cli(a0, 'service', 'create', '-d', '--name', 'web', '--replicas', '2', '--network', 'sec', '--', 'node', join(FIXTURES, 'http-name.mjs'), '8080', '600');
    await cli(a0, 'service', 'create', '-d', '--name', 'client', '--network', 'sec', '--constraint', 'node.hostname==h0', '--', 'sleep', '600');
    const web = await runningOn(a0, 'web', 2);
    is(new Set(web.map((x) => x.NodeHostname)).size, 2, 'one web task per host');
    const webIps = web.map((x) => x.NetworksAttachments[0]!.Addresses[0]!.split('/')[0]!).sort();
    const c = (await runningOn(a0, 'client', 1))[0]!.ContainerName;

    // One lookup, then REQUESTS new connections through web's VIP (half of them cross to h1, sealed).
    await until('web resolves', 15_000, async () => ((await a0.cli(['exec', c, '--', 'dig', '+short', '+time=2', '+tries=1', 'web'])).stdout.trim() !== '' ? true : undefined));
    const get = await a0.cli(['exec', c, '--', 'node', join(FIXTURES, 'http-get.mjs'), 'http://web:8080/', String(REQUESTS)], { timeoutMs: 120_000 });
    is(get.code, 0, get.stderr);
    const answers = JSON.parse(get.stdout) as Record<string, number>;
    ok(Object.keys(answers).every((k) => !k.startsWith('error')), `every request answered: ${get.stdout}`);

    // The flows are read with nft at most every 5 s per netns: wait for all of them.
    let m0 = await scrape(ctx, h0);
    await until(`${REQUESTS} flows counted on h0`, 20_000, async () => {
      m0 = await scrape(ctx, h0);
      return sumOf(m0, 'agent_lb_flows_total', { service: 'web', network: 'sec' }) === REQUESTS ? true : undefined;
    });
    const perBackend = m0.get('agent_lb_flows_total')!.samples.filter((s) => s.labels['service'] === 'web');
    equal(perBackend.map((s) => s.labels['backend']).sort(), webIps, 'one series per web task');
    for (const s of perBackend) ok(s.value > 0, `backend ${s.labels['backend']}: ${s.value} flows`);
    const byTask = new Map<string, number>();
    for (const [line, n] of Object.entries(answers)) byTask.set(line.split(' ')[0]!, (byTask.get(line.split(' ')[0]!) ?? 0) + n);
    equal([...byTask.values()].sort((a, b) => a - b), perBackend.map((s) => s.value).sort((a, b) => a - b), 'the counts are the answers each task gave');

    // The manager: both nodes ready, Raft, gossip, the overlay's bytes and sessions, the DNS query, keys.
    const n1 = (await info(a1)).Swarm.NodeID;
    is(valueOf(m0, 'agent_swarm_nodes', { state: 'ready' }), 2);
    is(valueOf(m0, 'agent_swarm_local_node_state', { state: 'active' }), 1);
    ok(valueOf(m0, 'agent_raft_term')! >= 1, 'a Raft term');
    is(valueOf(m0, 'agent_raft_leader'), 1);
    ok(valueOf(m0, 'agent_raft_commit_index')! >= 1);
    is(valueOf(m0, 'agent_gossip_members', { state: 'alive' }), 2);
    ok(valueOf(m0, 'agent_gossip_key_generation')! >= 1);
    ok(valueOf(m0, 'agent_gossip_key_last_rotation_timestamp_seconds')! > 1_700_000_000);
    ok(valueOf(m0, 'agent_data_key_generation', { network: 'sec' })! >= 1);
    ok(valueOf(m0, 'agent_datapath_bytes_total', { network: 'sec', direction: 'out' })! > 0, 'bytes out on sec');
    ok(valueOf(m0, 'agent_datapath_bytes_total', { network: 'sec', direction: 'in' })! > 0, 'bytes in on sec');
    is(valueOf(m0, 'agent_network_peers', { network: 'sec' }), 1);
    is(valueOf(m0, 'agent_datapath_sessions', { network: 'sec', peer: n1, state: 'up' }), 1, 'the session with h1 is up');
    ok(valueOf(m0, 'agent_datapath_handshakes_total')! >= 1);
    ok(valueOf(m0, 'agent_dns_queries_total', { answer: 'answered' })! >= 2, 'the dig and http-get lookups');

    // The worker: what it knows (itself, gossip, its share of the traffic), no node list, no Raft.
    const m1 = await scrape(ctx, h1);
    is(valueOf(m1, 'agent_swarm_manager'), 0);
    is(m1.has('agent_swarm_nodes'), false);
    is(m1.has('agent_raft_term'), false);
    is(valueOf(m1, 'agent_gossip_members', { state: 'alive' }), 2);
    ok(valueOf(m1, 'agent_datapath_bytes_total', { network: 'sec', direction: 'in' })! > 0, 'bytes in on sec at h1');

    // No log line per scrape or per packet: the metrics plane said one thing, that it listens.
    for (const a of [a0, a1]) equal(a.logTail(10_000).filter((l) => /plane=metrics|metrics /.test(l)).map((l) => /metrics listening/.test(l)), [true], a.host.name);
  }),
);

t('a bad --metrics-addr is refused in one line before the daemon starts', async () => {
  const r = await run([...AGENT, 'daemon', '--state-dir', '/nonexistent/agent-metrics-test', '--metrics-addr', 'x'], { allowFail: true, timeoutMs: 20_000 });
  is(r.code, 2);
  equal(r.stderr.split('\n').filter((l) => l !== ''), [`agent: --metrics-addr: expected HOST:PORT, got "x" (see 'agent --help')`]);
});

t.run();
