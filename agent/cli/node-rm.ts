import type { Subcommand } from './index.js';
import { eachNode, nodePath } from './node-ref.js';

interface Args {
  node: string[];
  force?: boolean;
}

/** `agent node rm`: remove nodes from the swarm; prints each as given once removed. */
export const nodeRm: Subcommand<Args> = {
  command: 'rm <node..>',
  aliases: ['remove'],
  describe: 'Remove one or more nodes from the swarm',
  builder: (y) =>
    y
      .positional('node', { type: 'string', describe: 'A node id, id prefix or hostname' })
      .option('force', { alias: 'f', type: 'boolean', describe: 'Force remove a node from the swarm' }),
  async run(args, ctx) {
    const client = ctx.client();
    await eachNode(args.node, async (ref) => {
      await client.delete(nodePath(ref) + (args.force ? '?force=true' : ''));
      ctx.out(`${ref}\n`);
    });
  },
};
