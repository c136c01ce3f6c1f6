import type { Subcommand } from './index.js';
import type { NetworkInspect } from '../api/types.js';
import { ApiError, DaemonUnreachableError } from '../../shared/errors.js';
import { confirm } from './command.js';
import { networkPath } from './network-ref.js';
import { eachNode } from './node-ref.js';

interface Args {
  network: string[];
  force?: boolean;
}

/** docker's warning (cli/command/network/remove.go), about the agent's version rather than docker engine's. */
export const INGRESS_WARNING =
  'WARNING! Before removing the routing-mesh network, make sure all the nodes in your swarm run the same agent version. ' +
  'Otherwise, removal may not be effective and functionality of newly created ingress networks will be impaired.\n' +
  'Are you sure you want to continue?';

/**
 * `agent network rm`: remove networks; prints each as given once removed.
 * Removing the routing-mesh (ingress) network asks first, once, before
 * anything is removed; a no removes nothing. -f does not ask, and a network
 * that does not exist is then no error (docker's meaning of -f here).
 */
export const networkRm: Subcommand<Args> = {
  command: 'rm <network..>',
  aliases: ['remove'],
  describe: 'Remove one or more networks',
  builder: (y) =>
    y
      .positional('network', { type: 'string', describe: 'A network id, id prefix or name' })
      .option('force', {
        alias: 'f',
        type: 'boolean',
        describe: 'Do not ask before removing the routing-mesh network, and do not error if the network does not exist',
      }),
  async run(args, ctx) {
    args.network.forEach(networkPath); // every ref checked before any request
    const client = ctx.client();
    if (!args.force && (await anyIngress(client.get.bind(client), args.network)) && !(await confirm(ctx, INGRESS_WARNING))) {
      throw new Error('network rm has been cancelled');
    }
    await eachNode(args.network, async (ref) => {
      try {
        await client.delete(networkPath(ref));
      } catch (e) {
        if (args.force && e instanceof ApiError && e.status === 404) return;
        throw e;
      }
      ctx.out(`${ref}\n`);
    });
  },
};

/**
 * Whether any ref names the routing-mesh network (by its Ingress flag, as
 * docker checks, not by name). A ref that cannot be looked up is left for the
 * removal to report, as docker does.
 */
async function anyIngress(get: <T>(path: string) => Promise<T>, refs: readonly string[]): Promise<boolean> {
  for (const ref of refs) {
    try {
      if ((await get<NetworkInspect>(networkPath(ref))).Ingress) return true;
    } catch (e) {
      if (e instanceof DaemonUnreachableError) throw e;
    }
  }
  return false;
}
