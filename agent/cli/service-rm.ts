import type { Subcommand } from './index.js';
import { eachService, serviceRefs, servicePath } from './service-ref.js';

interface Args {
  service: (string | number)[];
}

/** `agent service rm`: each service removed in turn and printed as given; failures reported together at the end, as docker does. */
export const serviceRm: Subcommand<Args> = {
  command: 'rm <service..>',
  aliases: ['remove'],
  describe: 'Remove one or more services',
  builder: (y) => y.parserConfiguration({ 'parse-positional-numbers': false }).positional('service', { type: 'string', describe: 'A service name, id or id prefix' }),
  async run(args, ctx) {
    const refs = serviceRefs(args.service);
    const client = ctx.client();
    await eachService(refs, async (ref) => {
      await client.delete(servicePath(ref));
      ctx.out(`${ref}\n`);
    });
  },
};
