// The control plane as a user drives it (issue 4): real daemons in test-bed
// hosts, `agent swarm init/join`, `agent node ls/rm`, join tokens, a man in
// the middle, a capture of the underlay, and restarts.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { suite, ok, is, match, eventually } from '../harness.js';
import type { AgentProcess, Host } from '../../agent/testbed/index.js';
import { cli, DENO, EXE, fails, HEARTBEAT, info, init, joinAs, nodeLs, readyCount, start, token, withBed } from './fixtures/cluster.js';

const t = suite('swarm');

t('one manager and two workers join; node ls on the manager shows all three ready', () => withBed(3, async (ctx) => {
  const [m, w1, w2] = [await start(ctx, 0), await start(ctx, 1), await start(ctx, 2)];
  await init(ctx, m, 0);
  const tok = await token(m, 'worker');
  match(tok, /^AGTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
  const mgr = `${ctx.bed!.hosts[0]!.ip}:2377`;
  for (const [w, i] of [[w1, 1], [w2, 2]] as const) {
    const out = await cli(w, 'swarm', 'join', '--token', tok, '--advertise-addr', ctx.bed!.hosts[i]!.ip, mgr);
    is(out.trim(), 'This node joined a swarm as a worker.');
  }
  await eventually(async () => (await readyCount(m)) === 3, 15_000, 'three nodes ready');
  const rows = await nodeLs(m);
  is(rows.map((r) => r.Hostname).sort().join(','), 'h0,h1,h2');
  is(rows.find((r) => r.Hostname === 'h0')!.ManagerStatus, 'Leader');
  ok(rows.find((r) => r.Hostname === 'h0')!.Self);
  const table = await cli(m, 'node', 'ls');
  match(table, /^ID\s+HOSTNAME\s+STATUS\s+AVAILABILITY\s+MANAGER STATUS\s+ENGINE VERSION\n/);
  match(table, /\w+ \*\s+h0\s+Ready\s+Active\s+Leader/);
  // A worker cannot read the cluster state.
  const r = await w1.cli(['node', 'ls']);
  is(r.code, 1);
  match(r.stderr, /^agent: This node is not a swarm manager\. Worker nodes can't be used/);
  // Identity on disk: the node key and the membership file are root's alone.
  for (const a of [m, w1]) {
    is(statSync(join(a.stateDir, 'node.key')).mode & 0o777, 0o600);
    is(statSync(join(a.stateDir, 'swarm-state.cbor')).mode & 0o777, 0o600);
  }
}));

t('a wrong token and a rotated-away token are refused, leaving the node out of the swarm; the new token works', () =>
  withBed(2, async (ctx) => {
    const [m, w] = [await start(ctx, 0), await start(ctx, 1)];
    await init(ctx, m, 0);
    const old = await token(m, 'worker');
    const wrong = old.slice(0, -5) + (old.endsWith('aaaaa') ? 'bbbbb' : 'aaaaa');
    const mgr = `${ctx.bed!.hosts[0]!.ip}:2377`;
    match(await fails(w, 'swarm', 'join', '--token', wrong, '--advertise-addr', ctx.bed!.hosts[1]!.ip, mgr), /refused the join: invalid join token/);
    is((await info(w)).Swarm.LocalNodeState, 'inactive');
    ok(!existsSync(join(w.stateDir, 'swarm-state.cbor')), 'nothing written by a refused join');

    const rotated = await cli(m, 'swarm', 'join-token', '--rotate', 'worker');
    match(rotated, /^Successfully rotated worker join token\.\n\nTo add a worker to this swarm, run the following command:\n\n    agent swarm join --token AGTKN-1-/);
    const fresh = await token(m, 'worker');
    ok(fresh !== old, 'rotation changes the token');
    match(await fails(w, 'swarm', 'join', '--token', old, '--advertise-addr', ctx.bed!.hosts[1]!.ip, mgr), /refused the join: invalid join token/);
    is(await joinAs(ctx, w, 1, fresh), 'This node joined a swarm as a worker.');
    match(await fails(w, 'swarm', 'join', '--token', fresh, mgr), /This node is already part of a swarm/);
  }),
);

t('bad input gets one clear line and changes nothing: advertise address not on this host, unreachable manager, port 2377 taken', () =>
  withBed(3, async (ctx) => {
    const [m, a, b] = [await start(ctx, 0), await start(ctx, 1), await start(ctx, 2)];
    match(await fails(m, 'swarm', 'init', '--advertise-addr', '192.0.2.99'), /--advertise-addr: 192\.0\.2\.99 is not an address of this host/);
    is((await info(m)).Swarm.LocalNodeState, 'inactive');
    await init(ctx, m, 0);
    const tok = await token(m, 'manager');
    match(await fails(a, 'swarm', 'join', '--token', tok, '--advertise-addr', ctx.bed!.hosts[1]!.ip, '192.0.2.200:2377'), /could not (connect to a manager at|join through) 192\.0\.2\.200:2377/);
    is((await info(a)).Swarm.LocalNodeState, 'inactive');
    // Something else holds 2377 on host 2: a manager join must fail before the cluster counts on it.
    const squatter = ctx.bed!.spawn(ctx.bed!.hosts[2]!, [process.execPath, '-e', "require('net').createServer(()=>{}).listen(2377,'0.0.0.0')"]);
    try {
      await eventually(async () => (await ctx.bed!.exec(ctx.bed!.hosts[2]!, ['ss', '-ltn', 'sport = :2377'])).stdout.includes('2377'), 5_000, 'the squatter to listen');
      match(await fails(b, 'swarm', 'join', '--token', tok, '--advertise-addr', ctx.bed!.hosts[2]!.ip, `${ctx.bed!.hosts[0]!.ip}:2377`), /--listen-addr: cannot listen on 0\.0\.0\.0:2377/);
      match(await fails(b, 'swarm', 'init', '--advertise-addr', ctx.bed!.hosts[2]!.ip), /--listen-addr: cannot listen on 0\.0\.0\.0:2377/);
      ok(!existsSync(join(b.stateDir, 'swarm-state.cbor')), 'a failed init writes no swarm state');
    } finally {
      await squatter.stop(0);
    }
    is((await info(b)).Swarm.LocalNodeState, 'inactive');
    is((await nodeLs(m)).length, 1, 'the refused joiners are not in the store');
    is((await info(m)).Swarm.Managers, 1);
  }),
);

t('a man in the middle on the path to 2377 answering with its own key is refused by the joiner, which never sends its token', () =>
  withBed(3, async (ctx) => {
    const [m, w, mitm] = [await start(ctx, 0), await start(ctx, 1), await start(ctx, 2)];
    await init(ctx, m, 0);
    // The impostor: a manager of another cluster, with its own CA and key.
    await cli(mitm, 'swarm', 'init', '--advertise-addr', ctx.bed!.hosts[2]!.ip);
    const [h0, h1, h2] = ctx.bed!.hosts as [Host, Host, Host];
    // On the joiner's path: everything it sends to the manager's 2377 goes to the impostor.
    await ctx.bed!.exec(h1, ['nft', `add table ip mitm; add chain ip mitm out { type nat hook output priority -100; }; add rule ip mitm out ip daddr ${h0.ip} tcp dport 2377 dnat to ${h2.ip}:2377`]);
    const tok = await token(m, 'worker');
    const line = await fails(w, 'swarm', 'join', '--token', tok, '--advertise-addr', h1.ip, `${h0.ip}:2377`);
    match(line, /manager certificate does not chain to the CA in the join token \(possible man in the middle\)/);
    is((await info(w)).Swarm.LocalNodeState, 'inactive');
    is((await nodeLs(mitm)).length, 1, 'the impostor admitted nobody');
    // Off the path again, the same token joins the real cluster.
    await ctx.bed!.exec(h1, ['nft', 'delete table ip mitm']);
    is(await joinAs(ctx, w, 1, tok), 'This node joined a swarm as a worker.');
  }),
);

t('node rm --force locks a running worker out: its next connection is refused and it reports why', () =>
  withBed(2, async (ctx) => {
    const [m, w] = [await start(ctx, 0), await start(ctx, 1)];
    await init(ctx, m, 0);
    await joinAs(ctx, w, 1, await token(m, 'worker'));
    await eventually(async () => (await readyCount(m)) === 2, 10_000, 'the worker ready');
    match(await fails(m, 'node', 'rm', 'h1'), /node \w+ is not down and can't be removed/);
    is((await cli(m, 'node', 'rm', '--force', 'h1')).trim(), 'h1');
    is((await nodeLs(m)).length, 1);
    await eventually(async () => (await info(w)).Swarm.LocalNodeState === 'error', 10_000, 'the worker to learn it was removed');
    match((await info(w)).Swarm.Error, /removed from the swarm/);
    ok(w.logTail(50).some((l) => /refused|revoked|removed/.test(l)), 'the worker logged the refusal');
    // It stays out: a restart with its old state is refused again.
    await w.stop();
    const again = await start(ctx, 1);
    await eventually(async () => (await info(again)).Swarm.LocalNodeState === 'error', 10_000, 'the restarted worker refused');
    match((await info(again)).Swarm.Error, /certificate|revoked|removed/);
    is((await nodeLs(m)).length, 1);
  }),
);

t('a restarted daemon rejoins with its state dir and no token; a silent node is marked down', () =>
  withBed(2, async (ctx) => {
    const [m, w] = [await start(ctx, 0), await start(ctx, 1)];
    await init(ctx, m, 0);
    await joinAs(ctx, w, 1, await token(m, 'worker'));
    await eventually(async () => (await readyCount(m)) === 2, 10_000, 'the worker ready');
    await w.stop();
    await eventually(async () => (await nodeLs(m)).find((r) => r.Hostname === 'h1')?.Status === 'Down', 10_000, 'the stopped worker marked down');
    const w2 = await start(ctx, 1);
    await eventually(async () => (await readyCount(m)) === 2, 10_000, 'the restarted worker ready again');
    is((await info(w2)).Swarm.LocalNodeState, 'active');
    // The manager restarts too and finds its cluster in its Raft log.
    await m.stop();
    const m2 = await start(ctx, 0);
    await eventually(async () => (await readyCount(m2)) === 2, 15_000, 'both ready after the manager restarted');
    is((await info(m2)).Swarm.Managers, 1);
  }),
);

t("the store's traffic on the underlay is ciphertext: a marker written through the store never shows in a capture", () =>
  withBed(3, async (ctx) => {
    const as = [await start(ctx, 0), await start(ctx, 1), await start(ctx, 2)];
    await init(ctx, as[0]!, 0);
    const mt = await token(as[0]!, 'manager');
    await joinAs(ctx, as[1]!, 1, mt);
    await joinAs(ctx, as[2]!, 2, mt);
    await eventually(async () => (await info(as[0]!)).Swarm.Managers === 3 && (await readyCount(as[0]!)) === 3, 15_000, 'three managers');
    const h1 = ctx.bed!.hosts[1]!;
    const pcap = join(as[1]!.dir, 'capture.pcap');
    const cap = ctx.bed!.spawn(h1, ['tcpdump', '-Z', 'root', '--immediate-mode', '-i', 'eth0', '-U', '-s', '0', '-w', pcap, 'tcp', 'port', '2377']);
    try {
      await eventually(async () => readFileSync(cap.logPath, 'utf8').includes('listening on'), 5_000, 'tcpdump to start');
      const marker = `marker-${process.pid}-plaintext`;
      // Written on a follower: forwarded to the leader, committed, replicated to every manager.
      await cli(as[1]!, 'node', 'update', '--label-add', `secret=${marker}`, 'h2');
      await eventually(async () => (await cli(as[2]!, 'node', 'inspect', 'h2')).includes(marker), 5_000, 'the label replicated');
      await new Promise<void>((r) => setTimeout(r, 500));
      await cap.stop(2_000);
      const bytes = readFileSync(pcap);
      ok(bytes.length > 2_000, `the capture holds 2377 traffic (${bytes.length} bytes); tcpdump said: ${readFileSync(cap.logPath, 'utf8')}`);
      ok(!bytes.includes(Buffer.from(marker)), 'the marker must not appear in plaintext on the wire');
      ok(!bytes.includes(Buffer.from('secret')), 'nor the label key');
    } finally {
      await cap.stop(0);
    }
  }),
);

t('three managers: kill -9 the leader, a new one leads and writes go on; it restarts and catches up; with two gone writes are refused in one line and nothing acknowledged is lost', () =>
  withBed(4, async (ctx) => {
    const as = [await start(ctx, 0), await start(ctx, 1), await start(ctx, 2)];
    const worker = await start(ctx, 3);
    await init(ctx, as[0]!, 0);
    const mt = await token(as[0]!, 'manager');
    is(await joinAs(ctx, as[1]!, 1, mt), 'This node joined a swarm as a manager.');
    is(await joinAs(ctx, as[2]!, 2, mt), 'This node joined a swarm as a manager.');
    is(await joinAs(ctx, worker, 3, await token(as[0]!, 'worker')), 'This node joined a swarm as a worker.');
    // Three voters (managers joined back to back each get their turn in Raft), all reachable.
    await eventually(async () => (await info(as[0]!)).Swarm.Managers === 3 && (await readyCount(as[0]!)) === 4, 15_000, 'three managers and a worker ready');
    await eventually(async () => (await nodeLs(as[0]!)).filter((r) => r.ManagerStatus === 'Reachable').length === 2, 10_000, 'two reachable followers');
    const acked: string[] = [];
    const write = async (a: AgentProcess, n: number) => {
      await cli(a, 'node', 'update', '--label-add', `k${n}=v${n}`, 'h1');
      acked.push(`k${n}`);
    };
    for (let n = 0; n < 5; n++) await write(as[n % 3]!, n);

    const leaderOf = async (a: AgentProcess) => (await nodeLs(a)).find((r) => r.ManagerStatus === 'Leader')?.Hostname;
    const leader = await leaderOf(as[0]!);
    ok(leader !== undefined);
    const li = Number(leader!.slice(1));
    await as[li]!.kill9();
    const others = [0, 1, 2].filter((i) => i !== li);
    await eventually(async () => ((await leaderOf(as[others[0]!]!)) ?? leader) !== leader, 15_000, 'a new leader');
    for (let n = 5; n < 10; n++) await write(as[others[n % 2]!]!, n);
    const commit = (await info(as[others[0]!]!)).Swarm.Raft!.Commit;
    // The worker's session failed over to the new leader: still ready, as seen by the new leader.
    await eventually(async () => (await nodeLs(as[others[0]!]!)).find((r) => r.Hostname === 'h3')?.Status === 'Ready', 10_000, 'the worker ready under the new leader');
    is((await info(worker)).Swarm.LocalNodeState, 'active');
    // With one of three managers down, another leaving would lose quorum: refused without --force.
    match(await fails(as[others[1]!]!, 'swarm', 'leave'), /quorum/);
    is((await info(as[others[1]!]!)).Swarm.LocalNodeState, 'active');

    // The old leader comes back with its state and catches up.
    as[li] = await start(ctx, li);
    await eventually(async () => ((await info(as[li]!)).Swarm.Raft?.Applied ?? 0) >= commit, 15_000, 'the restarted manager caught up');

    // Two of three gone: no quorum, one clear line, nothing acknowledged lost.
    await as[others[0]!]!.kill9();
    await as[others[1]!]!.kill9();
    await eventually(async () => (await as[li]!.cli(['node', 'ls'])).code !== 0, 10_000, 'writes and reads refused without quorum');
    const line = await fails(as[li]!, 'node', 'update', '--label-add', 'lost=1', 'h1');
    match(line, /the swarm does not have a leader/, line);
    // Recover the survivor alone; every acknowledged write is there.
    match(await cli(as[li]!, 'swarm', 'init', '--force-new-cluster'), /Swarm initialized/);
    await eventually(async () => (await leaderOf(as[li]!)) === `h${li}`, 15_000, 'the survivor leads a new cluster');
    const labels = JSON.parse(await cli(as[li]!, 'node', 'inspect', '--format', 'json', 'h1')) as { Spec: { Labels: Record<string, string> } }[];
    for (const k of acked) ok(k in labels[0]!.Spec.Labels, `acknowledged write ${k} lost`);
    await cli(as[li]!, 'node', 'update', '--label-add', 'after=1', 'h1');
    // docs/operations.md, the rest of the recovery: the lost managers are demoted and removed.
    const lost = others.map((i) => `h${i}`);
    match(await cli(as[li]!, 'node', 'demote', ...lost), /demoted in the swarm/);
    await cli(as[li]!, 'node', 'rm', '--force', ...lost);
    is((await nodeLs(as[li]!)).map((r) => r.Hostname).sort().join(','), [`h${li}`, 'h3'].sort().join(','));
    is((await info(as[li]!)).Swarm.Managers, 1);
    // Still the leader well past a check-quorum round: the label write on a lost manager above made it no voter again.
    await new Promise((r) => setTimeout(r, 3_000));
    await cli(as[li]!, 'node', 'update', '--label-add', 'later=1', 'h3');
    is(await leaderOf(as[li]!), `h${li}`);
  }),
);

t('promote and demote, drain, certificates renewed before expiry, swarm update, a worker leaves and is removed, the last manager will not leave', () =>
  withBed(3, async (ctx) => {
    const [m, a, b] = [await start(ctx, 0), await start(ctx, 1), await start(ctx, 2)];
    await cli(m, 'swarm', 'init', '--advertise-addr', ctx.bed!.hosts[0]!.ip, '--dispatcher-heartbeat', HEARTBEAT, '--cert-expiry', '6s');
    const wt = await token(m, 'worker');
    await joinAs(ctx, a, 1, wt);
    await joinAs(ctx, b, 2, wt);
    await eventually(async () => (await readyCount(m)) === 3, 10_000, 'three ready');

    // Certificates: renewed at two thirds of their 6 s, with no one asking.
    const serial = async () => (JSON.parse(await cli(m, 'node', 'inspect', '--format', 'json', 'h1')) as { Certificate?: { Serial: string } }[])[0]!.Certificate!.Serial;
    const first = await serial();
    await eventually(async () => (await serial()) !== first, 15_000, 'a renewed certificate');
    is((await nodeLs(m)).find((r) => r.Hostname === 'h1')!.Status, 'Ready');

    is((await cli(m, 'node', 'promote', 'h1')).trim(), 'Node h1 promoted to a manager in the swarm.');
    await eventually(async () => (await info(a)).Swarm.ControlAvailable, 15_000, 'h1 running as a manager');
    await eventually(async () => (await nodeLs(a)).find((r) => r.Hostname === 'h1')?.ManagerStatus === 'Reachable', 15_000, 'h1 reachable');
    is((await info(m)).Swarm.Managers, 2);

    is((await cli(a, 'node', 'update', '--availability', 'drain', 'h2')).trim(), 'h2');
    is((await nodeLs(m)).find((r) => r.Hostname === 'h2')!.Availability, 'Drain');

    is((await cli(m, 'node', 'demote', 'h1')).trim(), 'Manager h1 demoted in the swarm.');
    await eventually(async () => !(await info(a)).Swarm.ControlAvailable, 15_000, 'h1 back to a worker');
    is((await nodeLs(m)).find((r) => r.Hostname === 'h1')!.ManagerStatus, '');
    is((await info(m)).Swarm.Managers, 1);

    is((await cli(m, 'swarm', 'update', '--dispatcher-heartbeat', '2s')).trim(), 'Swarm updated.');
    const sw = JSON.parse(await cli(m, 'swarm', 'inspect', '--format', 'json')) as { Spec: { Dispatcher: { HeartbeatPeriodMs: number } } }[];
    is(sw[0]!.Spec.Dispatcher.HeartbeatPeriodMs, 2000);

    is((await cli(b, 'swarm', 'leave')).trim(), 'Node left the swarm.');
    is((await info(b)).Swarm.LocalNodeState, 'inactive');
    await eventually(async () => (await nodeLs(m)).find((r) => r.Hostname === 'h2')?.Status === 'Down', 15_000, 'the leaver marked down');
    await cli(m, 'node', 'rm', 'h2');
    is((await nodeLs(m)).length, 2);
    match(await fails(m, 'swarm', 'leave'), /Removing the last manager erases all current state of the swarm/);
    is((await cli(m, 'swarm', 'leave', '--force')).trim(), 'Node left the swarm.');
    is((await info(m)).Swarm.LocalNodeState, 'inactive');
  }),
);

t('a manager on Deno and a worker as the single executable join a swarm of a Node manager; the Deno manager can lead', () =>
  withBed(3, async (ctx) => {
    const [m, d, x] = [await start(ctx, 0), await start(ctx, 1, DENO), await start(ctx, 2, EXE)];
    await init(ctx, m, 0);
    is(await joinAs(ctx, d, 1, await token(m, 'manager')), 'This node joined a swarm as a manager.');
    is(await joinAs(ctx, x, 2, await token(m, 'worker')), 'This node joined a swarm as a worker.');
    await eventually(async () => (await readyCount(m)) === 3 && (await info(m)).Swarm.Managers === 2, 20_000, 'all three ready, two managers');
    match((await info(d)).Runtime, /^deno /);
    // Leadership moves to the Deno manager when the Node one steps down (demote moves it first).
    is((await cli(d, 'node', 'demote', 'h0')).trim(), 'Manager h0 demoted in the swarm.');
    await eventually(async () => (await nodeLs(d)).find((r) => r.Hostname === 'h1')?.ManagerStatus === 'Leader', 20_000, 'the Deno manager leading');
    await cli(d, 'node', 'update', '--label-add', 'runtime=deno', 'h2');
    await eventually(async () => (await readyCount(d)) === 3, 20_000, 'all ready under the Deno leader');
  }),
);

t.run();
