import type { Subcommand } from './index.js';
import { setRole } from './node-role.js';

interface Args {
  node: string[];
}

/** `agent node promote`: make workers managers. */
export const nodePromote: Subcommand<Args> = {
  command: 'promote <node..>',
  describe: 'Promote one or more nodes to manager in the swarm',
  builder: (y) => y.positional('node', { type: 'string', describe: 'A node id, id prefix or hostname' }),
  run: (args, ctx) => setRole(ctx, args.node, 'manager', (ref) => `Node ${ref} promoted to a manager in the swarm.\n`),
};
