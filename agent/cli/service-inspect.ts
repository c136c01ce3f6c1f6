import type { Subcommand } from './index.js';
import type { NetworkInspect, ServiceInspect } from '../api/types.js';
import { DaemonUnreachableError, UsageError } from '../../shared/errors.js';
import { wantsJson, withFormat } from './format.js';
import { prettyService } from './service-pretty.js';
import { eachService, lookupService, noSuchService, serviceRefs } from './service-ref.js';

interface Args {
  service: (string | number)[];
  format?: string;
  pretty?: boolean;
}

/** `agent service inspect`: services as `docker inspect` prints them (an array indented by 4), or docker's --pretty summary. */
export const serviceInspect: Subcommand<Args> = {
  command: 'inspect <service..>',
  describe: 'Display detailed information on one or more services',
  builder: (y) =>
    withFormat(y)
      .parserConfiguration({ 'parse-positional-numbers': false })
      .positional('service', { type: 'string', describe: 'A service name, id or id prefix' })
      .option('pretty', { type: 'boolean', describe: 'Print the information in a human friendly format' }),
  async run(args, ctx) {
    if (args.pretty && args.format !== undefined) throw new UsageError('--pretty: cannot be combined with --format');
    const json = wantsJson(args.format);
    const refs = serviceRefs(args.service);
    const client = ctx.client();
    const found: ServiceInspect[] = [];
    let failure: unknown;
    await eachService(refs, async (ref) => {
      const s = await lookupService(client, ref);
      if (!s) throw new Error(noSuchService(ref));
      found.push(s);
    }).catch((e) => (failure = e));
    // What was found is printed even when some ref failed, as docker does (the
    // failures follow, from the one catch); not when nothing could be asked.
    if (!(failure instanceof DaemonUnreachableError || failure instanceof UsageError)) {
      if (args.pretty) {
        // docker names the networks; their ids are what a service may hold.
        const names = new Map<string, string>();
        if (found.some((s) => (s.Spec.TaskTemplate.Networks ?? []).length > 0)) {
          const nets = await client.get<NetworkInspect[]>('/networks').catch(() => [] as NetworkInspect[]);
          for (const n of nets) names.set(n.Id, n.Name);
        }
        ctx.out(found.map((s) => prettyService(s, (t) => names.get(t) ?? t)).join(''));
      } else ctx.out((json ? JSON.stringify(found) : JSON.stringify(found, null, 4)) + '\n');
    }
    if (failure !== undefined) throw failure;
  },
};
