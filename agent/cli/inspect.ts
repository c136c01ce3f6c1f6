import type { Command } from './command.js';
import type { ContainerInspect } from '../api/types.js';
import { DaemonUnreachableError, UsageError } from '../../shared/errors.js';
import { wantsJson, withFormat } from './format.js';
import { containerPath } from './container-ref.js';
import { eachNode } from './node-ref.js';

interface Args {
  container: string[];
  format?: string;
}

/** `agent inspect`: endpoints as JSON (docker's container inspect, cut down), an array indented by 4. */
export const inspect: Command<Args> = {
  command: 'inspect <container..>',
  group: 'Commands',
  describe: 'Display detailed information on one or more endpoints',
  builder: (y) => withFormat(y).positional('container', { type: 'string', describe: 'An endpoint name, id or id prefix' }),
  async run(args, ctx) {
    const json = wantsJson(args.format);
    args.container.forEach((ref) => containerPath(ref)); // every ref checked before any is asked for
    const client = ctx.client();
    const found: ContainerInspect[] = [];
    let failure: unknown;
    await eachNode(args.container, async (ref) => void found.push(await client.get<ContainerInspect>(containerPath(ref, '/json')))).catch((e) => (failure = e));
    if (!(failure instanceof DaemonUnreachableError || failure instanceof UsageError)) ctx.out((json ? JSON.stringify(found) : JSON.stringify(found, null, 4)) + '\n');
    if (failure !== undefined) throw failure;
  },
};
