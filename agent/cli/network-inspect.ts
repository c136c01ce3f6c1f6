import type { Subcommand } from './index.js';
import type { NetworkInspect } from '../api/types.js';
import { DaemonUnreachableError, UsageError } from '../../shared/errors.js';
import { wantsJson, withFormat } from './format.js';
import { networkPath } from './network-ref.js';
import { eachNode } from './node-ref.js';

interface Args {
  network: string[];
  format?: string;
}

/** `agent network inspect`: networks as `docker network inspect` prints them, an array indented by 4. */
export const networkInspect: Subcommand<Args> = {
  command: 'inspect <network..>',
  describe: 'Display detailed information on one or more networks',
  builder: (y) => withFormat(y).positional('network', { type: 'string', describe: 'A network id, id prefix or name' }),
  async run(args, ctx) {
    const json = wantsJson(args.format);
    args.network.forEach(networkPath); // every ref checked before any is asked for
    const client = ctx.client();
    const found: NetworkInspect[] = [];
    let failure: unknown;
    // eachNode is docker's way with several arguments, nodes or not: go on past a failure, report them all at the end.
    await eachNode(args.network, async (ref) => void found.push(await client.get<NetworkInspect>(networkPath(ref)))).catch((e) => (failure = e));
    // What was found is printed even when some ref failed, as docker does (the
    // failures follow, from the one catch); not when nothing could be asked.
    if (!(failure instanceof DaemonUnreachableError || failure instanceof UsageError)) {
      ctx.out((json ? JSON.stringify(found) : JSON.stringify(found, null, 4)) + '\n');
    }
    if (failure !== undefined) throw failure;
  },
};
