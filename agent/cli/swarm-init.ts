import type { Subcommand } from './index.js';
import type { SwarmInitRequest, SwarmInspect } from '../api/types.js';
import { addrFields, cidrFlag, intFlag, listOf, specFields, withAddrFlags, withSpecFlags, type AddrArgs, type SpecArgs } from './swarm-flags.js';
import { joinText, ownManagerAddr } from './swarm-join-text.js';

interface Args extends AddrArgs, SpecArgs {
  'data-path-port'?: string | string[];
  'default-addr-pool'?: string | string[];
  'default-addr-pool-mask-length'?: string | string[];
  'force-new-cluster'?: boolean;
}

/** `agent swarm init`: make this node the first manager of a new swarm. */
export const swarmInit: Subcommand<Args> = {
  command: 'init',
  describe: 'Initialize a swarm',
  builder: (y) =>
    withSpecFlags(withAddrFlags(y))
      .option('data-path-port', { type: 'string', describe: 'UDP port of data path (VXLAN) traffic; 0 or none for the default, 4789' })
      .option('default-addr-pool', { type: 'string', describe: 'Default address pool in CIDR format (repeatable, or comma-separated) (default 10.0.0.0/8)' })
      .option('default-addr-pool-mask-length', { type: 'string', describe: 'Default address pool subnet mask length (default 24)' })
      .option('force-new-cluster', { type: 'boolean', describe: 'Force create a new cluster from current state' }),
  async run(args, ctx) {
    const req = request(args);
    const client = ctx.client();
    const id = await client.post<string>('/swarm/init', req);
    ctx.out(`Swarm initialized: current node (${id}) is now a manager.\n\n`);
    const sw = await client.get<SwarmInspect>('/swarm');
    ctx.out(joinText('worker', sw, await ownManagerAddr(client)));
    ctx.out("To add a manager to this swarm, run 'agent swarm join-token manager' and follow the instructions.\n\n");
  },
};

/** The request body: the fields whose flags were given, checked before anything is sent. */
function request(args: Args): SwarmInitRequest {
  const req: SwarmInitRequest = addrFields(args);
  const port = intFlag(args['data-path-port'], '--data-path-port', 0, 65535);
  if (port) req.DataPathPort = port;
  const pools = listOf(args['default-addr-pool']).flatMap((v) => v.split(','));
  if (pools.length > 0) req.DefaultAddrPool = pools.map((p) => cidrFlag(p, '--default-addr-pool'));
  const mask = intFlag(args['default-addr-pool-mask-length'], '--default-addr-pool-mask-length', 1, 128);
  if (mask !== undefined) req.SubnetSize = mask;
  if (args['force-new-cluster']) req.ForceNewCluster = true;
  const spec = specFields(args);
  if (spec) req.Spec = spec;
  return req;
}
