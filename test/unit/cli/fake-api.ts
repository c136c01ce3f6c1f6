// The fake daemon the CLI command tests drive `agent ...` against: an
// ApiServer on a Unix socket in a temp dir, serving canned answers and
// recording every request the CLI sent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from '../../harness.js';
import { runCli } from '../../../agent/cli/index.js';
import { ApiServer, type Request } from '../../../agent/api/server.js';

/** One request the CLI sent: 'METHOD /path', its query and its body. */
export interface Call {
  call: string;
  query: Record<string, string>;
  body: unknown;
}
export interface State {
  dir: string;
  sock: string;
  server?: ApiServer;
  calls: Call[];
}
export interface Captured {
  code: number;
  out: string;
  err: string;
}

/** A suite whose every test gets a fresh temp dir (named tmpPrefix...) with a socket path in it, and no calls yet; the fake, if any, is closed after. */
export function fakeApiSuite(name: string, tmpPrefix: string) {
  const t = suite<State>(name, { dir: '', sock: '', calls: [] });
  t.before.each((s) => {
    s.dir = mkdtempSync(join(tmpdir(), tmpPrefix));
    s.sock = join(s.dir, 'agent.sock');
    s.calls = [];
  });
  t.after.each(async (s) => {
    await s.server?.close();
    s.server = undefined;
    rmSync(s.dir, { recursive: true, force: true });
  });
  return t;
}

/** Serve routes ('METHOD /path' to an answer, or a function of the request) on the socket, recording each request. */
export async function fake(s: State, routes: Record<string, unknown>): Promise<void> {
  const server = new ApiServer();
  for (const [key, answer] of Object.entries(routes)) {
    const [method, path] = key.split(' ') as [string, string];
    server.route(method, path, (req: Request) => {
      s.calls.push({ call: `${req.method} ${req.path}`, query: Object.fromEntries(req.query), body: req.body });
      return typeof answer === 'function' ? (answer as (r: Request) => unknown)(req) : answer;
    });
  }
  await server.listen(s.sock);
  s.server = server;
}

/** Run `agent -H unix://SOCK argv...`; its exit code and what it wrote. A prompt reads the end of input (''). */
export async function agent(s: State, ...argv: string[]): Promise<Captured> {
  return agentWithInput(s, [], ...argv);
}

/**
 * As agent(), with stdin: each prompt reads the next of `lines`, and the end
 * of input ('') once they run out. Those never read are left in `lines`.
 */
export async function agentWithInput(s: State, lines: string[], ...argv: string[]): Promise<Captured> {
  let out = '';
  let err = '';
  const code = await runCli(['-H', `unix://${s.sock}`, ...argv], {
    out: (x) => void (out += x),
    err: (x) => void (err += x),
    readLine: async () => lines.shift() ?? '',
  });
  return { code, out, err };
}

/** As agent(), with Date.now() answering nowMs meanwhile (commands that print ages read the wall clock). */
export async function agentAt(nowMs: number, s: State, ...argv: string[]): Promise<Captured> {
  const wallNow = Date.now;
  Date.now = () => nowMs;
  try {
    return await agent(s, ...argv);
  } finally {
    Date.now = wallNow;
  }
}
