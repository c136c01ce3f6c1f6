// Services and tasks (issue 8), driven as a user would: real daemons in
// test-bed hosts, `agent service ...` commands, tasks that are processes in
// their own namespaces. Replicas spread and scale; a global service follows
// the nodes; drain and a dead daemon move tasks without duplicates; tasks
// reach each other over the service network; an agent restart leaves its
// tasks running; bad input gets one line and a failing command a rejected
// task that is retried per policy, not in a loop.
import { existsSync, readdirSync } from 'node:fs';
import { suite, ok, is, match } from '../harness.js';
import type { TaskInspect } from '../../agent/api/types.js';
import type { AgentProcess } from '../../agent/testbed/index.js';
import { cli, fails, joinAs, start, swarmOf, tasksOf, token, until, withBed } from './fixtures/cluster.js';

const t = suite('services');

const running = (ts: readonly TaskInspect[]) => ts.filter((x) => x.DesiredState === 'running' && x.Status.State === 'running');

/** Waits until exactly n tasks of service run (and none is on its way); returns them. */
async function converged(a: AgentProcess, service: string, n: number, deadlineMs = 10_000): Promise<TaskInspect[]> {
  return until(`${n} running tasks of ${service}`, deadlineMs, async () => {
    const ts = await tasksOf(a, service);
    const live = running(ts);
    const starting = ts.filter((x) => x.DesiredState === 'running' && x.Status.State !== 'running');
    return live.length === n && starting.length === 0 ? live : undefined;
  });
}

/** The task processes of a service that exist on a host (its own `agent ps`). */
async function localTasks(a: AgentProcess, service: string): Promise<string[]> {
  const out = await cli(a, 'ps', '--format', 'json');
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { Names?: string; Name?: string }))
    .map((r) => r.Names ?? r.Name ?? '')
    .filter((name) => name.startsWith(`${service}.`));
}

