import type { Subcommand } from './index.js';
import type { SwarmInspect } from '../api/types.js';
import { wantsJson, withFormat } from './format.js';

interface Args {
  format?: string;
}

/** `agent swarm inspect`: the swarm object (managers only), as `docker inspect` prints one: an array, indented by 4. */
export const swarmInspect: Subcommand<Args> = {
  command: 'inspect',
  describe: 'Display detailed information on the swarm',
  builder: withFormat,
  async run(args, ctx) {
    const json = wantsJson(args.format);
    const sw = await ctx.client().get<SwarmInspect>('/swarm');
    ctx.out((json ? JSON.stringify([sw]) : JSON.stringify([sw], null, 4)) + '\n');
  },
};
