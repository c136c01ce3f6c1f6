import type { Subcommand } from './index.js';
import type { ServiceCreateRequest } from '../api/types.js';
import { UsageError } from '../../shared/errors.js';
import { CMD_PARSING, commandOf } from './container-ref.js';
import { PUBLISH_FLAG, parsePublish } from './publish-spec.js';
import { choiceFlag, constraintsFlag, envFlag, namesFlag, processEnv, replicasFlag, restartPolicy, updateOrder, withRestartFlags, type RestartArgs } from './service-flags.js';
import { clockOf, waitForConvergence } from './service-progress.js';
import { listOf, lastOf } from './swarm-flags.js';

interface Args extends RestartArgs {
  name?: string | string[];
  replicas?: string | string[];
  mode?: string | string[];
  network?: string | string[];
  publish?: string | string[];
  'endpoint-mode'?: string | string[];
  env?: string | string[];
  constraint?: string | string[];
  detach?: boolean;
  cmd?: (string | number)[];
  '--'?: (string | number)[];
}

/**
 * `agent service create`: a service with docker's flags; prints its id, then,
 * without -d, waits for it to converge as docker does. The command (docker's
 * IMAGE and its args) comes after `--`, kept verbatim.
 */
export const serviceCreate: Subcommand<Args> = {
  command: 'create [cmd..]',
  describe: 'Create a new service',
  builder: (y) =>
    withRestartFlags(
      y
        .parserConfiguration(CMD_PARSING)
        .option('name', { type: 'string', describe: 'Service name' })
        .option('replicas', { type: 'string', describe: 'Number of tasks (replicated mode; default 1)' })
        .option('mode', { type: 'string', describe: 'Service mode ("replicated" or "global") (default "replicated")' })
        .option('network', { type: 'string', describe: 'Network attachments: an overlay name or id (repeatable)' })
        .option('publish', { alias: 'p', type: 'string', describe: 'Publish a port as a node port: [published:]target[/udp] or published=P,target=T[,protocol=udp][,mode=host] (repeatable)' })
        .option('endpoint-mode', { type: 'string', describe: 'Endpoint mode ("vip" or "dnsrr") (default "vip")' })
        .option('env', { alias: 'e', type: 'string', describe: 'Set environment variables: KEY=VALUE, or KEY for its value here (repeatable)' })
        .option('constraint', { type: 'string', describe: 'Placement constraints, e.g. node.role==worker (repeatable)' })
        .option('detach', { alias: 'd', type: 'boolean', describe: 'Exit immediately instead of waiting for the service to converge' }),
    ).positional('cmd', { type: 'string', array: true, describe: 'The command and its arguments (after --)' }),
  async run(args, ctx) {
    const req = createRequest(args, processEnv);
    const client = ctx.client();
    const r = await client.post<{ ID: string; Warnings?: string[] | null }>('/services/create', req);
    // docker prints each warning as it came, on stderr.
    for (const w of r.Warnings ?? []) ctx.err(`${w}\n`);
    ctx.out(`${r.ID}\n`);
    if (!args.detach) await waitForConvergence(client, r.ID, ctx.err, clockOf(ctx));
  },
};

/** The request body, every flag checked before anything is sent; only what was given is in it. */
export function createRequest(args: Args, lookupEnv: (name: string) => string | undefined): ServiceCreateRequest {
  const name = lastOf(args.name);
  if (name === undefined || name.trim() === '') {
    throw new UsageError(`--name: expected a service name, got ${name === undefined ? 'none' : `"${name}"`}`);
  }
  const mode = choiceFlag(args.mode, '--mode', ['replicated', 'global'] as const);
  const replicas = replicasFlag(args.replicas);
  // docker's words, for the one combination that makes no sense.
  if (mode === 'global' && replicas !== undefined) throw new UsageError('replicas can only be used with replicated mode');
  const networks = namesFlag(args.network, '--network', 'a network name or id');
  const ports = listOf(args.publish).map((p) => parsePublish(p, PUBLISH_FLAG));
  const endpointMode = choiceFlag(args['endpoint-mode'], '--endpoint-mode', ['vip', 'dnsrr'] as const);
  // swarmkit refuses this; said here, before anything is sent, in its words.
  if (endpointMode === 'dnsrr' && ports.some((p) => p.PublishMode === 'ingress')) {
    throw new UsageError("EndpointSpec: port published with ingress mode can't be used with dnsrr mode");
  }
  const env = envFlag(args.env, '-e, --env', lookupEnv);
  const constraints = constraintsFlag(args.constraint, '--constraint');
  const restart = restartPolicy(args);
  const order = updateOrder(args);
  const cmd = commandOf(args);
  if (cmd.length === 0) throw new UsageError('service create: a command is required, e.g. agent service create --name web -- sleep 600');

  const req: ServiceCreateRequest = { Name: name, Command: cmd };
  if (mode === 'global') req.Mode = { Global: {} };
  else if (mode !== undefined || replicas !== undefined) req.Mode = { Replicated: { Replicas: replicas ?? 1 } };
  if (networks.length > 0) req.Networks = networks;
  if (ports.length > 0) req.Ports = ports;
  if (endpointMode !== undefined) req.EndpointMode = endpointMode;
  if (env.length > 0) req.Env = env;
  if (constraints.length > 0) req.Constraints = constraints;
  if (restart) req.RestartPolicy = restart;
  if (order !== undefined) req.UpdateOrder = order;
  return req;
}
