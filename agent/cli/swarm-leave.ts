import type { Subcommand } from './index.js';

interface Args {
  force?: boolean;
}

/** `agent swarm leave`: take this node out of its swarm. */
export const swarmLeave: Subcommand<Args> = {
  command: 'leave',
  describe: 'Leave the swarm',
  builder: (y) => y.option('force', { alias: 'f', type: 'boolean', describe: 'Force this node to leave the swarm, ignoring warnings' }),
  async run(args, ctx) {
    await ctx.client().post(args.force ? '/swarm/leave?force=true' : '/swarm/leave');
    ctx.out('Node left the swarm.\n');
  },
};
