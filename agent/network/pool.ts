// The pool of one network as `docker network create --subnet --gateway
// --ip-range` describe it, parsed into numbers (cidr.ts) and checked. Shared by
// the subnet allocator (ipam.ts) and the address allocator (address-space.ts).
import type { IpamConfig } from '../cluster/store/types.js';
import { contains, formatCidr, formatIPv4, parseCidr, parseIPv4, size, type Cidr } from '../swarm/cidr.js';
import { invalid } from './ipam-errors.js';

/** The flags as they appear in messages, as docker spells them. */
export const FLAG = {
  subnet: '--subnet',
  gateway: '--gateway',
  ipRange: '--ip-range',
  ip: '--ip',
  pool: '--default-addr-pool',
  subnetSize: '--default-addr-pool-mask-length',
} as const;

/**
 * Longest subnet prefix: a /30 holds its network address, the gateway, one
 * endpoint and the broadcast address. A /31 (RFC 3021 point-to-point) has no
 * room for a gateway and an endpoint both.
 */
export const MAX_SUBNET_PREFIX = 30;

/** A pool as the user or the API gives it; an absent or empty gateway or ip range means none given. */
export interface PoolInput {
  subnet: string;
  gateway?: string | undefined;
  ipRange?: string | undefined;
}

/** A checked pool: u32 addresses and blocks. */
export interface Pool {
  subnet: Cidr;
  gateway: number;
  ipRange?: Cidr;
}

/** The last address of a block (its broadcast address when it is a subnet). */
export function lastOf(c: Cidr): number {
  return c.base + size(c) - 1;
}

/** parseCidr with its message prefixed by the flag (or field) the text came from. */
export function parseBlock(flag: string, text: string): Cidr {
  try {
    return parseCidr(text);
  } catch (e) {
    throw invalid(`${flag}: ${(e as Error).message}`);
  }
}

/** Why `addr` can be neither gateway nor endpoint of `subnet`, or undefined when it can be. */
export function unusableReason(subnet: Cidr, addr: number): string | undefined {
  const s = formatCidr(subnet);
  if (!contains(subnet, addr)) return `is outside the subnet ${s}`;
  if (addr === subnet.base) return `is the network address of ${s}`;
  if (addr === lastOf(subnet)) return `is the broadcast address of ${s}`;
  return undefined;
}

function given(text: string | undefined): text is string {
  return text !== undefined && text !== '';
}

function parseSubnet(text: string): Cidr {
  const subnet = parseBlock(FLAG.subnet, text);
  if (subnet.prefix > MAX_SUBNET_PREFIX) {
    throw invalid(`${FLAG.subnet}: ${text} is too small (its prefix length must be at most ${MAX_SUBNET_PREFIX})`);
  }
  return subnet;
}

function parseGateway(text: string, subnet: Cidr): number {
  const gw = parseIPv4(text);
  if (gw === undefined) throw invalid(`${FLAG.gateway}: "${text}" is not an IPv4 address (expected A.B.C.D)`);
  const why = unusableReason(subnet, gw);
  if (why !== undefined) throw invalid(`${FLAG.gateway}: ${text} ${why}`);
  return gw;
}

function parseIpRange(text: string, subnet: Cidr): Cidr {
  const range = parseBlock(FLAG.ipRange, text);
  if (range.prefix < subnet.prefix || !contains(subnet, range.base)) {
    throw invalid(`${FLAG.ipRange}: ${text} is not inside the subnet ${formatCidr(subnet)}`);
  }
  return range;
}

/**
 * Check a pool: the subnet is a CIDR without host bits of prefix length at
 * most 30; the gateway, by default the first address after the network
 * address (docker's choice), lies in the subnet and is neither its network
 * nor its broadcast address; the ip range lies inside the subnet. The gateway
 * may lie outside the ip range, as in docker.
 */
export function parsePool(input: PoolInput): Pool {
  const subnet = parseSubnet(input.subnet);
  const gateway = given(input.gateway) ? parseGateway(input.gateway, subnet) : subnet.base + 1;
  if (!given(input.ipRange)) return { subnet, gateway };
  return { subnet, gateway, ipRange: parseIpRange(input.ipRange, subnet) };
}

/** A pool back to its stored text form: plain gateway, as docker's IPAM config shows it. */
export function formatPool(p: Pool): IpamConfig {
  const out: IpamConfig = { subnet: formatCidr(p.subnet), gateway: formatIPv4(p.gateway) };
  if (p.ipRange !== undefined) out.ipRange = formatCidr(p.ipRange);
  return out;
}
