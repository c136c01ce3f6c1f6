// What an idle agent costs (issue 11): a member of a 3-node swarm with 2
// overlays (one encrypted) and 2 tasks stays under 64 MiB of resident memory
// on Node (the Deno figure is printed, not judged), run as agent.service runs
// it (its Environment= lines), and traffic through the overlay adds no log
// lines (no log line per packet, ever).
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, ok, is } from '../harness.js';
import type { TaskInspect } from '../../agent/api/types.js';
import type { AgentProcess } from '../../agent/testbed/index.js';
import { AGENT, DENO, cli, init, joinAs, start, token, until, withBed, type Ctx } from './fixtures/cluster.js';

const t = suite('footprint');
const FIXTURES = join(process.cwd(), 'test/e2e/fixtures');
const MIB = 1024 * 1024;
const IDLE_LIMIT_BYTES = 64 * MIB;

/** Resident memory of a process: VmRSS of /proc/PID/status. */
function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** The agent's own process: Deno's npm wrapper may sit in front of it, so the deepest child whose command runs agent.mjs. */
function agentPid(a: AgentProcess): number {
  let pid = a.pid;
  for (;;) {
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return pid;
    }
    const next = children.find((c) => {
      try {
        return readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('agent.mjs');
      } catch {
        return false;
      }
    });
    if (next === undefined) return pid;
    pid = next;
  }
}

/** The Environment= lines of packaging/agent.service: the agent as installed. */
function unitEnvironment(): Record<string, string> {
  const unit = readFileSync(join(process.cwd(), 'packaging/agent.service'), 'utf8');
  const env: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  return env;
}

async function idleSwarm(ctx: Ctx, cmd: readonly string[]): Promise<AgentProcess[]> {
  const env = unitEnvironment();
  // Structured logs, as a fleet's log shipper would take them.
  const json = ['--log-format', 'json'];
  const agents = [await start(ctx, 0, cmd, env, json), await start(ctx, 1, cmd, env, json), await start(ctx, 2, cmd, env, json)];
  await init(ctx, agents[0]!, 0);
  const tok = await token(agents[0]!, 'worker');
  for (const i of [1, 2]) await joinAs(ctx, agents[i]!, i, tok);
  const m = agents[0]!;
  await cli(m, 'network', 'create', '-d', 'overlay', 'front');
  await cli(m, 'network', 'create', '-d', 'overlay', '--opt', 'encrypted', 'back');
  await cli(m, 'service', 'create', '-d', '--name', 'web', '--replicas', '2', '--network', 'front', '--network', 'back', '--', 'node', join(FIXTURES, 'http-name.mjs'), '8080', '600');
  await until('2 tasks running', 30_000, async () => {
    const r = await m.api('GET', '/tasks?service=web');
    const ts = JSON.parse(r.body) as TaskInspect[];
    return ts.filter((x) => x.Status.State === 'running').length === 2 ? ts : undefined;
  });
  return agents;
}

/** The highest RSS of the agents after they settle (GC has run a few times by then). */
async function settledRss(agents: readonly AgentProcess[]): Promise<number[]> {
  await new Promise((r) => setTimeout(r, 8_000));
  return agents.map((a) => rssBytes(agentPid(a)));
}

const mib = (b: number): string => `${(b / MIB).toFixed(1)} MiB`;

/** The figures, also to FOOTPRINT_OUT when set (the suite prints a passing file's output only on failure). */
function say(line: string): void {
  process.stdout.write(`  ${line}\n`);
  if (process.env['FOOTPRINT_OUT']) appendFileSync(process.env['FOOTPRINT_OUT'], `${line}\n`);
}

t('an idle member of a 3-node swarm (2 networks, 2 tasks) stays under 64 MiB on Node; overlay traffic adds no log lines', () =>
  withBed(3, async (ctx) => {
    const agents = await idleSwarm(ctx, AGENT);
    const rss = await settledRss(agents);
    say(`footprint (node): ${agents.map((a, i) => `${a.host.name} ${mib(rss[i]!)}`).join(', ')}`);
    for (const [i, b] of rss.entries()) ok(b < IDLE_LIMIT_BYTES, `${agents[i]!.host.name}: ${mib(b)} resident, limit 64 MiB`);

    // 400 pings between the two tasks over both overlays: the daemons' logs do not grow with them.
    const ts = JSON.parse((await agents[0]!.api('GET', '/tasks?service=web')).body) as TaskInspect[];
    const [a, b] = ts.filter((x) => x.Status.State === 'running');
    const from = agents.find((x) => x.host.name === a!.NodeHostname)!;
    const before = agents.map((x) => readFileSync(x.logPath, 'utf8').split('\n').length);
    for (const att of b!.NetworksAttachments) {
      const r = await from.cli(['exec', a!.ContainerName, '--', 'ping', '-c', '200', '-i', '0.002', '-q', att.Addresses[0]!.split('/')[0]!], { timeoutMs: 30_000 });
      is(r.code, 0, r.stdout + r.stderr);
    }
    const after = agents.map((x) => readFileSync(x.logPath, 'utf8').split('\n').length);
    for (const [i, n] of after.entries()) ok(n - before[i]! < 10, `${agents[i]!.host.name} logged ${n - before[i]!} lines during 400 pings`);
    // Every line the daemons wrote is one JSON object with a time, a level and a message.
    for (const a of agents) {
      for (const line of readFileSync(a.logPath, 'utf8').split('\n').filter((l) => l.trim() !== '')) {
        let o: { ts?: unknown; level?: unknown; msg?: unknown } = {};
        try {
          o = JSON.parse(line) as typeof o;
        } catch {
          ok(false, `${a.host.name}: not a JSON log line: ${line}`);
        }
        ok(typeof o.level === 'string' && typeof o.msg === 'string', `${a.host.name}: ${line}`);
      }
    }
  }),
);

t('the same swarm on Deno: its footprint, printed', () =>
  withBed(3, async (ctx) => {
    const agents = await idleSwarm(ctx, DENO);
    const rss = await settledRss(agents);
    say(`footprint (deno): ${agents.map((a, i) => `${a.host.name} ${mib(rss[i]!)}`).join(', ')}`);
    for (const b of rss) ok(b > 0);
  }),
);

t.run();
