// The addresses of one network's subnet: who holds which (the gateway, a
// service VIP, a task, a node's load balancer) and which one the next
// endpoint gets. Built from the pool and the owners an IpamAllocation
// records, mutated by allocate and release, read back with inUse() for the
// caller to persist. No I/O.
//
// Forms: allocate returns CIDR form ("10.0.1.5/24"), as libnetwork's
// RequestAddress does and as Service.vips and Task.addresses store it;
// inUse() keys are plain addresses ("10.0.1.5"), since the prefix is the
// subnet's. Every address argument takes either form; a CIDR form must carry
// the subnet's prefix length.
//
// Choice of address: the lowest free one of the ip range (or subnet), never
// the network address, the broadcast address or the gateway. libnetwork can
// instead hand addresses out serially (swarmkit turns that on for overlays)
// so a just-released address is not reused at once; lowest-free is what this
// core promises for now.
import type { IpamConfig } from '../cluster/store/types.js';
import { formatCidr, formatIPv4, parseIPv4, type Cidr } from '../swarm/cidr.js';
import { IpamError, invalid } from './ipam-errors.js';
import { FLAG, formatPool, lastOf, parsePool, unusableReason, type Pool, type PoolInput } from './pool.js';

/** Owner recorded for the gateway address, as IpamAllocation.addresses names it. */
export const GATEWAY_OWNER = 'gateway';

/** An address in plain or CIDR form (with the subnet's prefix) to its u32; `label` names the argument in messages. */
function parseAddress(label: string, text: string, subnet: Cidr): number {
  const slash = text.indexOf('/');
  const addr = parseIPv4(slash < 0 ? text : text.slice(0, slash));
  if (addr === undefined) {
    throw invalid(`${label}: "${text}" is not an IPv4 address (expected A.B.C.D or A.B.C.D/${subnet.prefix})`);
  }
  if (slash >= 0 && text.slice(slash + 1) !== String(subnet.prefix)) {
    throw invalid(`${label}: ${text} does not have the prefix length of the subnet ${formatCidr(subnet)}`);
  }
  return addr;
}

function checkOwner(owner: string): void {
  if (typeof owner !== 'string' || owner === '') throw invalid(`owner: expected a non-empty string, got ${JSON.stringify(owner)}`);
}

export class AddressSpace {
  readonly #pool: Pool;
  /** u32 address -> owner; always holds the gateway. */
  readonly #used = new Map<number, string>();

  /**
   * `used` is IpamAllocation.addresses: address -> owner. The gateway is
   * added under GATEWAY_OWNER when absent; an entry outside the subnet, on
   * its network or broadcast address, or giving the gateway another owner is
   * refused (EINVAL): the record and the pool disagree.
   */
  constructor(pool: PoolInput, used: Readonly<Record<string, string>> = {}) {
    this.#pool = parsePool(pool);
    for (const [text, owner] of Object.entries(used)) this.#load(text, owner);
    const gw = this.#pool.gateway;
    const gwOwner = this.#used.get(gw);
    if (gwOwner !== undefined && gwOwner !== GATEWAY_OWNER) {
      throw invalid(`address ${formatIPv4(gw)} is the gateway of ${this.subnet} but is recorded as used by ${gwOwner}`);
    }
    this.#used.set(gw, GATEWAY_OWNER);
  }

  #load(text: string, owner: string): void {
    const label = 'in-use address';
    checkOwner(owner);
    const addr = parseAddress(label, text, this.#pool.subnet);
    const why = unusableReason(this.#pool.subnet, addr);
    if (why !== undefined) throw invalid(`${label}: ${formatIPv4(addr)} ${why}`);
    const prev = this.#used.get(addr);
    if (prev !== undefined) throw invalid(`${label}: ${formatIPv4(addr)} is recorded twice, for ${prev} and ${owner}`);
    this.#used.set(addr, owner);
  }

  get subnet(): string {
    return formatCidr(this.#pool.subnet);
  }

  get gateway(): string {
    return formatIPv4(this.#pool.gateway);
  }

  get ipRange(): string | undefined {
    return this.#pool.ipRange === undefined ? undefined : formatCidr(this.#pool.ipRange);
  }

  /** The pool as stored in Network.ipam. */
  config(): IpamConfig {
    return formatPool(this.#pool);
  }

  /**
   * Give `owner` an address: `preferred` (a user's --ip, or an address being
   * restored) when it is usable and free, else the lowest free one. Returns
   * it in CIDR form. Owners are not checked for uniqueness: one owner may
   * hold several addresses if the caller asks.
   */
  allocate(owner: string, preferred?: string): string {
    checkOwner(owner);
    const addr = preferred === undefined ? this.#lowestFree() : this.#checkPreferred(preferred);
    this.#used.set(addr, owner);
    return `${formatIPv4(addr)}/${this.#pool.subnet.prefix}`;
  }

  /** Free an address; false if it was not in use. The gateway cannot be released. */
  release(address: string): boolean {
    const label = 'release';
    const addr = parseAddress(label, address, this.#pool.subnet);
    const why = unusableReason(this.#pool.subnet, addr);
    if (why !== undefined) throw invalid(`${label}: ${formatIPv4(addr)} ${why}`);
    if (addr === this.#pool.gateway) throw invalid(`${label}: ${formatIPv4(addr)} is the gateway of ${this.subnet} and stays reserved`);
    return this.#used.delete(addr);
  }

  /** Plain address -> owner, the gateway included, in address order; a copy. */
  inUse(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const a of [...this.#used.keys()].sort((x, y) => x - y)) out[formatIPv4(a)] = this.#used.get(a)!;
    return out;
  }

  /** Who holds an address (either form), or undefined. */
  ownerOf(address: string): string | undefined {
    return this.#used.get(parseAddress('address', address, this.#pool.subnet));
  }

  #checkPreferred(text: string): number {
    const { subnet, ipRange, gateway } = this.#pool;
    const addr = parseAddress(FLAG.ip, text, subnet);
    const shown = formatIPv4(addr);
    const why = unusableReason(subnet, addr);
    if (why !== undefined) throw invalid(`${FLAG.ip}: ${shown} ${why}`);
    if (ipRange !== undefined && (addr < ipRange.base || addr > lastOf(ipRange))) {
      throw invalid(`${FLAG.ip}: ${shown} is outside the ip range ${formatCidr(ipRange)} of ${this.subnet}`);
    }
    if (addr === gateway) throw invalid(`${FLAG.ip}: ${shown} is the gateway of ${this.subnet}`);
    const owner = this.#used.get(addr);
    if (owner !== undefined) throw new IpamError('EADDRINUSE', `${FLAG.ip}: ${shown} is already in use by ${owner} in ${this.subnet}`);
    return addr;
  }

  /**
   * Walks up from the start of the range and stops at the first gap, so the
   * cost is bounded by the number of addresses in use, not the range size.
   */
  #lowestFree(): number {
    const { subnet, ipRange } = this.#pool;
    const range = ipRange ?? subnet;
    const first = Math.max(range.base, subnet.base + 1);
    const last = Math.min(lastOf(range), lastOf(subnet) - 1);
    for (let a = first; a <= last; a++) if (!this.#used.has(a)) return a;
    const where = ipRange === undefined ? `subnet ${this.subnet}` : `ip range ${formatCidr(ipRange)} of subnet ${this.subnet}`;
    throw new IpamError('ESUBNETFULL', `${where} has no free address left`);
  }
}
