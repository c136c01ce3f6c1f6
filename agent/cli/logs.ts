import type { Command } from './command.js';
import type { ContainerLogs } from '../api/types.js';
import { containerPath } from './container-ref.js';

interface Args {
  container: string;
  follow?: boolean;
}

const POLL_MS = 200;

/** `agent logs`: what an endpoint's command wrote (stdout and stderr together); -f follows until it ends. */
export const logs: Command<Args> = {
  command: 'logs <container>',
  group: 'Commands',
  describe: 'Fetch the output of an endpoint',
  builder: (y) =>
    y.positional('container', { type: 'string', describe: 'An endpoint name, id or id prefix' }).option('follow', { alias: 'f', type: 'boolean', describe: 'Follow log output' }),
  async run(args, ctx) {
    const client = ctx.client();
    let offset = 0;
    for (;;) {
      const l = await client.get<ContainerLogs>(containerPath(args.container, `/logs?offset=${offset}`));
      if (l.Data) ctx.out(l.Data);
      offset = l.Offset;
      if (l.Data !== '') continue;
      if (!args.follow || !l.Running) return;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  },
};
