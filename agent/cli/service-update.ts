import type { Subcommand } from './index.js';
import type { ServiceUpdateRequest } from '../api/types.js';
import { CMD_PARSING } from './container-ref.js';
import { parsePublish, parsePublishRm } from './publish-spec.js';
import { constraintsFlag, envFlag, namesFlag, processEnv, replicasFlag, restartPolicy, updateOrder, withRestartFlags, type RestartArgs } from './service-flags.js';
import { clockOf, waitForConvergence } from './service-progress.js';
import { getService, isGlobal, serviceRefs, servicePath } from './service-ref.js';
import { listOf } from './swarm-flags.js';

interface Args extends RestartArgs {
  service: string | number;
  replicas?: string | string[];
  'network-add'?: string | string[];
  'network-rm'?: string | string[];
  'publish-add'?: string | string[];
  'publish-rm'?: string | string[];
  'env-add'?: string | string[];
  'env-rm'?: string | string[];
  'constraint-add'?: string | string[];
  'constraint-rm'?: string | string[];
  force?: boolean;
  detach?: boolean;
  '--'?: (string | number)[];
}

/**
 * `agent service update`: change a service with docker's flags; what follows
 * `--` replaces the command (docker's --args). Prints the service as given,
 * then, without -d, waits for it to converge as docker does.
 */
export const serviceUpdate: Subcommand<Args> = {
  command: 'update <service>',
  describe: 'Update a service',
  builder: (y) =>
    withRestartFlags(
      y
        .parserConfiguration(CMD_PARSING)
        .positional('service', { type: 'string', describe: 'A service name, id or id prefix' })
        .option('replicas', { type: 'string', describe: 'Number of tasks (replicated services)' })
        .option('network-add', { type: 'string', describe: 'Add a network (repeatable)' })
        .option('network-rm', { type: 'string', describe: 'Remove a network (repeatable)' })
        .option('publish-add', { type: 'string', describe: 'Add or update a published port, as -p of create (repeatable)' })
        .option('publish-rm', { type: 'string', describe: 'Remove a published port by its target port: target, published:target[/protocol] (repeatable)' })
        .option('env-add', { type: 'string', describe: 'Add or update an environment variable: KEY=VALUE, or KEY for its value here (repeatable)' })
        .option('env-rm', { type: 'string', describe: 'Remove an environment variable by name (repeatable)' })
        .option('constraint-add', { type: 'string', describe: 'Add or update a placement constraint (repeatable)' })
        .option('constraint-rm', { type: 'string', describe: 'Remove a constraint (repeatable)' })
        .option('force', { type: 'boolean', describe: 'Force update even if no changes require it' })
        .option('detach', { alias: 'd', type: 'boolean', describe: 'Exit immediately instead of waiting for the service to converge' }),
    ),
  async run(args, ctx) {
    const [ref] = serviceRefs([args.service]);
    const req = updateRequest(args, processEnv);
    const client = ctx.client();
    const service = await getService(client, ref!);
    // Checked here first, as docker does, in docker's words.
    if (req.Replicas !== undefined && isGlobal(service.Spec.Mode)) throw new Error('replicas can only be used with replicated mode');
    const r = await client.post<{ Warnings?: string[] | null }>(servicePath(service.ID, '/update'), req);
    for (const w of r.Warnings ?? []) ctx.err(`${w}\n`);
    ctx.out(`${ref}\n`);
    if (args.detach) return;
    await waitForConvergence(client, service.ID, ctx.err, clockOf(ctx), { before: service, oldFailuresAreHistory: true });
  },
};

/** The request body, every flag checked before anything is sent; only what was given is in it. */
export function updateRequest(args: Args, lookupEnv: (name: string) => string | undefined): ServiceUpdateRequest {
  const req: ServiceUpdateRequest = {};
  const replicas = replicasFlag(args.replicas);
  if (replicas !== undefined) req.Replicas = replicas;
  const lists: [keyof ServiceUpdateRequest, unknown[]][] = [
    ['NetworksAdd', namesFlag(args['network-add'], '--network-add', 'a network name or id')],
    ['NetworksRm', namesFlag(args['network-rm'], '--network-rm', 'a network name or id')],
    ['PortsAdd', listOf(args['publish-add']).map((p) => parsePublish(p, '--publish-add'))],
    ['PortsRm', listOf(args['publish-rm']).map((p) => parsePublishRm(p, '--publish-rm'))],
    ['EnvAdd', envFlag(args['env-add'], '--env-add', lookupEnv)],
    ['EnvRm', namesFlag(args['env-rm'], '--env-rm', 'a variable name')],
    ['ConstraintsAdd', constraintsFlag(args['constraint-add'], '--constraint-add')],
    ['ConstraintsRm', namesFlag(args['constraint-rm'], '--constraint-rm', 'a constraint as it was added')],
  ];
  for (const [key, values] of lists) if (values.length > 0) (req as Record<string, unknown>)[key] = values;
  const restart = restartPolicy(args);
  if (restart) req.RestartPolicy = restart;
  const order = updateOrder(args);
  if (order !== undefined) req.UpdateOrder = order;
  const cmd = (args['--'] ?? []).map(String);
  if (cmd.length > 0) req.Command = cmd;
  if (args.force) req.Force = true;
  return req;
}
