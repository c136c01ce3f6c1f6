// The endpoint commands (`agent run`, `ps`, `rm`, `inspect`, `logs`, `exec`,
// `network connect`, `network disconnect`) driven as a user drives them,
// against the fake daemon of fake-api.ts: canned endpoints and logs, and a
// record of every request the CLI sent.
import { equal, is, ok } from '../../harness.js';
import type { Request } from '../../../agent/api/server.js';
import type { ContainerInspect, ContainerLogs, ContainerRunRequest, ContainerSummary } from '../../../agent/api/types.js';
import { ApiError } from '../../../shared/errors.js';
import { runCli } from '../../../agent/cli/index.js';
import { exitStatus } from '../../../agent/cli/exec.js';
import { portsColumn } from '../../../agent/cli/ps.js';
import { agent, agentAt, fake, fakeApiSuite, type Captured, type State } from './fake-api.js';

const t = fakeApiSuite('cli endpoints', 'agent-endpoints-');

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

// `ps` reads the wall clock itself (Date.now()) to say how old an endpoint
// is: its tests pin the clock at NOW_MS, so every age is exact.
const NOW_MS = Date.parse('2025-03-04T05:06:07.890Z');

const agentAtNow = (s: State, ...argv: string[]): Promise<Captured> => agentAt(NOW_MS, s, ...argv);

// Endpoint ids are 25 base36 characters, as the daemon makes them.
function mkEndpoint(name: string, id: string, over: Partial<ContainerSummary> = {}): ContainerSummary {
  return { Id: id, Name: name, Command: ['sleep', '600'], CreatedMs: NOW_MS - 5 * MINUTE_MS, State: 'running', ExitCode: null, Networks: ['a', 'b'], Ports: [], ...over };
}
const WEB = mkEndpoint('web', 'w3bw3bw3bw3bw3bw3bw3bw3b0');
// Attached with `network connect --netns`: another runtime's namespace, no command.
const PODMAN = mkEndpoint('x', 'x0x0x0x0x0x0x0x0x0x0x0x00', { Command: [], CreatedMs: NOW_MS - 30_000, Networks: ['net1'], NetNsPath: '/run/netns/x' });
const PINGER = mkEndpoint('pinger', 'p1ngp1ngp1ngp1ngp1ngp1ng0', {
  Command: ['ping', '-c', '1', '10.0.9.9'],
  CreatedMs: NOW_MS - 2 * HOUR_MS,
  State: 'exited',
  ExitCode: 1,
  Networks: ['a'],
});
const LOOPER = mkEndpoint('looper', 'l00pl00pl00pl00pl00pl00p0', {
  Command: ['sh', '-c', 'while true; do date; sleep 1; done'],
  CreatedMs: NOW_MS - 3 * DAY_MS,
  State: 'exited',
  ExitCode: 0,
  Networks: ['b'],
});
const ENDPOINTS = [WEB, PINGER, PODMAN, LOOPER];
const NEW_ID = 'n3wn3wn3wn3wn3wn3wn3wn3w0';

/** What `inspect` shows of an endpoint: its summary, its netns (as the daemon names it), pid and addresses. */
function mkInspect(c: ContainerSummary): ContainerInspect {
  return {
    ...c,
    Pid: c.State === 'running' ? 4242 : 0,
    Netns: `agt-${c.Id.slice(0, 12)}`,
    NetworkSettings: {
      Networks: Object.fromEntries(
        c.Networks.map((n, i) => [
          n,
          { NetworkID: `${n}netw0rk1d0000000000000`.slice(0, 25), IPAddress: `10.0.${9 + i}.9`, IPPrefixLen: 24, Gateway: `10.0.${9 + i}.1`, MacAddress: `02:42:0a:00:0${9 + i}:09`, Interface: `eth${i}`, MTU: 1450 },
        ]),
      ),
      Gateway: { IPAddress: '172.18.0.2', IPPrefixLen: 16, Gateway: '172.18.0.1', Interface: 'eth-gw' },
    },
  };
}

/** Log answers handed out in turn, one per logs request; the last one again once they run out. */
function inTurn(answers: ContainerLogs[]): () => ContainerLogs {
  let i = 0;
  return () => answers[Math.min(i++, answers.length - 1)]!;
}

const chunk = (Data: string, Offset: number, Running: boolean, ExitCode: number | null = null): ContainerLogs => ({ Data, Offset, Running, ExitCode });

/**
 * A fake daemon over endpoints: run, list (running ones unless all=1),
 * inspect, remove (a running one needs force) and logs, each endpoint found by
 * id, name or id prefix as the daemon finds it; every request recorded. `logs`,
 * if given, answers every logs request, whatever the endpoint; without it an
 * endpoint's log is empty.
 */
