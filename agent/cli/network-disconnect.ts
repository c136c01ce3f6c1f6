import type { Subcommand } from './index.js';
import { networkPath } from './network-ref.js';

interface Args {
  network: string;
  container: string;
  force?: boolean;
}

/** `agent network disconnect NET NAME`: remove the endpoint's interface on that network and give its address back. */
export const networkDisconnect: Subcommand<Args> = {
  command: 'disconnect <network> <container>',
  describe: 'Disconnect an endpoint from a network',
  builder: (y) =>
    y
      .positional('network', { type: 'string', describe: 'A network id, id prefix or name' })
      .positional('container', { type: 'string', describe: 'An endpoint name, id or id prefix' })
      .option('force', { alias: 'f', type: 'boolean', describe: 'Accepted for docker compatibility (disconnect always forces)' }),
  async run(args, ctx) {
    await ctx.client().post(`${networkPath(args.network)}/disconnect`, { Container: args.container });
  },
};
