import type { Command } from './command.js';
import type { SystemInfo } from '../api/types.js';

interface Args {
  format?: string;
}

/** `agent info`: what the local daemon is and what it runs. */
export const info: Command<Args> = {
  command: 'info',
  describe: 'Display system-wide information',
  group: 'Commands',
  builder: (y) => y.option('format', { alias: 'f', type: 'string', describe: "Format the output: 'json'" }),
  async run(args, ctx) {
    const i = await ctx.client().get<SystemInfo>('/info');
    if (args.format === 'json') return void ctx.out(JSON.stringify(i) + '\n');
    if (args.format !== undefined) throw new Error(`--format: expected "json", got "${args.format}"`);
    ctx.out(
      `Name:          ${i.Name}\nPid:           ${i.Pid}\nRuntime:       ${i.Runtime}\nState dir:     ${i.StateDir}\n` +
        `Name prefix:   ${i.NamePrefix}\nSwarm:         ${i.Swarm.LocalNodeState}\n`,
    );
  },
};