async function fakeEndpoints(s: State, opts: { eps?: ContainerSummary[]; logs?: (req: Request) => ContainerLogs } = {}): Promise<void> {
  const eps = opts.eps ?? ENDPOINTS;
  const find = (ref: string): ContainerSummary => {
    const c = eps.find((x) => x.Id === ref || x.Name === ref) ?? eps.find((x) => x.Id.startsWith(ref));
    if (!c) throw new ApiError(`No such container: ${ref}`, 404);
    return c;
  };
  await fake(s, {
    'POST /containers/run': (req: Request) => {
      const name = (req.body as ContainerRunRequest).Name;
      const taken = eps.find((x) => x.Name === name);
      if (taken) {
        throw new ApiError(`Conflict. The container name "/${name}" is already in use by container "${taken.Id}". You have to remove (or rename) that container to be able to reuse that name.`, 409);
      }
      return { Id: NEW_ID, Warnings: [] };
    },
    'GET /containers/json': (req: Request) => (req.query.get('all') === '1' ? eps : eps.filter((c) => c.State === 'running')),
    'GET /containers/:ref/json': (req: Request) => mkInspect(find(req.params['ref']!)),
    // The logs of whatever endpoint is asked for, the one `run` just made included.
    'GET /containers/:ref/logs': (req: Request) => (opts.logs ? opts.logs(req) : find(req.params['ref']!) && chunk('', 0, false, 0)),
    'DELETE /containers/:ref': (req: Request) => {
      const c = find(req.params['ref']!);
      if (c.State === 'running' && req.query.get('force') !== '1') {
        throw new ApiError(`You cannot remove a running container ${c.Id}. Stop the container before attempting removal or force remove`, 409);
      }
      return {};
    },
    'POST /networks/:ref/connect': (req: Request) => {
      if (req.params['ref'] === 'full') throw new ApiError('no available IPv4 addresses on this network\'s address pools: full', 403);
      return {};
    },
    'POST /networks/:ref/disconnect': (req: Request) => {
      if (req.params['ref'] === 'other') throw new ApiError('container web is not connected to network other', 409);
      return {};
    },
  });
}

/** The offsets the CLI asked the logs from, in order. */
const offsets = (s: State): string[] => s.calls.filter((c) => c.call.endsWith('/logs')).map((c) => c.query['offset']!);

/**
 * As agent(), with what happened when: each write to stdout is put in
 * `trace`, where the fake's handlers put the requests they answer.
 */
async function agentTraced(s: State, trace: string[], ...argv: string[]): Promise<Captured> {
  let out = '';
  let err = '';
  const code = await runCli(['-H', `unix://${s.sock}`, ...argv], {
    out: (x) => {
      out += x;
      trace.push(`out ${x}`);
    },
    err: (x) => void (err += x),
  });
  return { code, out, err };
}

const pad = (text: string, width: number): string => text + ' '.repeat(width - text.length);
const usage = (msg: string): Captured => ({ code: 2, out: '', err: `agent: ${msg} (see 'agent --help')\n` });
/** yargs' own complaint (a missing positional, an unknown flag): one line, exit 2, nothing on stdout. */
const isYargsUsage = (r: Captured, what: string): void => equal([r.code, r.out, r.err.split('\n').length, r.err.startsWith('agent: ')], [2, '', 2, true], `${what}: ${r.err}`);

// ---- run --------------------------------------------------------------------

t('run -d: one POST with the name, the networks in order, the address and the command; prints the id', async (s) => {
  await fakeEndpoints(s);
  const r = await agent(s, 'run', '-d', '--name', 'db', '--network', 'a', '--network', 'b', '--ip', '10.0.9.9', '--', 'sleep', '600');
  equal(r, { code: 0, out: `${NEW_ID}\n`, err: '' });
  equal(s.calls, [{ call: 'POST /containers/run', query: {}, body: { Name: 'db', Networks: ['a', 'b'], IP: '10.0.9.9', Cmd: ['sleep', '600'] } }]);
});

t('run -d: no name, no network and no address are left out of the body (Networks is always there)', async (s) => {
  await fakeEndpoints(s);
  equal(await agent(s, 'run', '--detach', '--', 'true'), { code: 0, out: `${NEW_ID}\n`, err: '' });
  // A repeated --name or --ip: the last one wins, as docker's string flags.
  equal(await agent(s, 'run', '-d', '--name', 'one', '--name', 'two', '--ip', '10.0.9.8', '--ip', '10.0.9.9', '--network=a', '--', 'true'), { code: 0, out: `${NEW_ID}\n`, err: '' });
  equal(
    s.calls.map((c) => c.body),
    [
      { Networks: [], Cmd: ['true'] },
      { Name: 'two', Networks: ['a'], IP: '10.0.9.9', Cmd: ['true'] },
    ],
  );
});

