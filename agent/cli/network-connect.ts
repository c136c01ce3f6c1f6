import type { Subcommand } from './index.js';
import type { NetworkConnectRequest } from '../api/types.js';
import { UsageError } from '../../shared/errors.js';
import { networkPath } from './network-ref.js';
import { lastOf } from './swarm-flags.js';

interface Args {
  network: string;
  container?: string;
  ip?: string | string[];
  netns?: string | string[];
  name?: string | string[];
}

/**
 * `agent network connect NET NAME`: one more overlay interface for an
 * endpoint; `agent network connect NET --netns PATH` attaches a namespace
 * another runtime made (podman, containerd, `ip netns add`).
 */
export const networkConnect: Subcommand<Args> = {
  command: 'connect <network> [container]',
  describe: 'Connect an endpoint (or a network namespace) to a network',
  builder: (y) =>
    y
      .positional('network', { type: 'string', describe: 'A network id, id prefix or name' })
      .positional('container', { type: 'string', describe: 'An endpoint name, id or id prefix' })
      .option('ip', { type: 'string', describe: 'IPv4 address (e.g., 172.30.100.104)' })
      .option('netns', { type: 'string', describe: 'Path of a network namespace to attach, e.g. /run/netns/NAME or /proc/PID/ns/net' })
      .option('name', { type: 'string', describe: 'Name of a --netns endpoint (default: the last part of the path)' }),
  async run(args, ctx) {
    const netns = lastOf(args.netns);
    const name = lastOf(args.name);
    const ip = lastOf(args.ip);
    if ((args.container === undefined) === (netns === undefined)) throw new UsageError('network connect: give either CONTAINER or --netns PATH');
    if (netns !== undefined && !netns.startsWith('/')) throw new UsageError(`--netns: expected an absolute path, got "${netns}"`);
    if (name !== undefined && netns === undefined) throw new UsageError('--name: only with --netns');
    const req: NetworkConnectRequest = {
      ...(args.container !== undefined ? { Container: args.container } : { NetNs: netns! }),
      ...(name !== undefined ? { Name: name } : {}),
      ...(ip !== undefined ? { IPv4Address: ip } : {}),
    };
    await ctx.client().post(`${networkPath(args.network)}/connect`, req);
  },
};
