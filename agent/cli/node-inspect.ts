import type { Subcommand } from './index.js';
import type { NodeInspect } from '../api/types.js';
import { DaemonUnreachableError, UsageError } from '../../shared/errors.js';
import { wantsJson, withFormat } from './format.js';
import { eachNode, getNode, resolveSelf } from './node-ref.js';
import { prettyNode } from './node-pretty.js';

interface Args {
  node: string[];
  format?: string;
  pretty?: boolean;
}

/** `agent node inspect`: nodes as `docker inspect` prints them (an array indented by 4), or docker's --pretty summary. */
export const nodeInspect: Subcommand<Args> = {
  command: 'inspect <node..>',
  describe: 'Display detailed information on one or more nodes',
  builder: (y) =>
    withFormat(y)
      .positional('node', { type: 'string', describe: 'self (this node), or a node id, id prefix or hostname' })
      .option('pretty', { type: 'boolean', describe: 'Print the information in a human friendly format' }),
  async run(args, ctx) {
    if (args.pretty && args.format !== undefined) throw new UsageError('--pretty: cannot be combined with --format');
    const json = wantsJson(args.format);
    const client = ctx.client();
    const found: NodeInspect[] = [];
    let failure: unknown;
    await eachNode(args.node, async (ref) => void found.push(await getNode(client, await resolveSelf(client, ref)))).catch((e) => (failure = e));
    // What was found is printed even when some ref failed, as docker does (the
    // failures follow, from the one catch); not when nothing could be asked.
    if (!(failure instanceof DaemonUnreachableError || failure instanceof UsageError)) {
      if (args.pretty) ctx.out(found.map(prettyNode).join(''));
      else ctx.out((json ? JSON.stringify(found) : JSON.stringify(found, null, 4)) + '\n');
    }
    if (failure !== undefined) throw failure;
  },
};
