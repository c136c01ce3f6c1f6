import type { Command } from './command.js';
import { UsageError } from '../../shared/errors.js';

interface Args {
  hosts: number;
  keep: boolean;
}

/** `agent demo`: a small cluster in network namespaces on this machine. */
export const demo: Command<Args> = {
  command: 'demo',
  describe: 'Run a small cluster in network namespaces on this machine and show what the agent does',
  group: 'Commands',
  builder: (y) =>
    y
      .option('hosts', { type: 'number', default: 3, describe: 'Namespace hosts to start (2-9)' })
      .option('keep', { type: 'boolean', default: false, describe: 'Keep the cluster up until Ctrl-C' }),
  async run(args, ctx) {
    if (!Number.isInteger(args.hosts) || args.hosts < 2 || args.hosts > 9) throw new UsageError(`--hosts: expected an integer from 2 to 9, got ${args.hosts}`);
    if (process.getuid?.() !== 0) throw new Error('agent demo needs root (network namespaces): run as root');
    const { runDemo } = await import('../demo/run-demo.js');
    return runDemo({ hosts: args.hosts, keep: args.keep, out: ctx.out });
  },
};
