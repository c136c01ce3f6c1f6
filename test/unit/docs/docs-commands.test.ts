// The operator's pages say only what the agent does: every `$ agent ...` line
// in their console blocks parses and validates with the real CLI (it gets as
// far as dialling a daemon that is not there), and every message they quote
// as `agent: ...` is one the source prints, up to the values filled in.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, ok, is, equal, match } from '../../harness.js';
import { runCli } from '../../../agent/cli/index.js';

const root = process.cwd();
const PAGES = ['docs/user-guide.md', 'docs/operations.md', 'docs/troubleshooting.md'];
const NOWHERE = `unix://${join(tmpdir(), `agent-docs-${process.pid}`, 'none.sock')}`;
/** Commands that start something rather than ask a daemon. */
const NOT_CLIENT = new Set(['daemon', 'demo']);

/** The commands of a page's ```console blocks: lines after `$ `, with ` \` continuations joined. */
export function consoleCommands(md: string): string[] {
  const out: string[] = [];
  let inConsole = false;
  let pending: string | undefined;
  for (const raw of md.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('```')) {
      inConsole = !inConsole && line === '```console';
      pending = undefined;
      continue;
    }
    if (!inConsole) continue;
    const text = pending !== undefined ? `${pending} ${line}` : line.startsWith('$ ') ? line.slice(2) : undefined;
    if (text === undefined) continue;
    if (text.endsWith('\\')) pending = text.slice(0, -1).trimEnd();
    else {
      pending = undefined;
      out.push(text);
    }
  }
  return out;
}

/** Words of one shell command, as sh splits them: quotes, and the command ends at an unquoted #, |, ;, & or >. */
export function shellWords(cmd: string): string[] {
  const words: string[] = [];
  let w: string | undefined;
  let quote: '"' | "'" | undefined;
  for (const ch of cmd) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else w = (w ?? '') + ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      w ??= '';
    } else if (/\s/.test(ch)) {
      if (w !== undefined) words.push(w);
      w = undefined;
    } else if ('#|;&>'.includes(ch) && w === undefined) {
      break;
    } else w = (w ?? '') + ch;
  }
  if (quote) throw new Error(`unbalanced ${quote} in: ${cmd}`);
  if (w !== undefined) words.push(w);
  return words;
}

/** Messages a page quotes as the agent's: `agent: ...` in code spans and on console lines. */
export function quotedMessages(md: string): string[] {
  const spans = [...md.matchAll(/`(agent: [^`]+)`/g)].map((m) => m[1]!);
  const lines = md.split('\n').filter((l) => l.startsWith('agent: '));
  return [...spans, ...lines].map((m) => m.slice('agent: '.length));
}

/**
 * The fixed text of a quoted message: the pieces between its variable parts
 * (`...`, addresses and ports, numbers, a leading `--flag:`), the ones long
 * enough to mean something alone.
 */
export function fixedPieces(message: string): string[] {
  return message
    .split(/\.\.\.|^--[a-z][a-z-]*:|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b|\b\d+\b/)
    .map((p) => p.trim())
    .filter((p) => p.length >= 16);
}

function sourceText(dir: string): string {
  let s = '';
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) s += sourceText(p);
    else if (name.endsWith('.ts')) s += readFileSync(p, 'utf8') + '\n';
  }
  return s;
}

const t = suite('docs-commands');

t('the parsers read console blocks, shell words and quoted messages as a reader would', () => {
  const md = ['```console', '$ agent network create \\', '  -d overlay net # note', 'NETWORK ID', '```', '```sh', '$ agent nope', '```', 'Says `agent: no such thing: x`.', 'agent: second line'].join('\n');
  equal(consoleCommands(md), ['agent network create -d overlay net # note']);
  equal(shellWords(consoleCommands(md)[0]!), ['agent', 'network', 'create', '-d', 'overlay', 'net']);
  equal(shellWords(`agent run -e "A=b c" -- sh -c 'echo hi | cat'`), ['agent', 'run', '-e', 'A=b c', '--', 'sh', '-c', 'echo hi | cat']);
  equal(quotedMessages(md), ['no such thing: x', 'second line']);
  equal(fixedPieces('192.0.2.10:2377 refused the join: invalid join token'), ['refused the join: invalid join token']);
  equal(fixedPieces('could not connect to a manager at 192.0.2.10:2377: ...'), ['could not connect to a manager at']);
  equal(fixedPieces('--listen-addr: cannot listen on 0.0.0.0:2377: ...'), ['cannot listen on']);
});

for (const page of PAGES) {
  const md = readFileSync(join(root, page), 'utf8');

  t(`${page}: every agent command in it parses and validates with the real CLI`, async () => {
    const cmds = consoleCommands(md).map(shellWords).filter((w) => w[0] === 'agent');
    ok(cmds.length > 0, `${page} shows no agent command`);
    for (const words of cmds) {
      const args = words.slice(1);
      if (NOT_CLIENT.has(args[0] ?? '')) continue;
      let err = '';
      const code = await runCli(['-H', NOWHERE, ...args], { out: () => {}, err: (s) => void (err += s) });
      const shown = `agent ${args.join(' ')}`;
      is(code, 1, `${shown}: expected it to get as far as the daemon, got exit ${code}: ${err.trim()}`);
      match(err, /cannot connect to the agent daemon/, `${shown}: ${err.trim()}`);
    }
  });

  t(`${page}: every message it quotes is one the agent prints`, () => {
    const src = sourceText(join(root, 'agent')) + sourceText(join(root, 'shared'));
    for (const m of quotedMessages(md)) {
      const pieces = fixedPieces(m);
      ok(pieces.length > 0, `quoted message with nothing to check: ${m}`);
      for (const p of pieces) ok(src.includes(p), `${page} quotes "${m}", but no source prints "${p}"`);
    }
  });
}

t.run();