t('replicas spread over three hosts, scale to 5 and to 1 within 10 s, reach each other over the service network, survive an agent restart; a task that exits is replaced; bad input gets one line', () =>
  withBed(3, async (ctx) => {
    const [h0, h1, h2] = await swarmOf(ctx, 3);
    await cli(h0!, 'network', 'create', '-d', 'overlay', 'front');

    // The task says its hostname and environment, then sleeps: `service logs` shows what each wrote.
    const id = (await cli(h0!, 'service', 'create', '-d', '--name', 'web', '--replicas', '3', '--network', 'front', '--env', 'GREETING=hello', '--', 'sh', '-c', 'echo "$(hostname) $GREETING"; exec sleep 600')).trim();
    match(id, /^[0-9a-z]{25}$/, `service create prints the id: ${id}`);
    const three = await converged(h0!, 'web', 3);
    is(new Set(three.map((x) => x.NodeHostname)).size, 3, `one task per host: ${three.map((x) => x.NodeHostname).join(',')}`);
    is(new Set(three.map((x) => x.NetworksAttachments[0]!.Addresses[0])).size, 3, 'three addresses');
    const logs = await until('three tasks logged their line', 10_000, async () => {
      const out = await cli(h0!, 'service', 'logs', 'web');
      return out.split('\n').filter((l) => l.includes('hello')).length === 3 ? out : undefined;
    });
    for (const x of three) match(logs, new RegExp(`${x.ContainerName.slice(0, 63).replace(/\./g, '\\.')} hello`), `${x.ContainerName}: hostname is the task name, --env reached it:\n${logs}`);

    const onH1 = three.find((x) => x.NodeHostname === 'h1')!;
    const onH2 = three.find((x) => x.NodeHostname === 'h2')!;
    const ipH2 = onH2.NetworksAttachments[0]!.Addresses[0]!.split('/')[0]!;
    // exec enters the task's UTS namespace as well: its hostname is the task's, as with docker exec.
    is((await cli(h1!, 'exec', onH1.ContainerName, '--', 'hostname')).trim(), onH1.ContainerName.slice(0, 63));
    const ping = await h1!.cli(['exec', onH1.ContainerName, '--', 'ping', '-c', '2', '-i', '0.2', '-W', '2', ipH2], { timeoutMs: 30_000 });
    is(ping.code, 0, `task on h1 pings task on h2 at ${ipH2}: ${ping.stdout} ${ping.stderr}`);

    // Scale up and down, each within 10 s.
    await cli(h0!, 'service', 'scale', '-d', 'web=5');
    const five = await converged(h0!, 'web', 5);
    ok(new Set(five.map((x) => x.NodeHostname)).size === 3, 'five spread over the three hosts');
    await cli(h0!, 'service', 'scale', '-d', 'web=1');
    await converged(h0!, 'web', 1);
    await until('the stopped tasks gone from the hosts', 10_000, async () => {
      const n = (await localTasks(h0!, 'web')).length + (await localTasks(h1!, 'web')).length + (await localTasks(h2!, 'web')).length;
      return n === 1 ? true : undefined;
    });

    // An agent restart leaves its tasks running, and the swarm still counts them.
    await cli(h0!, 'service', 'scale', '-d', 'web=3');
    const before = await converged(h0!, 'web', 3);
    const t1 = before.find((x) => x.NodeHostname === 'h1')!;
    const pidBefore = (await h1!.cli(['inspect', '--format', 'json', t1.ContainerName])).stdout;
    await h1!.stop(5_000);
    const h1b = await start(ctx, 1);
    const after = await converged(h0!, 'web', 3);
    ok(after.some((x) => x.ID === t1.ID), 'the task on the restarted host is the same task');
    const pidAfter = (await h1b.cli(['inspect', '--format', 'json', t1.ContainerName])).stdout;
    is(JSON.parse(pidAfter)[0].Pid, JSON.parse(pidBefore)[0].Pid, 'same process after the restart');

    // A rolling update (stop-first, one at a time): a second network for every task, never fewer than 2 of 3 running.
    await cli(h0!, 'network', 'create', '-d', 'overlay', 'back');
    const old = new Set(after.map((x) => x.ID));
    await cli(h0!, 'service', 'update', '-d', '--network-add', 'back', 'web');
    let fewest = 3;
    const updated = await until('every web task replaced, on front and back', 30_000, async () => {
      const live = running(await tasksOf(h0!, 'web'));
      fewest = Math.min(fewest, live.length);
      return live.length === 3 && live.every((x) => !old.has(x.ID) && x.NetworksAttachments.length === 2) ? live : undefined;
    });
    ok(fewest >= 2, `one task replaced at a time: at least 2 of 3 ran throughout (fewest seen ${fewest})`);
    is(new Set(updated.map((x) => x.NodeHostname)).size, 3, 'still spread');
    // --force replaces them all again with nothing changed.
    await cli(h0!, 'service', 'update', '-d', '--force', 'web');
    const forced = new Set(updated.map((x) => x.ID));
    await until('--force replaced every task', 30_000, async () => {
      const live = running(await tasksOf(h0!, 'web'));
      return live.length === 3 && live.every((x) => !forced.has(x.ID)) ? true : undefined;
    });

    // VIPs: one per network in vip mode, none in dnsrr; published ports put the tasks on ingress too.
    const vips = (JSON.parse(await cli(h0!, 'service', 'inspect', 'web')) as { Endpoint: { VirtualIPs: unknown[] } }[])[0]!.Endpoint.VirtualIPs;
    is(vips.length, 2, 'web: a VIP on front and one on back');
    await cli(h0!, 'service', 'create', '-d', '--name', 'pub', '-p', '8080:80', '--endpoint-mode', 'vip', '--', 'sleep', '600');
    await cli(h0!, 'service', 'create', '-d', '--name', 'rr', '--endpoint-mode', 'dnsrr', '--network', 'front', '--', 'sleep', '600');
    const [pub] = await converged(h0!, 'pub', 1);
    is(pub!.NetworksAttachments.map((n) => n.Name).join(','), 'ingress', 'a publishing service\'s task is on ingress');
    is((JSON.parse(await cli(h0!, 'service', 'inspect', 'rr')) as { Endpoint: { VirtualIPs: unknown[] } }[])[0]!.Endpoint.VirtualIPs.length, 0, 'dnsrr: no VIP');
    await cli(h0!, 'service', 'rm', 'pub', 'rr');

    // A task whose command exits is replaced by a new task (restart condition any, 1 s delay).
    await cli(h0!, 'service', 'create', '-d', '--name', 'brief', '--restart-delay', '1s', '--', 'sh', '-c', 'sleep 1; exit 3');
    const brief = await until('brief failed once and replaced', 20_000, async () => {
      const ts = await tasksOf(h0!, 'brief');
      const failed = ts.find((x) => x.Status.State === 'failed');
      return failed && ts.length >= 2 ? failed : undefined;
    });
    is(brief.Status.Err, 'task: non-zero exit (3)');
    is(brief.Status.ExitCode, 3);

    // Bad input: one line, nothing made.
    match(await fails(h0!, 'service', 'create', '--name', 'x1', '--network', 'nosuch', '--', 'sleep', '1'), /network nosuch not found/);
    await cli(h0!, 'network', 'create', '-d', 'bridge', 'localbr');
    match(await fails(h0!, 'service', 'create', '--name', 'x2', '--network', 'localbr', '--', 'sleep', '1'), /not eligible for services/);
    match(await fails(h0!, 'service', 'create', '--name', 'web', '--', 'sleep', '1'), /service web already exists/);
    match(await fails(h0!, 'service', 'create', '--name', 'x3', '-p', '80:abc', '--', 'sleep', '1'), /publish/);
    const names = (await cli(h0!, 'service', 'ls', '--format', 'json')).split('\n').filter((l) => l.trim() !== '').map((l) => (JSON.parse(l) as { Name: string }).Name);
    is(names.sort().join(','), 'brief,web', 'no service was made by the refused creates');

    // An impossible constraint: created, its task pending with the reason.
    await cli(h0!, 'service', 'create', '-d', '--name', 'nowhere', '--constraint', 'node.hostname==nosuchhost', '--', 'sleep', '600');
    const pending = await until('nowhere pending', 10_000, async () => (await tasksOf(h0!, 'nowhere')).find((x) => x.Status.State === 'pending'));
    match(pending.Status.Message, /no suitable node/);

    // A command that does not exist: the task is rejected with the reason and retried per policy (5 s default delay), not in a loop.
    await cli(h0!, 'service', 'create', '-d', '--name', 'ghost', '--replicas', '1', '--', 'no-such-command-xyz');
    const rejected = await until('ghost rejected', 10_000, async () => (await tasksOf(h0!, 'ghost')).find((x) => x.Status.State === 'rejected'));
    match(rejected.Status.Err ?? '', /executable file not found/);
    await new Promise((r) => setTimeout(r, 6_000));
    const ghosts = await tasksOf(h0!, 'ghost');
    ok(ghosts.length >= 2 && ghosts.length <= 3, `retried after the restart delay, not in a loop: ${ghosts.length} tasks in 6 s`);

    await cli(h0!, 'service', 'rm', 'web', 'brief', 'nowhere', 'ghost');
    await until('every task gone from every host', 15_000, async () => {
      let n = 0;
      for (const a of [h0!, h1b, h2!]) for (const svc of ['web', 'brief', 'nowhere', 'ghost', 'pub', 'rr']) n += (await localTasks(a, svc)).length;
      return n === 0 ? true : undefined;
    });
    // What the tasks owned went with them: no task netns, no sandbox; what stays is the routing mesh's,
    // one ingress sandbox per node and the ingress network's sandbox (docker's ingress-sbox and lb-ingress).
    const bed = ctx.bed!;
    const ingressVni = (JSON.parse(await cli(h0!, 'network', 'inspect', 'ingress')) as { VNI: number }[])[0]!.VNI;
    let left: string[] = [];
    await until('no task or sandbox netns left but the mesh\'s', 10_000, async () => {
      const r = await bed.exec(bed.hosts[0]!, ['ip', 'netns', 'list']);
      left = r.stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => /-(e[0-9a-z]{12}|n\d+)$/.test(n) && n.startsWith(bed.prefix));
      const sandboxes = left.filter((n) => /-n\d+$/.test(n));
      const endpoints = left.filter((n) => /-e[0-9a-z]{12}$/.test(n));
      return sandboxes.every((n) => n.endsWith(`-n${ingressVni}`)) && sandboxes.length === 3 && endpoints.length === 3 ? true : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}: ${left.join(', ')}`);
    });
    // Nor the resolv.conf each task's netns had under /etc/netns (`ip netns del` leaves those).
    const etc = existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((n) => n.startsWith(`${bed.prefix}-`)) : [];
    is(etc.join(','), '', 'no /etc/netns entry left by the tasks');
  }),
);

t('global service: one task per node and one more when a fourth joins; drain moves replicated tasks; a dead daemon gets its tasks rescheduled, and no duplicates once it is back', () =>
  withBed(4, async (ctx) => {
    const [h0, h1, h2] = await swarmOf(ctx, 3);
    await cli(h0!, 'network', 'create', '-d', 'overlay', 'back');
    await cli(h0!, 'service', 'create', '-d', '--name', 'agentd', '--mode', 'global', '--network', 'back', '--', 'sleep', '600');
    const g3 = await converged(h0!, 'agentd', 3);
    is(new Set(g3.map((x) => x.NodeID)).size, 3, 'one per node');
    const h3 = await start(ctx, 3);
    await joinAs(ctx, h3, 3, await token(h0!, 'worker'));
    const g4 = await converged(h0!, 'agentd', 4);
    ok(g4.some((x) => x.NodeHostname === 'h3'), 'the new node got its task');

    await cli(h0!, 'service', 'create', '-d', '--name', 'api', '--replicas', '4', '--network', 'back', '--', 'sleep', '600');
    await converged(h0!, 'api', 4);
    await cli(h0!, 'node', 'update', '--availability', 'drain', 'h1');
    await until('api moved off the drained node', 10_000, async () => {
      const ts = await converged(h0!, 'api', 4);
      return ts.some((x) => x.NodeHostname === 'h1') ? undefined : ts;
    });
    await until('h1 runs no api task', 15_000, async () => ((await localTasks(h1!, 'api')).length === 0 ? true : undefined));
    await cli(h0!, 'node', 'update', '--availability', 'active', 'h1');

    // Kill h2's daemon: its node goes down and its api tasks start elsewhere.
    const onH2 = running(await tasksOf(h0!, 'api')).filter((x) => x.NodeHostname === 'h2');
    ok(onH2.length > 0, 'h2 runs an api task');
    await h2!.kill9();
    // Down after 3 missed 1 s heartbeats; its tasks run elsewhere within 2 heartbeat periods of that.
    await until('h2 marked down', 15_000, async () => {
      const r = (await cli(h0!, 'node', 'ls', '--format', 'json')).split('\n').filter((l) => l.includes('"Hostname":"h2"'));
      return r.some((l) => l.includes('"Status":"Down"')) ? true : undefined;
    });
    const downAt = Date.now();
    await until('api rescheduled away from the dead node', 10_000, async () => {
      const ts = running(await tasksOf(h0!, 'api'));
      return ts.length === 4 && !ts.some((x) => x.NodeHostname === 'h2') ? ts : undefined;
    });
    const movedMs = Date.now() - downAt;
    ok(movedMs <= 2_000, `rescheduled and running ${movedMs} ms after the node was marked down (2 heartbeats: 2000 ms)`);
    // Back: its stale tasks are stopped, the count stays 4 everywhere.
    const h2b = await start(ctx, 2);
    await until('h2 stopped its stale api tasks', 20_000, async () => ((await localTasks(h2b, 'api')).length === 0 ? true : undefined));
    const final = await converged(h0!, 'api', 4);
    let processes = 0;
    for (const a of [h0!, h1!, h2b, h3]) processes += (await localTasks(a, 'api')).length;
    is(processes, 4, 'four api processes in the whole swarm: no duplicates');
    is(final.length, 4);
  }),
);

t.run();
