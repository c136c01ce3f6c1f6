// IPAM of the leader (REFERENCE: swarmkit manager/allocator, libnetwork
// ipam): which subnet a new network gets, whether a user-given pool is
// acceptable, and (re-exported) which address an endpoint gets and which VNI
// an overlay gets. Pure and deterministic: the same store contents give the
// same answers on every manager, and the caller persists them as store
// objects (Network.ipam, IpamAllocation).
//
// Subnets are carved lowest-first from the default address pools in pool
// order (docker: 10.0.0.0/8 in /24s), skipping every block that overlaps a
// network's subnet, allocated or user-given.
import type { IpamConfig } from '../cluster/store/types.js';
import { formatCidr, formatIPv4, overlaps, size, type Cidr } from '../swarm/cidr.js';
import { IpamError, invalid } from './ipam-errors.js';
import { FLAG, formatPool, MAX_SUBNET_PREFIX, parseBlock, parsePool, type PoolInput } from './pool.js';

export { IpamError, type IpamErrorCode } from './ipam-errors.js';
export { FLAG, MAX_SUBNET_PREFIX, type PoolInput } from './pool.js';
export { AddressSpace, GATEWAY_OWNER } from './address-space.js';
export { allocateVni, VNI_MIN, VNI_MAX, type VniRange } from './vni.js';

/** docker's wording (libnetwork), kept so scripts that match on it keep working. */
export const POOL_EXHAUSTED_MESSAGE = 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network';
/** libnetwork ipamapi ErrPoolOverlap, verbatim. */
export const POOL_OVERLAP_MESSAGE = 'Pool overlaps with other one on this address space';

function parseTaken(taken: readonly string[]): Cidr[] {
  return taken.map((t) => parseBlock('existing network subnet', t));
}

/** Inclusive [first, last] address ranges. */
type Span = readonly [number, number];

/** The taken blocks as sorted, disjoint, non-adjacent spans (their union). */
function union(blocks: readonly Cidr[]): Span[] {
  const spans = blocks.map((b): Span => [b.base, b.base + size(b) - 1]).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of spans) {
    const top = out[out.length - 1];
    if (top !== undefined && a <= top[1] + 1) top[1] = Math.max(top[1], b);
    else out.push([a, b]);
  }
  return out;
}

function checkSubnetSize(subnetSize: number, pools: readonly Cidr[]): void {
  if (!Number.isInteger(subnetSize) || subnetSize < 0 || subnetSize > MAX_SUBNET_PREFIX) {
    throw invalid(`${FLAG.subnetSize}: expected an integer in 0-${MAX_SUBNET_PREFIX}, got ${subnetSize}`);
  }
  for (const p of pools) {
    if (subnetSize < p.prefix) {
      throw invalid(`${FLAG.subnetSize}: ${subnetSize} is shorter than the /${p.prefix} of pool ${formatCidr(p)}; subnets must fit inside every pool`);
    }
  }
}

/**
 * The lowest /prefix block of `pool` that meets none of the `taken` spans,
 * or undefined. One pass over the spans: each one the candidate meets moves
 * the candidate to the first aligned block after it. Pools are aligned to
 * the step (subnetSize is at least every pool's prefix), so aligning to
 * multiples of the step from 0 stays aligned within the pool.
 */
function firstFree(pool: Cidr, prefix: number, taken: readonly Span[]): Cidr | undefined {
  const step = 2 ** (32 - prefix);
  const end = pool.base + size(pool);
  let base = pool.base;
  for (const [first, last] of taken) {
    if (base + step > end) return undefined;
    if (last < base) continue;
    if (first > base + step - 1) break;
    base = Math.ceil((last + 1) / step) * step;
  }
  return base + step <= end ? { base, prefix } : undefined;
}

/**
 * The first free /subnetSize subnet of the default address pools, in pool
 * order and lowest address first, that overlaps none of `taken` (every
 * network's subnet). Throws IpamError EPOOLEXHAUSTED when there is none,
 * EINVAL on a malformed pool, size or taken subnet.
 */
export function allocateSubnet(pools: readonly string[], subnetSize: number, taken: readonly string[]): string {
  const parsed = pools.map((p) => parseBlock(FLAG.pool, p));
  checkSubnetSize(subnetSize, parsed);
  const spans = union(parseTaken(taken));
  for (const pool of parsed) {
    const free = firstFree(pool, subnetSize, spans);
    if (free !== undefined) return formatCidr(free);
  }
  throw new IpamError('EPOOLEXHAUSTED', POOL_EXHAUSTED_MESSAGE);
}

/**
 * Check a user-given pool (`--subnet`, `--gateway`, `--ip-range`) and fill in
 * the default gateway. Format errors (EINVAL) come before the overlap check
 * (EOVERLAP against `taken`, every other network's subnet), so a typo is
 * reported as a typo.
 */
export function checkUserPool(input: PoolInput, taken: readonly string[]): IpamConfig {
  const pool = parsePool(input);
  if (parseTaken(taken).some((t) => overlaps(t, pool.subnet))) throw new IpamError('EOVERLAP', POOL_OVERLAP_MESSAGE);
  return formatPool(pool);
}

/** The gateway of an allocated subnet: its first address after the network address (10.0.1.1 of 10.0.1.0/24). */
export function defaultGateway(subnet: string): string {
  return formatIPv4(parsePool({ subnet }).gateway);
}
