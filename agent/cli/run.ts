import type { Command } from './command.js';
import type { ContainerLogs, ContainerRunRequest } from '../api/types.js';
import { UsageError } from '../../shared/errors.js';
import { CMD_PARSING, commandOf, containerPath } from './container-ref.js';
import { parseRunPublish } from './publish-spec.js';
import { lastOf, listOf } from './swarm-flags.js';

interface Args {
  detach?: boolean;
  name?: string | string[];
  network?: string | string[];
  ip?: string | string[];
  publish?: string | string[];
  cmd?: (string | number)[];
  '--'?: (string | number)[];
}

const POLL_MS = 100;

/**
 * `agent run`: CMD in a new network namespace with an interface on each
 * --network and one on gwbridge. With -d it prints the endpoint's id; without,
 * it prints CMD's output as it comes and exits with CMD's exit code, as
 * `docker run` does (the endpoint stays until `agent rm`).
 */
export const run: Command<Args> = {
  command: 'run [cmd..]',
  group: 'Common Commands',
  describe: 'Run a command in a new endpoint (its own network namespace)',
  builder: (y) =>
    y
      .parserConfiguration(CMD_PARSING)
      .option('detach', { alias: 'd', type: 'boolean', describe: 'Run in the background and print the endpoint ID' })
      .option('name', { type: 'string', describe: 'Assign a name to the endpoint' })
      .option('network', { type: 'string', describe: 'Connect the endpoint to an attachable overlay network (repeatable)' })
      .option('ip', { type: 'string', describe: 'IPv4 address on the (first) network, e.g. 10.0.9.22' })
      .option('publish', { alias: 'p', type: 'string', describe: 'Publish a port on all of the node\'s addresses: PUBLISHED:TARGET[/tcp|udp|sctp] (repeatable)' })
      .positional('cmd', { type: 'string', array: true, describe: 'The command and its arguments (after --)' }),
  async run(args, ctx) {
    const cmd = commandOf(args);
    if (cmd.length === 0) throw new UsageError('run: a command is required, e.g. agent run --network NET -- sleep 600');
    const name = lastOf(args.name);
    const ip = lastOf(args.ip);
    const ports = parseRunPublish(listOf(args.publish));
    const req: ContainerRunRequest = {
      Networks: listOf(args.network),
      Cmd: cmd,
      ...(name !== undefined ? { Name: name } : {}),
      ...(ip !== undefined ? { IP: ip } : {}),
      ...(ports.length > 0 ? { Ports: ports } : {}),
    };
    const client = ctx.client();
    const { Id } = await client.post<{ Id: string }>('/containers/run', req);
    if (args.detach) return void ctx.out(`${Id}\n`);
    // Attached: follow the output until the command ends.
    let offset = 0;
    for (;;) {
      const l = await client.get<ContainerLogs>(containerPath(Id, `/logs?offset=${offset}`));
      if (l.Data) ctx.out(l.Data);
      offset = l.Offset;
      if (!l.Running && l.Data === '') return l.ExitCode ?? 1;
      if (l.Data === '') await new Promise((r) => setTimeout(r, POLL_MS));
    }
  },
};
