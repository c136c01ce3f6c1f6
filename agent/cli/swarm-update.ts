import type { Subcommand } from './index.js';
import type { SwarmInspect } from '../api/types.js';
import { UsageError } from '../../shared/errors.js';
import { specFields, withSpecFlags, type SpecArgs } from './swarm-flags.js';

/** `agent swarm update`: change the swarm's settings; those not given keep their value. */
export const swarmUpdate: Subcommand<SpecArgs> = {
  command: 'update',
  describe: 'Update the swarm',
  builder: (y) =>
    withSpecFlags(y).option('key-rotation', { type: 'string', describe: 'Period of gossip and overlay encryption key rotation, default 12h (ns|us|ms|s|m|h)' }),
  async run(args, ctx) {
    const spec = specFields(args);
    if (!spec) throw new UsageError('swarm update: expected at least one of --dispatcher-heartbeat, --cert-expiry, --key-rotation');
    const client = ctx.client();
    const sw = await client.get<SwarmInspect>('/swarm');
    await client.post(`/swarm/update?version=${sw.Version.Index}`, spec);
    ctx.out('Swarm updated.\n');
  },
};
