import type { Subcommand } from './index.js';
import type { SwarmInspect } from '../api/types.js';
import { UsageError } from '../../shared/errors.js';
import { joinText, ownManagerAddr, type JoinRole } from './swarm-join-text.js';

interface Args {
  role: string;
  quiet?: boolean;
  rotate?: boolean;
}

/** `agent swarm join-token`: print (and with --rotate, first replace) the token a worker or manager joins with. */
export const swarmJoinToken: Subcommand<Args> = {
  command: 'join-token <role>',
  describe: 'Manage join tokens',
  builder: (y) =>
    y
      .positional('role', { type: 'string', describe: '"worker" or "manager"' })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Only display token' })
      .option('rotate', { type: 'boolean', describe: 'Rotate join token' }),
  async run(args, ctx) {
    if (args.role !== 'worker' && args.role !== 'manager') {
      throw new UsageError(`join-token: expected role "worker" or "manager", got "${args.role}"`);
    }
    const role: JoinRole = args.role;
    const client = ctx.client();
    if (args.rotate) {
      const before = await client.get<SwarmInspect>('/swarm');
      const flag = role === 'worker' ? 'rotateWorkerToken' : 'rotateManagerToken';
      await client.post(`/swarm/update?version=${before.Version.Index}&${flag}=true`, {});
      if (!args.quiet) ctx.out(`Successfully rotated ${role} join token.\n\n`);
    }
    // Read again after a rotation: the update changed the tokens.
    const sw = await client.get<SwarmInspect>('/swarm');
    if (args.quiet) return void ctx.out(`${role === 'worker' ? sw.JoinTokens.Worker : sw.JoinTokens.Manager}\n`);
    ctx.out(joinText(role, sw, await ownManagerAddr(client)));
  },
};
