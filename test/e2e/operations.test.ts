// docs/operations.md as an operator follows it: back up a manager's state
// dir with the daemon stopped, lose what came after, restore the copy and
// recover with `swarm init --force-new-cluster`; the workers stay members and
// the swarm takes new work.
import { cpSync, rmSync } from 'node:fs';
import { suite, ok, is, match, eventually } from '../harness.js';
import { cli, init, joinAs, nodeLs, readyCount, runningOn, start, token, withBed } from './fixtures/cluster.js';

const t = suite('operations');

t('a manager backed up with its daemon stopped is restored and recovered with --force-new-cluster; the worker stays; the swarm takes new work', () =>
  withBed(2, async (ctx) => {
    let m = await start(ctx, 0);
    const w = await start(ctx, 1);
    await init(ctx, m, 0);
    await joinAs(ctx, w, 1, await token(m, 'worker'));
    await eventually(async () => (await readyCount(m)) === 2, 15_000, 'two nodes ready');
    await cli(m, 'network', 'create', '-d', 'overlay', '--attachable', 'kept');
    const networks = async () => (await cli(m, 'network', 'ls', '--format', 'json')).split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { Name: string }).Name);

    // Backup: stop the daemon (SIGTERM), copy the state dir whole, start it again.
    const backup = `${m.dir}/backup`;
    is((await m.stop()).code, 0, 'a clean stop');
    cpSync(m.stateDir, backup, { recursive: true, preserveTimestamps: true });
    m = await start(ctx, 0);
    await eventually(async () => (await readyCount(m)) === 2, 15_000, 'back with its worker');
    await cli(m, 'network', 'create', '-d', 'overlay', 'after-backup');
    ok((await networks()).includes('after-backup'));

    // Disaster: the state dir is lost. Restore the copy and recover.
    is((await m.stop()).code, 0);
    rmSync(m.stateDir, { recursive: true, force: true });
    cpSync(backup, m.stateDir, { recursive: true, preserveTimestamps: true });
    m = await start(ctx, 0);
    match(await cli(m, 'swarm', 'init', '--force-new-cluster'), /Swarm initialized/);
    await eventually(async () => (await nodeLs(m)).find((r) => r.Self)?.ManagerStatus === 'Leader', 15_000, 'the restored manager leads');
    const names = await networks();
    ok(names.includes('kept'), `the backed-up network is there: ${names.join(',')}`);
    ok(!names.includes('after-backup'), 'what came after the backup is not');
    // The worker's identity is the restored CA's: it reconnects on its own and takes a task.
    await eventually(async () => (await nodeLs(m)).find((r) => r.Hostname === 'h1')?.Status === 'Ready', 20_000, 'the worker ready under the restored manager');
    await cli(m, 'service', 'create', '-d', '--name', 'after', '--replicas', '2', '--network', 'kept', '--', 'sleep', '300');
    const tasks = await runningOn(m, 'after', 2);
    is(new Set(tasks.map((x) => x.NodeID)).size, 2, 'spread over both nodes');
    // And a network made now spans both nodes again.
    await cli(m, 'network', 'create', '-d', 'overlay', '--attachable', 'fresh');
    await cli(w, 'run', '-d', '--name', 'probe', '--network', 'fresh', '--', 'sleep', '60');
    match(await cli(w, 'ps'), /\bprobe\b/);
  }),
);

t.run();
