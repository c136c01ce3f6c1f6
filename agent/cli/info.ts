import type { Command } from './command.js';
import type { SystemInfo } from '../api/types.js';
import { wantsJson, withFormat } from './format.js';

interface Args {
  format?: string;
}

/** `agent info`: what the local daemon is and what it runs. */
export const info: Command<Args> = {
  command: 'info',
  describe: 'Display system-wide information',
  group: 'Commands',
  builder: withFormat,
  async run(args, ctx) {
    const json = wantsJson(args.format);
    const i = await ctx.client().get<SystemInfo>('/info');
    if (json) return void ctx.out(JSON.stringify(i) + '\n');
    ctx.out(
      `Name:          ${i.Name}\nPid:           ${i.Pid}\nRuntime:       ${i.Runtime}\nState dir:     ${i.StateDir}\n` +
        `Name prefix:   ${i.NamePrefix}\nSwarm:         ${i.Swarm.LocalNodeState}\n`,
    );
  },
};