t('run: what follows -- reaches Cmd untouched, flags, numbers and quotes included', async (s) => {
  await fakeEndpoints(s);
  const cmd = ['ping', '-c', '1', 'x', '--name=y', '-d', '0600', '1e3', '1.50', '-1', 'a b', '', '--'];
  equal(await agent(s, 'run', '-d', '--network', 'a', '--', ...cmd), { code: 0, out: `${NEW_ID}\n`, err: '' });
  equal(s.calls.map((c) => c.body), [{ Networks: ['a'], Cmd: cmd }]);
});

t('run: the command may also come without --, its words as given', async (s) => {
  await fakeEndpoints(s);
  equal(await agent(s, 'run', '-d', 'sleep', '0600', '1.50', '1e3'), { code: 0, out: `${NEW_ID}\n`, err: '' });
  equal(s.calls.map((c) => c.body), [{ Networks: [], Cmd: ['sleep', '0600', '1.50', '1e3'] }]);
});

t('run without a command: one usage line, exit 2, nothing sent', async (s) => {
  await fakeEndpoints(s);
  const want = usage('run: a command is required, e.g. agent run --network NET -- sleep 600');
  equal(await agent(s, 'run'), want);
  equal(await agent(s, 'run', '-d', '--network', 'a', '--'), want);
  equal(s.calls, []);
});

t("run: the daemon's refusal (a name in use) is one line, exit 1", async (s) => {
  await fakeEndpoints(s);
  equal(await agent(s, 'run', '-d', '--name', 'web', '--', 'sleep', '600'), {
    code: 1,
    out: '',
    err: `agent: Conflict. The container name "/web" is already in use by container "${WEB.Id}". You have to remove (or rename) that container to be able to reuse that name.\n`,
  });
  // Attached, the same: no logs asked for.
  equal((await agent(s, 'run', '--name', 'web', '--', 'true')).code, 1);
  equal(s.calls.map((c) => c.call), ['POST /containers/run', 'POST /containers/run']);
});

t("run attached: follows the logs from each Offset, prints each chunk as it comes, exits with the command's code once it ended and nothing is left", async (s) => {
  const trace: string[] = [];
  const next = inTurn([
    chunk('hello\n', 6, true),
    // Running and nothing new: ask again after a pause.
    chunk('', 6, true),
    // Ended, but output is still to be read: read on.
    chunk('world\n', 12, false, 3),
    chunk('', 12, false, 3),
  ]);
  await fakeEndpoints(s, {
    logs: (req) => {
      trace.push(`GET ${req.path}?offset=${req.query.get('offset')}`);
      return next();
    },
  });
  const r = await agentTraced(s, trace, 'run', '--network', 'a', '--', 'sh', '-c', 'echo hello; sleep 1; echo world; exit 3');
  equal(r, { code: 3, out: 'hello\nworld\n', err: '' });
  equal(trace, [
    `GET /containers/${NEW_ID}/logs?offset=0`,
    'out hello\n',
    `GET /containers/${NEW_ID}/logs?offset=6`,
    `GET /containers/${NEW_ID}/logs?offset=6`,
    'out world\n',
    `GET /containers/${NEW_ID}/logs?offset=12`,
  ]);
  equal(s.calls[0]!.body, { Networks: ['a'], Cmd: ['sh', '-c', 'echo hello; sleep 1; echo world; exit 3'] });
});

t('run attached: a command that ended with 0 and wrote nothing exits 0 at once', async (s) => {
  await fakeEndpoints(s, { logs: inTurn([chunk('', 0, false, 0)]) });
  equal(await agent(s, 'run', '--', 'true'), { code: 0, out: '', err: '' });
  equal(offsets(s), ['0']);
});

t('run -p/--publish: the seed\'s forms as Ports (tcp unless said, udp and sctp too), with or without --network', async (s) => {
  await fakeEndpoints(s);
  equal(await agent(s, 'run', '-d', '-p', '8080:80', '--', 'true'), { code: 0, out: `${NEW_ID}\n`, err: '' });
  equal(await agent(s, 'run', '-d', '--network', 'a', '-p', '8080:80/tcp', '--publish', '8080:80/udp', '-p=9000:9000/sctp', '--', 'true'), { code: 0, out: `${NEW_ID}\n`, err: '' });
  equal(
    s.calls.map((c) => c.body),
    [
      { Networks: [], Cmd: ['true'], Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080 }] },
      {
        Networks: ['a'],
        Cmd: ['true'],
        Ports: [
          { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080 },
          { Protocol: 'udp', TargetPort: 80, PublishedPort: 8080 },
          { Protocol: 'sctp', TargetPort: 9000, PublishedPort: 9000 },
        ],
      },
    ],
  );
});

