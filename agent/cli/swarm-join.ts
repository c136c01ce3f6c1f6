import type { Subcommand } from './index.js';
import type { SwarmJoinRequest } from '../api/types.js';
import { UsageError } from '../../shared/errors.js';
import { addrFields, lastOf, withAddrFlags, type AddrArgs } from './swarm-flags.js';

interface Args extends AddrArgs {
  remote: string;
  token?: string | string[];
}

/** `agent swarm join`: join this node to a swarm through one of its managers. */
export const swarmJoin: Subcommand<Args> = {
  command: 'join <remote>',
  describe: 'Join a swarm as a node and/or manager',
  builder: (y) =>
    withAddrFlags(y)
      .positional('remote', { type: 'string', describe: 'A manager of the swarm, HOST[:PORT] (port 2377 when absent)' })
      .option('token', { type: 'string', demandOption: true, describe: 'Token for entry into the swarm' }),
  async run(args, ctx) {
    const token = lastOf(args.token) ?? '';
    if (token.trim() === '') throw new UsageError(`--token: expected a join token (see 'agent swarm join-token'), got "${token}"`);
    if (args.remote.trim() === '') throw new UsageError(`HOST[:PORT]: expected a manager's address, got "${args.remote}"`);
    const req: SwarmJoinRequest = { ...addrFields(args), RemoteAddrs: [args.remote], JoinToken: token };
    const { Role } = await ctx.client().post<{ Role: string }>('/swarm/join', req);
    ctx.out(`This node joined a swarm as a ${Role}.\n`);
  },
};
