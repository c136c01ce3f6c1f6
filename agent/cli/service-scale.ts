import type { Subcommand } from './index.js';
import type { ServiceInspect } from '../api/types.js';
import { DaemonUnreachableError, UsageError, oneLine } from '../../shared/errors.js';
import { MAX_COUNT } from './service-flags.js';
import { clockOf, waitForConvergence } from './service-progress.js';
import { eachService, getService, isGlobal, servicePath } from './service-ref.js';

interface Args {
  specs: (string | number)[];
  detach?: boolean;
}

/**
 * `agent service scale web=5 api=2`: each service's replica count, as docker
 * sets it (a failure does not stop the others); prints "web scaled to 5" per
 * service, then, without -d, waits for each to converge.
 */
export const serviceScale: Subcommand<Args> = {
  command: 'scale <specs..>',
  describe: 'Scale one or multiple replicated services',
  builder: (y) =>
    y
      .parserConfiguration({ 'parse-positional-numbers': false })
      .positional('specs', { type: 'string', describe: 'SERVICE=REPLICAS, one per service' })
      .option('detach', { alias: 'd', type: 'boolean', describe: 'Exit immediately instead of waiting for the services to converge' }),
  async run(args, ctx) {
    const specs = args.specs.map((s) => scaleSpec(String(s)));
    const client = ctx.client();
    const scaled: ServiceInspect[] = [];
    let next = 0;
    let failure: unknown;
    await eachService(
      specs.map((s) => s.ref),
      async (ref) => {
        const { replicas } = specs[next++]!;
        try {
          const service = await getService(client, ref);
          // Checked here first, as docker does, in docker's words.
          if (isGlobal(service.Spec.Mode)) throw new Error('scale can only be used with replicated mode');
          const r = await client.post<{ Warnings?: string[] | null }>(servicePath(service.ID, '/update'), { Replicas: replicas });
          for (const w of r.Warnings ?? []) ctx.err(`${w}\n`);
          ctx.out(`${ref} scaled to ${replicas}\n`);
          scaled.push(service);
        } catch (e) {
          if (e instanceof DaemonUnreachableError || e instanceof UsageError) throw e;
          // docker names the service each failure is about.
          throw new Error(`${ref}: ${oneLine(e)}`);
        }
      },
    ).catch((e) => (failure = e));
    if (failure instanceof DaemonUnreachableError || failure instanceof UsageError) throw failure;
    // As docker: the services that were scaled are waited for, even when another failed.
    if (!args.detach) {
      for (const before of scaled) await waitForConvergence(client, before.ID, ctx.err, clockOf(ctx), { before, oldFailuresAreHistory: true });
    }
    if (failure !== undefined) throw failure;
  },
};

/** SERVICE=REPLICAS, both checked before anything is sent. */
function scaleSpec(arg: string): { ref: string; replicas: number } {
  const eq = arg.indexOf('=');
  const ref = arg.slice(0, eq);
  const n = arg.slice(eq + 1);
  if (eq <= 0 || n === '') throw new UsageError(`invalid scale specifier '${arg}': expected NAME=REPLICAS`);
  if (!/^\d+$/.test(n) || Number(n) > MAX_COUNT) throw new UsageError(`invalid replicas value for ${ref}: expected an integer from 0 to ${MAX_COUNT}, got "${n}"`);
  return { ref, replicas: Number(n) };
}
