import type { Command } from './command.js';
import { containerPath } from './container-ref.js';
import { eachNode } from './node-ref.js';

interface Args {
  container: string[];
  force?: boolean;
}

/** `agent rm`: remove endpoints (their netns, interfaces and addresses); -f kills a running one first. */
export const rm: Command<Args> = {
  command: 'rm <container..>',
  group: 'Common Commands',
  describe: 'Remove one or more endpoints',
  builder: (y) =>
    y
      .positional('container', { type: 'string', describe: 'An endpoint name, id or id prefix' })
      .option('force', { alias: 'f', type: 'boolean', describe: 'Force the removal of a running endpoint (uses SIGKILL)' }),
  async run(args, ctx) {
    args.container.forEach((ref) => containerPath(ref)); // every ref checked before anything is removed
    const client = ctx.client();
    await eachNode(args.container, async (ref) => {
      await client.delete(containerPath(ref, args.force ? '?force=1' : ''));
      ctx.out(`${ref}\n`);
    });
  },
};
