import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Command } from './command.js';
import type { ContainerInspect } from '../api/types.js';
import { UsageError } from '../../shared/errors.js';
import { CMD_PARSING, commandOf, containerPath } from './container-ref.js';

interface Args {
  container: string;
  cmd?: (string | number)[];
  '--'?: (string | number)[];
}

/**
 * `agent exec NAME -- CMD`: run CMD inside the endpoint's network namespace
 * and exit with its code. The daemon only names the namespace; the command
 * runs here, as this user (root: entering a netns needs it), with this
 * terminal's stdin.
 */
export const exec: Command<Args> = {
  command: 'exec <container> [cmd..]',
  group: 'Common Commands',
  describe: 'Run a command in a running endpoint',
  builder: (y) =>
    y
      .parserConfiguration(CMD_PARSING)
      .positional('container', { type: 'string', describe: 'An endpoint name, id or id prefix' })
      .positional('cmd', { type: 'string', array: true, describe: 'The command and its arguments (after --)' }),
  async run(args, ctx) {
    const cmd = commandOf(args);
    if (cmd.length === 0) throw new UsageError('exec: a command is required, e.g. agent exec NAME -- ip addr');
    const c = await ctx.client().get<ContainerInspect>(containerPath(args.container, '/json'));
    if (c.State !== 'running') throw new Error(`container ${c.Name} is not running`);
    return new Promise<number>((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', c.Netns, ...cmd], { stdio: ['inherit', 'pipe', 'pipe'] });
      child.stdout.setEncoding('utf8').on('data', (d: string) => ctx.out(d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => ctx.err(d));
      child.once('error', (e) => reject(new Error(`exec: could not run ip netns exec: ${e.message}`)));
      child.once('close', (code, signal) => resolve(exitStatus(code, signal)));
    });
  },
};

/** A child's exit as a shell reports it: its code, or 128 + the number of the signal that ended it. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return signal ? 128 + (constants.signals[signal] ?? 15) : 1;
}
