// Gossip on 7946 between real daemons (issue 5): membership seen from every
// node, a killed node marked dead by all, NetworkDB entries reaching every
// member of a network while the gossip key rotates every 2 s, and a capture
// of 7946 with no plaintext in it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, ok, is, eventually } from '../harness.js';
import type { SystemInfo } from '../../agent/api/types.js';
import type { AgentProcess } from '../../agent/testbed/index.js';
import { cli, info, init, joinAs, start, token, withBed, type Ctx } from './fixtures/cluster.js';

const t = suite('gossip');
const N = 5;

type Members = NonNullable<SystemInfo['Swarm']['Gossip']>['Members'];

async function members(a: AgentProcess): Promise<Members> {
  return (await info(a)).Swarm.Gossip?.Members ?? [];
}

/** A swarm of N: h0 and h1 managers, the rest workers; resolves once every node's gossip sees all N alive. */
async function swarmOf(ctx: Ctx): Promise<AgentProcess[]> {
  const as: AgentProcess[] = [];
  for (let i = 0; i < N; i++) as.push(await start(ctx, i));
  await init(ctx, as[0]!, 0);
  const mt = await token(as[0]!, 'manager');
  const wt = await token(as[0]!, 'worker');
  for (let i = 1; i < N; i++) await joinAs(ctx, as[i]!, i, i === 1 ? mt : wt);
  await eventually(async () => (await Promise.all(as.map(members))).every((m) => m.filter((x) => x.State === 'alive').length === N), 30_000, `every node seeing ${N} alive`, 250);
  return as;
}

async function api(a: AgentProcess, method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await a.api(method, path, body);
  if (r.status !== 200) throw new Error(`${method} ${path} on ${a.host.name}: ${r.status} ${r.body}`);
  return JSON.parse(r.body) as unknown;
}

async function table(a: AgentProcess, network: string, tbl: string): Promise<Map<string, string>> {
  const rows = (await api(a, 'GET', `/diagnostic/networkdb/table?network=${network}&table=${tbl}`)) as { Key: string; Value: string }[];
  return new Map(rows.map((r) => [r.Key, r.Value]));
}

t('every node sees every node alive; a node killed with -9 is declared dead by all the others', () =>
  withBed(N, async (ctx) => {
    const as = await swarmOf(ctx);
    const victim = as[N - 1]!;
    const victimId = (await info(victim)).Swarm.NodeID;
    const t0 = performance.now();
    await victim.kill9();
    await eventually(
      async () => (await Promise.all(as.slice(0, N - 1).map(members))).every((m) => m.find((x) => x.NodeID === victimId)?.State === 'dead'),
      30_000,
      'every other node declaring the killed one dead',
      250,
    );
    process.stdout.write(`  killed node declared dead by all ${N - 1} others after ${Math.round(performance.now() - t0)} ms\n`);
  }),
);

t('with the gossip key rotated every 2 s for 30 s: no membership flap, no lost NetworkDB update, and a capture of 7946 shows no plaintext', () =>
  withBed(N, async (ctx) => {
    const as = await swarmOf(ctx);
    const ids = await Promise.all(as.map(async (a) => (await info(a)).Swarm.NodeID));
    for (const [i, a] of as.entries()) await api(a, 'POST', '/diagnostic/networkdb/join', { Network: 'net1', Endpoint: `ep-h${i}` });
    await cli(as[0]!, 'swarm', 'update', '--key-rotation', '2s');

    const h1 = ctx.bed!.hosts[1]!;
    const pcap = join(as[1]!.dir, 'gossip.pcap');
    const cap = ctx.bed!.spawn(h1, ['tcpdump', '-Z', 'root', '--immediate-mode', '-i', 'eth0', '-U', '-s', '0', '-w', pcap, 'port', '7946']);
    try {
      await eventually(async () => existsSync(cap.logPath) && readFileSync(cap.logPath, 'utf8').includes('listening on'), 5_000, 'tcpdump to start');
      const marker = `gossip-marker-${process.pid}`;
      const want = new Map<string, string>();
      const flaps: string[] = [];
      const firstGen = (await info(as[0]!)).Swarm.Gossip!.KeyGenerations.at(-1)!;
      const end = performance.now() + 30_000;
      for (let round = 0; performance.now() < end; round++) {
        // Every node writes, overwrites and deletes its own entries.
        const i = round % N;
        const key = `h${i}-k${round % 7}`;
        if (round % 11 === 10 && want.has(key)) {
          await api(as[i]!, 'DELETE', `/diagnostic/networkdb/entry?network=net1&table=peers&key=${key}`);
          want.delete(key);
        } else {
          const value = `${marker}-${round}`;
          await api(as[i]!, 'POST', '/diagnostic/networkdb/entry', { Network: 'net1', Table: 'peers', Key: key, Value: value });
          want.set(key, value);
        }
        // Membership, seen from everyone: every node alive, every time.
        if (round % 5 === 0) {
          for (const [j, a] of as.entries()) {
            for (const m of await members(a)) if (m.State !== 'alive') flaps.push(`h${j} saw ${m.NodeID} ${m.State} in round ${round}`);
          }
        }
        await new Promise<void>((r) => setTimeout(r, 100));
      }
      is(flaps.join('; '), '', 'no membership flap while keys rotate');
      const lastGen = (await info(as[0]!)).Swarm.Gossip!.KeyGenerations.at(-1)!;
      ok(lastGen - firstGen >= 10, `keys rotated during the run (generation ${firstGen} -> ${lastGen})`);
      // Every update reached every member, in its last version, deletes included.
      await eventually(
        async () => {
          for (const a of as) {
            const got = await table(a, 'net1', 'peers');
            if (got.size !== want.size) return false;
            for (const [k, v] of want) if (got.get(k) !== v) return false;
          }
          return true;
        },
        10_000,
        'every node holding every last update',
        250,
      );
      for (const a of as) {
        const d = (await info(a)).Swarm.Gossip!.Dropped;
        is(d.unknownKey, 0, `${a.host.name} dropped packets under unknown keys: ${JSON.stringify(d)}`);
        is(d.badTag, 0, `${a.host.name} dropped forged packets: ${JSON.stringify(d)}`);
      }
      await cap.stop(2_000);
      const bytes = readFileSync(pcap);
      ok(bytes.length > 10_000, `the capture holds 7946 traffic (${bytes.length} bytes)`);
      ok(!bytes.includes(Buffer.from(marker)), 'no NetworkDB value in plaintext on the wire');
      for (const id of ids) ok(!bytes.includes(Buffer.from(id)), 'no node id in plaintext on the wire');
    } finally {
      await cap.stop(0);
    }
  }),
);

t.run();
