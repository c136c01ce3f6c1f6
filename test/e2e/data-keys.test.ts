// The encrypted overlays' data keys as a user drives them (issue 7, the
// managers' side): `swarm update --key-rotation 5s` is accepted and the
// leader rotates the key of an encrypted network at that pace (its log says
// so); `network inspect` of an encrypted network lists every node with an
// endpoint on it under Peers, with the state its data path reports
// ('unknown' while a node has said nothing).
import { readFileSync } from 'node:fs';
import { suite, ok, is, equal, eventually } from '../harness.js';
import type { NetworkInspect, SwarmInspect } from '../../agent/api/types.js';
import type { AgentProcess } from '../../agent/testbed/index.js';
import { cli, init, joinAs, start, token, withBed } from './fixtures/cluster.js';

const t = suite('data-keys');
const STATES = new Set(['up', 'handshaking', 'failed', 'no-key', 'unknown']);

async function inspect(a: AgentProcess, ref: string): Promise<NetworkInspect> {
  return (JSON.parse(await cli(a, 'network', 'inspect', ref)) as NetworkInspect[])[0]!;
}

/** Generations of network `name` the leader's log says it rotated to. */
function rotations(a: AgentProcess, name: string): number[] {
  const out: number[] = [];
  for (const line of readFileSync(a.logPath, 'utf8').split('\n')) {
    if (!line.includes('data keys rotated')) continue;
    for (const m of line.matchAll(new RegExp(`(?:^|[ =,"])${name}:(\\d+)`, 'g'))) out.push(Number(m[1]));
  }
  return out;
}

t('a 5 s key rotation is accepted and kept by the leader; network inspect lists the nodes on an encrypted network', () =>
  withBed(2, async (ctx) => {
    const [m, w] = [await start(ctx, 0), await start(ctx, 1)];
    await init(ctx, m, 0);
    await joinAs(ctx, w, 1, await token(m, 'worker'));

    is((await cli(m, 'swarm', 'update', '--key-rotation', '5s')).trim(), 'Swarm updated.');
    const [sw] = JSON.parse(await cli(m, 'swarm', 'inspect', '--format', 'json')) as SwarmInspect[];
    is(sw!.Spec.EncryptionConfig.KeyRotationMs, 5_000);

    await cli(m, 'network', 'create', '-d', 'overlay', '--attachable', '--opt', 'encrypted', 'sec');
    await cli(m, 'network', 'create', '-d', 'overlay', '--attachable', 'plain');
    // Generation 1 came with the network; 2 and 3 follow 5 s apart.
    await eventually(async () => rotations(m, 'sec').includes(3), 25_000, 'two data key rotations of sec');
    equal(rotations(m, 'sec').slice(0, 2), [2, 3]);
    equal(rotations(m, 'plain'), [], 'a plain network has no key');

    // No endpoints: no peers.
    equal((await inspect(m, 'sec')).Peers, []);
    ok(!('Peers' in (await inspect(m, 'plain'))));

    await cli(m, 'run', '-d', '--name', 'alpha', '--network', 'sec', '--', 'sleep', '600');
    await cli(w, 'run', '-d', '--name', 'bravo', '--network', 'sec', '--', 'sleep', '600');
    await eventually(async () => ((await inspect(m, 'sec')).Peers ?? []).length === 2, 15_000, 'a row per node on sec');
    const peers = (await inspect(m, 'sec')).Peers!;
    equal(peers.map((p) => p.Hostname), ['h0', 'h1']);
    for (const p of peers) ok(STATES.has(p.State), `state ${p.State} of ${p.Hostname}`);

    // The network goes once its endpoints have; rotations of it stop with it.
    await cli(m, 'rm', '-f', 'alpha');
    await cli(w, 'rm', '-f', 'bravo');
    await cli(m, 'network', 'rm', 'sec');
    const seen = rotations(m, 'sec').length;
    await cli(m, 'network', 'create', '-d', 'overlay', '--opt', 'encrypted', 'later');
    await eventually(async () => rotations(m, 'later').includes(2), 15_000, 'a rotation of the next encrypted network');
    is(rotations(m, 'sec').length, seen, 'no rotation of the removed network');
  }),
);

t.run();
