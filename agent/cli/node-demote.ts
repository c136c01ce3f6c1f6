import type { Subcommand } from './index.js';
import { setRole } from './node-role.js';

interface Args {
  node: string[];
}

/** `agent node demote`: make managers workers. */
export const nodeDemote: Subcommand<Args> = {
  command: 'demote <node..>',
  describe: 'Demote one or more nodes from manager in the swarm',
  builder: (y) => y.positional('node', { type: 'string', describe: 'A node id, id prefix or hostname' }),
  run: (args, ctx) => setRole(ctx, args.node, 'worker', (ref) => `Manager ${ref} demoted in the swarm.\n`),
};
