// The command tree. Every error reaches one catch here that prints one line to
// stderr and sets the exit code (STYLE habit 8): 1 for a failed command, 2 for
// bad usage.
import type { Readable } from 'node:stream';
import yargs, { type Argv } from 'yargs';
import { ApiClient } from '../api/client.js';
import { DEFAULT_HOST, readEnv } from '../env.js';
import { UsageError, oneLine } from '../../shared/errors.js';
import { VERSION } from '../version.js';
import { GROUPS, type Command, type Ctx } from './command.js';
import { daemon } from './daemon.js';
import { exec } from './exec.js';
import { inspect } from './inspect.js';
import { logs } from './logs.js';
import { ps } from './ps.js';
import { rm } from './rm.js';
import { run } from './run.js';
import { service } from './service.js';
import { demo } from './demo.js';
import { info } from './info.js';
import { network } from './network.js';
import { node } from './node.js';
import { swarm } from './swarm.js';
import { version } from './version.js';

/** Every top-level command, in the order `agent --help` lists them within a group. */
export const COMMANDS: readonly Command<never>[] = [daemon, demo, exec, info, inspect, logs, network, node, ps, rm, run, service, swarm, version] as Command<never>[];

/** A subcommand (`agent swarm init`): a command listed under its parent, with docker's aliases if any. */
export type Subcommand<A = Record<string, unknown>> = Omit<Command<A>, 'group'> & { aliases?: readonly string[] };

/** A command that only groups subcommands (`agent swarm`, `agent node`); its builder demands one. */
export type CommandGroup = Command<never> & { subcommands: readonly Subcommand<never>[] };

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** One line of input for a prompt ('' at the end of input); without it every prompt reads ''. */
  readLine?(): Promise<string>;
}

const processIo: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  readLine: async () => {
    // A pipe keeps reading even once paused: unref it after the line, or a
    // stdin left open (`yes | agent ...`) would hold the process. A file has
    // no handle to unref, and ends on its own.
    const stdin = process.stdin as Readable & { ref?(): void; unref?(): void };
    stdin.ref?.();
    try {
      return await readOneLine(stdin);
    } finally {
      stdin.unref?.();
    }
  },
};

/**
 * The next line of input, without its line ending; what is left at the end of
 * input ('' when nothing). The stream is paused again after.
 */
export function readOneLine(input: Readable): Promise<string> {
  if (input.readableEnded) return Promise.resolve('');
  return new Promise((resolve) => {
    let buf = '';
    const finish = (line: string): void => {
      input.off('data', onData).off('end', onEnd).off('error', onEnd);
      input.pause();
      resolve(line.endsWith('\r') ? line.slice(0, -1) : line);
    };
    const onData = (chunk: string): void => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(buf.slice(0, nl));
    };
    const onEnd = (): void => finish(buf);
    input.setEncoding('utf8');
    input.on('data', onData).on('end', onEnd).on('error', onEnd);
    input.resume();
  });
}

function topHelp(): string {
  let s = 'Usage:  agent [OPTIONS] COMMAND\n\nDocker-Swarm style overlay networks for fleets of Linux machines\n';
  for (const g of GROUPS) {
    const cmds = COMMANDS.filter((c) => c.group === g);
    if (cmds.length === 0) continue;
    s += `\n${g}:\n`;
    for (const c of cmds) s += `  ${c.command.split(' ')[0]!.padEnd(12)}${c.describe}\n`;
  }
  s +=
    '\nGlobal Options:\n' +
    '  -H, --host string   Daemon socket to connect to (default "unix:///run/agent/agent.sock", env AGENT_HOST)\n' +
    '  -v, --version       Print version information and quit\n' +
    '  -h, --help          Print usage\n' +
    "\nRun 'agent COMMAND --help' for more information on a command.\n";
  return s;
}

/** The command word: the first argument that is neither an option nor the value of -H/--host. */
function firstPositional(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-H' || a === '--host') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * Add command c to y. A group's subcommands are registered inside its builder,
 * each with a handler of its own: yargs runs only the innermost handler.
 */
function register(y: Argv, c: Subcommand<never>, io: Io, done: (code: number) => void): Argv {
  const subs = (c as Partial<CommandGroup>).subcommands ?? [];
  return y.command({
    command: [c.command, ...(c.aliases ?? [])],
    describe: c.describe,
    builder: (b: Argv) => subs.reduce((acc, s) => register(acc, s, io, done), c.builder ? c.builder(b) : b),
    handler: async (args: Record<string, unknown>) => {
      const ctx: Ctx = {
        host: String(args['host']),
        client: () => new ApiClient({ host: String(args['host']) }),
        out: io.out,
        err: io.err,
        prompt: async (question) => {
          io.err(question);
          return io.readLine ? io.readLine() : '';
        },
      };
      const r = await c.run(args as never, ctx);
      done(typeof r === 'number' ? r : 0);
    },
  });
}

/** Run the CLI on argv (without node and script); resolves to the exit code. */
export async function runCli(argv: string[], io: Io = processIo): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    io.out(`agent version ${VERSION}\n`);
    return 0;
  }
  if (argv.length === 0 || (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h'))) {
    io.out(topHelp());
    return 0;
  }
  const first = firstPositional(argv);
  if (first !== undefined && !COMMANDS.some((c) => c.command.split(' ')[0] === first)) {
    io.err(`agent: '${first}' is not an agent command (see 'agent --help')\n`);
    return 2;
  }
  let code = 0;
  let y: Argv = yargs(argv)
    .scriptName('agent')
    .locale('en')
    .version(false)
    .help('help')
    .alias('help', 'h')
    .option('host', { alias: 'H', type: 'string', global: true, default: readEnv().host ?? DEFAULT_HOST, describe: 'Daemon socket to connect to' })
    .strict()
    .demandCommand(1, 'a command is required')
    .wrap(Math.min(120, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  for (const c of COMMANDS) y = register(y, c, io, (r) => (code = r));
  try {
    let printed = '';
    await y.parseAsync(argv, {}, (_err, _argv, output) => {
      printed = output;
    });
    // yargs hands --help output to the callback instead of printing it.
    if (printed) io.out(printed.endsWith('\n') ? printed : printed + '\n');
    return code;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`agent: ${oneLine(e)} (see 'agent --help')\n`);
      return 2;
    }
    io.err(`agent: ${oneLine(e)}\n`);
    return 1;
  }
}
