import { BlockList, isIP } from 'node:net';
import type { Subcommand } from './index.js';
import type { NetworkCreateRequest, NetworkDriverName } from '../api/types.js';
import { UsageError } from '../../shared/errors.js';
import { cidrFlag, lastOf, listOf } from './swarm-flags.js';

interface Args {
  name: string;
  driver?: string | string[];
  attachable?: boolean;
  ingress?: boolean;
  internal?: boolean;
  subnet?: string | string[];
  gateway?: string | string[];
  'ip-range'?: string | string[];
  opt?: string | string[];
  label?: string | string[];
}

const DRIVERS: readonly NetworkDriverName[] = ['overlay', 'bridge'];

/** `agent network create`: a network with docker's flags; prints its id. */
export const networkCreate: Subcommand<Args> = {
  command: 'create <name>',
  describe: 'Create a network',
  builder: (y) =>
    y
      .positional('name', { type: 'string', describe: 'The name of the network' })
      .option('driver', {
        alias: 'd',
        type: 'string',
        describe: 'Driver to manage the Network: "overlay" (a swarm network) or "bridge" (this node only) (default "bridge", as docker)',
      })
      .option('attachable', { type: 'boolean', describe: 'Enable manual container attachment' })
      .option('ingress', { type: 'boolean', describe: 'Create swarm routing-mesh network' })
      .option('internal', { type: 'boolean', describe: 'Restrict external access to the network' })
      .option('subnet', { type: 'string', describe: 'Subnet in CIDR format that represents a network segment (one per network)' })
      .option('gateway', { type: 'string', describe: 'IPv4 or IPv6 Gateway for the master subnet' })
      .option('ip-range', { type: 'string', describe: 'Allocate container ip from a sub-range' })
      .option('opt', { alias: 'o', type: 'string', describe: 'Set driver specific options ("key=value", or "key" for an empty value); repeatable' })
      .option('label', { type: 'string', describe: 'Set metadata on a network ("key=value"); repeatable' }),
  async run(args, ctx) {
    const req = request(args);
    const r = await ctx.client().post<{ Id: string; Warning?: string }>('/networks/create', req);
    if (r.Warning) ctx.err(`WARNING: ${r.Warning}\n`);
    ctx.out(`${r.Id}\n`);
  },
};

/** The request body, every flag checked before anything is sent. */
function request(args: Args): NetworkCreateRequest {
  if (args.name === '') throw new UsageError('NETWORK: expected a network name, got ""');
  // docker's default, so that its commands mean the same here (the seed's gwbridge step gives no driver).
  const driver = lastOf(args.driver) ?? 'bridge';
  if (!(DRIVERS as readonly string[]).includes(driver)) {
    throw new UsageError(`--driver: expected ${DRIVERS.map((d) => `"${d}"`).join(', ')}, got "${driver}"`);
  }
  const req: NetworkCreateRequest = { Name: args.name, Driver: driver as NetworkDriverName };
  if (args.attachable) req.Attachable = true;
  if (args.ingress) req.Ingress = true;
  if (args.internal) req.Internal = true;
  const pool = ipamPool(listOf(args.subnet), listOf(args.gateway), listOf(args['ip-range']));
  if (pool) req.IPAM = { Config: [pool] };
  const options = keyValues(listOf(args.opt), '--opt');
  if (options) req.Options = options;
  const labels = keyValues(listOf(args.label), '--label');
  if (labels) req.Labels = labels;
  return req;
}

/**
 * The one IPAM pool the flags describe, checked as docker's createIPAMConfig
 * checks them: a gateway or range needs a subnet, and must lie in it. Only one
 * pool per network is supported, so one of each at most.
 */
function ipamPool(subnets: string[], gateways: string[], ranges: string[]): { Subnet: string; Gateway?: string; IPRange?: string } | undefined {
  if (subnets.length > 1) throw new UsageError(`--subnet: only one subnet per network is supported, got ${subnets.length} (${subnets.join(', ')})`);
  // docker's own words, and its rule: no more gateways or ranges than subnets.
  const orphan = gateways.length > subnets.length ? '--gateway' : ranges.length > subnets.length ? '--ip-range' : undefined;
  if (orphan) throw new UsageError(`${orphan}: every ip-range or gateway must have a corresponding subnet`);
  const subnet = subnets[0];
  if (subnet === undefined) return undefined;
  const [net, bits] = splitCidr(cidrFlag(subnet, '--subnet'));
  const family = isIP(net) === 4 ? 'ipv4' : 'ipv6';
  const block = new BlockList();
  block.addSubnet(net, bits, family);
  // Checked as the subnet's family: an address of the other family (an
  // IPv4-mapped one too) is never in it.
  const inSubnet = (addr: string): boolean => block.check(addr, family);
  const pool: { Subnet: string; Gateway?: string; IPRange?: string } = { Subnet: subnet };
  const gateway = gateways[0];
  if (gateway !== undefined) {
    if (isIP(gateway) === 0) throw new UsageError(`--gateway: expected an IP address, got "${gateway}"`);
    if (!inSubnet(gateway)) throw new UsageError(`--gateway: expected an address in ${subnet}, got "${gateway}"`);
    pool.Gateway = gateway;
  }
  const range = ranges[0];
  if (range !== undefined) {
    const [rNet, rBits] = splitCidr(cidrFlag(range, '--ip-range'));
    if (!inSubnet(rNet) || rBits < bits) throw new UsageError(`--ip-range: expected a range within ${subnet}, got "${range}"`);
    pool.IPRange = range;
  }
  return pool;
}

/** A CIDR cidrFlag passed, as address and prefix length. */
function splitCidr(cidr: string): [string, number] {
  const slash = cidr.indexOf('/');
  return [cidr.slice(0, slash), Number(cidr.slice(slash + 1))];
}

/**
 * Repeatable key=value flags as docker's MapOpts reads them: "key" alone is an
 * empty value (`--opt encrypted`), the first "=" splits, the last one given
 * for a key wins. undefined when none was given.
 */
function keyValues(values: string[], flag: string): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const m = new Map<string, string>();
  for (const s of values) {
    const eq = s.indexOf('=');
    const [k, v] = eq < 0 ? [s, ''] : [s.slice(0, eq), s.slice(eq + 1)];
    if (k.trim() === '') throw new UsageError(`${flag}: expected key=value, got "${s}"`);
    m.set(k, v);
  }
  // fromEntries: a key such as "__proto__" is an own field like any other.
  return Object.fromEntries(m);
}