t('run -p refusals: one usage line naming the flag, exit 2, nothing sent', async (s) => {
  await fakeEndpoints(s);
  const cases: [string[], string][] = [
    [['-p', '192.168.1.100:8080:80'], 'invalid argument "192.168.1.100:8080:80" for "-p, --publish" flag: a host IP is not supported: ports are published on all addresses'],
    [['-p', '80'], 'invalid argument "80" for "-p, --publish" flag: a published port is required: PUBLISHED:TARGET'],
    [['-p', '8080:80/icmp'], 'invalid argument "8080:80/icmp" for "-p, --publish" flag: invalid proto: icmp'],
    [['-p', '8080:80', '-p', '8080:81/tcp'], 'invalid argument "8080:81/tcp" for "-p, --publish" flag: published port 8080/tcp is given twice'],
  ];
  for (const [flags, msg] of cases) equal(await agent(s, 'run', '-d', ...flags, '--', 'true'), usage(msg), flags.join(' '));
  equal(s.calls, []);
});

// ---- ps ---------------------------------------------------------------------

// docker's table: each column as wide as its widest cell + 3 (at least 10), the last unpadded.
const psRow = (widths: number[], cells: string[]): string => cells.map((c, i) => (i < widths.length ? pad(c, widths[i]!) : c)).join('') + '\n';
const PS_HEADER = ['CONTAINER ID', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NETWORKS', 'NAMES'];

t('ps: the running endpoints only (no all=1 asked), newest first; "Attached" for a --netns endpoint', async (s) => {
  await fakeEndpoints(s);
  const r = await agentAtNow(s, 'ps');
  // CONTAINER ID 12 + 3; "sleep 600" quoted 11 + 3; "30 seconds ago" 14 + 3; "Up 5 minutes" 12 + 3; NETWORKS 8 + 3.
  const row = (...cells: string[]): string => psRow([15, 14, 17, 15, 10, 11], cells);
  equal(r, {
    code: 0,
    out:
      row(...PS_HEADER) +
      row('x0x0x0x0x0x0', '""', '30 seconds ago', 'Attached', '', 'net1', 'x') +
      row('w3bw3bw3bw3b', '"sleep 600"', '5 minutes ago', 'Up 5 minutes', '', 'a,b', 'web'),
    err: '',
  });
  equal(s.calls, [{ call: 'GET /containers/json', query: {}, body: undefined }]);
});

t('ps -a: all=1 asked; exited ones as "Exited (N)"; a command over 20 characters cut with an ellipsis, quoted as docker quotes it', async (s) => {
  await fakeEndpoints(s);
  const r = await agentAtNow(s, 'ps', '-a');
  // The widest command: "sh -c \"while true; …" is 23 + 3.
  const row = (...cells: string[]): string => psRow([15, 26, 17, 15, 10, 11], cells);
  equal(r, {
    code: 0,
    out:
      row(...PS_HEADER) +
      row('x0x0x0x0x0x0', '""', '30 seconds ago', 'Attached', '', 'net1', 'x') +
      row('w3bw3bw3bw3b', '"sleep 600"', '5 minutes ago', 'Up 5 minutes', '', 'a,b', 'web') +
      row('p1ngp1ngp1ng', '"ping -c 1 10.0.9.9"', '2 hours ago', 'Exited (1)', '', 'a', 'pinger') +
      row('l00pl00pl00p', '"sh -c \\"while true; …"', '3 days ago', 'Exited (0)', '', 'b', 'looper'),
    err: '',
  });
  equal(s.calls, [{ call: 'GET /containers/json', query: { all: '1' }, body: undefined }]);
  is((await agentAtNow(s, 'ps', '--all')).out, r.out);
});

t('ps --no-trunc: full ids and whole commands', async (s) => {
  await fakeEndpoints(s, { eps: [LOOPER, WEB] });
  const r = await agentAtNow(s, 'ps', '-a', '--no-trunc');
  // The whole command, quoted: 46 + 3; "5 minutes ago" 13 + 3.
  const row = (...cells: string[]): string => psRow([28, 49, 16, 15, 10, 11], cells);
  equal(r, {
    code: 0,
    out:
      row(...PS_HEADER) +
      row(WEB.Id, '"sleep 600"', '5 minutes ago', 'Up 5 minutes', '', 'a,b', 'web') +
      row(LOOPER.Id, '"sh -c \\"while true; do date; sleep 1; done\\""', '3 days ago', 'Exited (0)', '', 'b', 'looper'),
    err: '',
  });
});

t('ps -q: ids only, newest first, 12 characters unless --no-trunc', async (s) => {
  await fakeEndpoints(s);
  equal(await agentAtNow(s, 'ps', '-q'), { code: 0, out: 'x0x0x0x0x0x0\nw3bw3bw3bw3b\n', err: '' });
  equal(await agentAtNow(s, 'ps', '-a', '--quiet', '--no-trunc'), { code: 0, out: `${PODMAN.Id}\n${WEB.Id}\n${PINGER.Id}\n${LOOPER.Id}\n`, err: '' });
  equal(
    s.calls.map((c) => c.query),
    [{}, { all: '1' }],
  );
});

t('ps --format json: one object per line, in the same order; -q gives way; a bad format is an error before any request', async (s) => {
  await fakeEndpoints(s);
  const r = await agentAtNow(s, 'ps', '-a', '--format', 'json', '-q');
  is(r.code, 0, r.err);
  const lines = r.out.split('\n');
  equal([lines.length, lines.pop()], [5, ''], 'four lines, each ending with a newline');
  is(
    lines[1],
    JSON.stringify({
      Command: '"sleep 600"',
      CreatedAt: '2025-03-04T05:01:07.890Z',
      ID: 'w3bw3bw3bw3b',
      Names: 'web',
      Networks: 'a,b',
      Ports: '',
      State: 'running',
      Status: 'Up 5 minutes',
    }),
  );
  equal(
    lines.map((l) => JSON.parse(l) as Record<string, string>).map((o) => [o['ID'], o['Names'], o['State'], o['Status'], o['Networks']]),
    [
      ['x0x0x0x0x0x0', 'x', 'running', 'Attached', 'net1'],
      ['w3bw3bw3bw3b', 'web', 'running', 'Up 5 minutes', 'a,b'],
      ['p1ngp1ngp1ng', 'pinger', 'exited', 'Exited (1)', 'a'],
      ['l00pl00pl00p', 'looper', 'exited', 'Exited (0)', 'b'],
    ],
  );
  is(JSON.parse((await agentAtNow(s, 'ps', '--format', 'json', '--no-trunc')).out.split('\n')[0]!).ID, PODMAN.Id);
  s.calls = [];
  equal(await agentAtNow(s, 'ps', '--format', 'table'), { code: 1, out: '', err: 'agent: --format: expected "json", got "table"\n' });
  equal(s.calls, []);
});

t('ps on no endpoints: the header alone', async (s) => {
  await fakeEndpoints(s, { eps: [] });
  equal(await agentAtNow(s, 'ps'), { code: 0, out: psRow([15, 10, 10, 10, 10, 11], PS_HEADER), err: '' });
  equal(await agentAtNow(s, 'ps', '-q'), { code: 0, out: '', err: '' });
});

t('ps: PORTS as docker shows them: 0.0.0.0:PUBLISHED->TARGET/PROTO, by target, then published, then protocol; in --format json too', async (s) => {
  const tcp = (PublishedPort: number, TargetPort: number, Protocol: 'tcp' | 'udp' | 'sctp' = 'tcp') => ({ Protocol, TargetPort, PublishedPort });
  const dual = mkEndpoint('dual', 'du4ldu4ldu4ldu4ldu4ldu4l0', { Networks: [], Ports: [tcp(8080, 80, 'udp'), tcp(8080, 80)] });
  await fakeEndpoints(s, { eps: [dual] });
  const ports = '0.0.0.0:8080->80/tcp, 0.0.0.0:8080->80/udp';
  // PORTS 42 + 3; NETWORKS (empty) 8 + 3.
  const row = (...cells: string[]): string => psRow([15, 14, 16, 15, 45, 11], cells);
  equal(await agentAtNow(s, 'ps'), { code: 0, out: row(...PS_HEADER) + row('du4ldu4ldu4l', '"sleep 600"', '5 minutes ago', 'Up 5 minutes', ports, '', 'dual'), err: '' });
  is((JSON.parse((await agentAtNow(s, 'ps', '--format', 'json')).out) as Record<string, string>)['Ports'], ports);
});

t("ps PORTS: docker's DisplayablePorts folding: a port published as itself joins its neighbours in a range, per protocol; mapped ones one each, after", () => {
  const p = (PublishedPort: number, TargetPort: number, Protocol: 'tcp' | 'udp' | 'sctp' = 'tcp') => ({ Protocol, TargetPort, PublishedPort });
  const cases: [ReturnType<typeof p>[], string][] = [
    [[], ''],
    [[p(8080, 80)], '0.0.0.0:8080->80/tcp'],
    [[p(81, 81), p(80, 80), p(82, 82)], '0.0.0.0:80-82->80-82/tcp'],
    // A gap ends a range; udp keeps its own; sctp sorts first among equals.
    [[p(80, 80), p(81, 81), p(83, 83), p(53, 53, 'udp'), p(9000, 9000, 'sctp')], '0.0.0.0:80-81->80-81/tcp, 0.0.0.0:53->53/udp, 0.0.0.0:83->83/tcp, 0.0.0.0:9000->9000/sctp'],
    [[p(9090, 90), p(8080, 90), p(80, 80)], '0.0.0.0:80->80/tcp, 0.0.0.0:8080->90/tcp, 0.0.0.0:9090->90/tcp'],
    [[p(9000, 9000, 'udp'), p(9000, 9000, 'sctp'), p(9000, 9000)], '0.0.0.0:9000->9000/sctp, 0.0.0.0:9000->9000/tcp, 0.0.0.0:9000->9000/udp'],
  ];
  for (const [ports, want] of cases) is(portsColumn(ports), want, want);
});

// ---- rm ---------------------------------------------------------------------

t('rm: each endpoint removed in order, each printed as given', async (s) => {
  await fakeEndpoints(s);
  equal(await agent(s, 'rm', 'pinger', 'l00p'), { code: 0, out: 'pinger\nl00p\n', err: '' });
  equal(s.calls, [
    { call: 'DELETE /containers/pinger', query: {}, body: undefined },
    { call: 'DELETE /containers/l00p', query: {}, body: undefined },
  ]);
});

t('rm -f: force=1 on every request', async (s) => {
  await fakeEndpoints(s);
  equal(await agent(s, 'rm', '-f', 'web', 'pinger'), { code: 0, out: 'web\npinger\n', err: '' });
  equal(await agent(s, 'rm', '--force', 'x'), { code: 0, out: 'x\n', err: '' });
  equal(
    s.calls.map((c) => [c.call, c.query]),
    [
      ['DELETE /containers/web', { force: '1' }],
      ['DELETE /containers/pinger', { force: '1' }],
      ['DELETE /containers/x', { force: '1' }],
    ],
  );
});

t('rm: a failure does not stop the others; every failure in one line at the end, exit 1', async (s) => {
  await fakeEndpoints(s);
  const r = await agent(s, 'rm', 'pinger', 'nope', 'web', 'looper');
  equal(r, {
    code: 1,
    out: 'pinger\nlooper\n',
    err: `agent: No such container: nope; You cannot remove a running container ${WEB.Id}. Stop the container before attempting removal or force remove\n`,
  });
  equal(s.calls.map((c) => c.call), ['DELETE /containers/pinger', 'DELETE /containers/nope', 'DELETE /containers/web', 'DELETE /containers/looper']);
});

t('rm: refs are one encoded path segment; none, or an empty one anywhere, is a usage error before any request', async (s) => {
  await fakeEndpoints(s);
  equal(await agent(s, 'rm', 'a/b?c'), { code: 1, out: '', err: 'agent: No such container: a/b?c\n' });
  equal(s.calls.map((c) => c.call), ['DELETE /containers/a%2Fb%3Fc']);
  s.calls = [];
  equal(await agent(s, 'rm', 'pinger', ''), usage('CONTAINER: expected a name, id or id prefix, got ""'));
  isYargsUsage(await agent(s, 'rm'), 'rm');
  equal(s.calls, []);
});

// ---- inspect ----------------------------------------------------------------

t('inspect: an array indented by 4, by name or id prefix; -f json on one line', async (s) => {
  await fakeEndpoints(s);
  equal(await agent(s, 'inspect', 'web', 'p1ng'), { code: 0, out: JSON.stringify([mkInspect(WEB), mkInspect(PINGER)], null, 4) + '\n', err: '' });
  equal(await agent(s, 'inspect', '--format', 'json', 'x'), { code: 0, out: JSON.stringify([mkInspect(PODMAN)]) + '\n', err: '' });
  equal(s.calls.map((c) => c.call), ['GET /containers/web/json', 'GET /containers/p1ng/json', 'GET /containers/x/json']);
});

t('inspect of an unknown endpoint: what was found, then one error line for all that were not, exit 1', async (s) => {
  await fakeEndpoints(s);
  equal(await agent(s, 'inspect', 'nope'), { code: 1, out: '[]\n', err: 'agent: No such container: nope\n' });
  equal(await agent(s, 'inspect', 'nope', 'web', 'gone'), {
    code: 1,
    out: JSON.stringify([mkInspect(WEB)], null, 4) + '\n',
    err: 'agent: No such container: nope; No such container: gone\n',
  });
});

t('inspect: an empty ref anywhere, or a bad format, is refused before any request', async (s) => {
  await fakeEndpoints(s);
  equal(await agent(s, 'inspect', 'web', ''), usage('CONTAINER: expected a name, id or id prefix, got ""'));
  equal(await agent(s, 'inspect', '-f', 'yaml', 'web'), { code: 1, out: '', err: 'agent: --format: expected "json", got "yaml"\n' });
  isYargsUsage(await agent(s, 'inspect'), 'inspect');
  equal(s.calls, []);
});

// ---- logs -------------------------------------------------------------------

t('logs: from offset 0, each next read from the Offset given, until a read brings nothing', async (s) => {
  await fakeEndpoints(s, { logs: inTurn([chunk('one\n', 4, true), chunk('two\n', 8, true), chunk('', 8, true)]) });
  equal(await agent(s, 'logs', 'web'), { code: 0, out: 'one\ntwo\n', err: '' });
  equal(offsets(s), ['0', '4', '8']);
  ok(s.calls.every((c) => c.call === 'GET /containers/web/logs'));
});

t("logs: an ended command's output, and its exit code is not logs' own", async (s) => {
  await fakeEndpoints(s, { logs: inTurn([chunk('boom\n', 5, false, 3), chunk('', 5, false, 3)]) });
  equal(await agent(s, 'logs', 'pinger'), { code: 0, out: 'boom\n', err: '' });
  equal(offsets(s), ['0', '5']);
});

t('logs -f: keeps asking while the command runs, stops once it ended and nothing is left', async (s) => {
  const trace: string[] = [];
  const next = inTurn([
    chunk('a\n', 2, true),
    chunk('', 2, true),
    chunk('b\n', 4, true),
    // Ended with its last words still unread.
    chunk('c\n', 6, false, 0),
    chunk('', 6, false, 0),
    chunk('never read\n', 17, false, 0),
  ]);
  await fakeEndpoints(s, {
    logs: (req) => {
      trace.push(`offset=${req.query.get('offset')}`);
      return next();
    },
  });
  const r = await agentTraced(s, trace, 'logs', '--follow', 'web');
  equal(r, { code: 0, out: 'a\nb\nc\n', err: '' });
  equal(trace, ['offset=0', 'out a\n', 'offset=2', 'offset=2', 'out b\n', 'offset=4', 'out c\n', 'offset=6']);
});

t('logs of an unknown endpoint: one line, exit 1; no endpoint, or an empty one: usage', async (s) => {
  await fakeEndpoints(s);
  equal(await agent(s, 'logs', '-f', 'nope'), { code: 1, out: '', err: 'agent: No such container: nope\n' });
  equal(await agent(s, 'logs', ''), usage('CONTAINER: expected a name, id or id prefix, got ""'));
  isYargsUsage(await agent(s, 'logs'), 'logs');
  equal(s.calls.map((c) => c.call), ['GET /containers/nope/logs']);
});

// ---- exec -------------------------------------------------------------------
// Only the paths that end before `ip netns exec` is spawned: the running case
// runs a real command in a real namespace, which is the e2e tests' to cover.

t('exec into an endpoint that is not running: one line naming it, exit 1, nothing run', async (s) => {
  await fakeEndpoints(s, { eps: [{ ...WEB, State: 'exited', ExitCode: 0 }] });
  equal(await agent(s, 'exec', 'web', '--', 'echo', 'hi'), { code: 1, out: '', err: 'agent: container web is not running\n' });
  // By id prefix: the name, as the daemon gave it.
  equal(await agent(s, 'exec', 'w3b', 'echo', 'hi'), { code: 1, out: '', err: 'agent: container web is not running\n' });
  equal(s.calls.map((c) => c.call), ['GET /containers/web/json', 'GET /containers/w3b/json']);
});

t('exec: no command is a usage error before any request; an unknown endpoint one line, exit 1', async (s) => {
  await fakeEndpoints(s);
  const want = usage('exec: a command is required, e.g. agent exec NAME -- ip addr');
  equal(await agent(s, 'exec', 'web'), want);
  equal(await agent(s, 'exec', 'web', '--'), want);
  isYargsUsage(await agent(s, 'exec'), 'exec');
  equal(s.calls, []);
  equal(await agent(s, 'exec', 'nope', '--', 'ip', 'addr'), { code: 1, out: '', err: 'agent: No such container: nope\n' });
});

t("exitStatus: the command's code, or 128 + the number of the signal that ended it, as a shell reports it", () => {
  equal(
    [exitStatus(0, null), exitStatus(3, null), exitStatus(null, 'SIGINT'), exitStatus(null, 'SIGKILL'), exitStatus(null, 'SIGSEGV'), exitStatus(null, 'SIGTERM'), exitStatus(null, null)],
    [0, 3, 130, 137, 139, 143, 1],
  );
});

// ---- network connect / disconnect -------------------------------------------

t('network connect NET CONTAINER: one POST naming the endpoint; nothing printed', async (s) => {
  await fakeEndpoints(s);
  equal(await agent(s, 'network', 'connect', 'net1', 'web'), { code: 0, out: '', err: '' });
  equal(await agent(s, 'network', 'connect', '--ip', '10.0.9.22', 'net1', 'w3b'), { code: 0, out: '', err: '' });
  equal(await agent(s, 'network', 'connect', 'a/b', 'web'), { code: 0, out: '', err: '' });
  equal(s.calls, [
    { call: 'POST /networks/net1/connect', query: {}, body: { Container: 'web' } },
    { call: 'POST /networks/net1/connect', query: {}, body: { Container: 'w3b', IPv4Address: '10.0.9.22' } },
    { call: 'POST /networks/a%2Fb/connect', query: {}, body: { Container: 'web' } },
  ]);
});

t("network connect --netns PATH: another runtime's namespace, with its name and address if given", async (s) => {
  await fakeEndpoints(s);
  equal(await agent(s, 'network', 'connect', 'net1', '--netns', '/run/netns/x', '--name', 'x'), { code: 0, out: '', err: '' });
  equal(await agent(s, 'network', 'connect', '--netns=/proc/4242/ns/net', '--ip', '10.0.9.23', 'net1'), { code: 0, out: '', err: '' });
  equal(
    s.calls.map((c) => [c.call, c.body]),
    [
      ['POST /networks/net1/connect', { NetNs: '/run/netns/x', Name: 'x' }],
      ['POST /networks/net1/connect', { NetNs: '/proc/4242/ns/net', IPv4Address: '10.0.9.23' }],
    ],
  );
});

t('network connect: both a container and --netns, or neither, a relative --netns, or --name without it: one usage line, nothing sent', async (s) => {
  await fakeEndpoints(s);
  const either = usage('network connect: give either CONTAINER or --netns PATH');
  equal(await agent(s, 'network', 'connect', 'net1', 'web', '--netns', '/run/netns/x'), either);
  equal(await agent(s, 'network', 'connect', 'net1'), either);
  equal(await agent(s, 'network', 'connect', 'net1', '--ip', '10.0.9.22'), either);
  equal(await agent(s, 'network', 'connect', 'net1', '--netns', 'relative/path'), usage('--netns: expected an absolute path, got "relative/path"'));
  equal(await agent(s, 'network', 'connect', 'net1', 'web', '--name', 'x'), usage('--name: only with --netns'));
  equal(await agent(s, 'network', 'connect', '', 'web'), usage('NETWORK: expected a network id, id prefix or name, got ""'));
  isYargsUsage(await agent(s, 'network', 'connect'), 'connect');
  equal(s.calls, []);
});

t("network connect: the daemon's refusal is one line, exit 1", async (s) => {
  await fakeEndpoints(s);
  equal(await agent(s, 'network', 'connect', 'full', 'web'), { code: 1, out: '', err: "agent: no available IPv4 addresses on this network's address pools: full\n" });
});

t('network disconnect NET CONTAINER: one POST naming the endpoint; -f accepted, the same request', async (s) => {
  await fakeEndpoints(s);
  equal(await agent(s, 'network', 'disconnect', 'net1', 'web'), { code: 0, out: '', err: '' });
  equal(await agent(s, 'network', 'disconnect', '-f', 'net1', 'web'), { code: 0, out: '', err: '' });
  equal(await agent(s, 'network', 'disconnect', 'other', 'web'), { code: 1, out: '', err: 'agent: container web is not connected to network other\n' });
  equal(
    s.calls.map((c) => [c.call, c.body]),
    [
      ['POST /networks/net1/disconnect', { Container: 'web' }],
      ['POST /networks/net1/disconnect', { Container: 'web' }],
      ['POST /networks/other/disconnect', { Container: 'web' }],
    ],
  );
  s.calls = [];
  isYargsUsage(await agent(s, 'network', 'disconnect', 'net1'), 'disconnect without a container');
  equal(s.calls, []);
});

// ---- no daemon --------------------------------------------------------------

t('no daemon: one line for every endpoint command, and nothing on stdout even for inspect', async (s) => {
  const err = `agent: cannot connect to the agent daemon at unix://${s.sock}: is the daemon running?\n`;
  for (const argv of [
    ['run', '-d', '--', 'true'],
    ['run', '--', 'true'],
    ['ps', '-a'],
    ['rm', 'a', 'b'],
    ['inspect', 'a', 'b'],
    ['logs', '-f', 'a'],
    ['exec', 'a', '--', 'true'],
    ['network', 'connect', 'n', 'a'],
    ['network', 'disconnect', 'n', 'a'],
  ]) {
    equal(await agent(s, ...argv), { code: 1, out: '', err }, argv.join(' '));
  }
});

t.run();
