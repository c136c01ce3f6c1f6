// VIP load balancing (issue 9, DESIGN §5), the pure part: which backends each
// VIP has for an endpoint, and the one nft transaction that programs them in
// the endpoint's netns. vip-balancer.ts runs the script.
//
// The rules DNAT in the endpoint's own netns at hook output, so a client's
// packets leave with its own source address (the backend sees the real
// client) and the reply is translated back by the client's conntrack. NAT
// picks a backend on a connection's first packet only; conntrack keeps that
// choice, so established flows outlive any later rule change.
//
// Backend choice is `numgen random`, not `numgen inc` (round robin): the table
// is recreated on every change, and a new `inc` expression starts at 0, so
// after each cluster-wide change every netns would send its next connection to
// the same (lowest) backend. Random keeps no state that a reload could reset,
// and independent clients spread evenly without sharing a counter.
import { formatIPv4, parseIPv4 } from '../swarm/cidr.js';
import { backendChains, spreadRule, vipChainKey } from '../host/nft-backends.js';
import type { DiscoveryView } from './records.js';

/** VIP -> its backends (running task IPs), both plain IPv4. An empty list: no task runs, so the VIP refuses. */
export type VipMap = ReadonlyMap<string, readonly string[]>;

/** The nft table (family ip) holding the rules in each endpoint's netns. */
export const VIP_TABLE = 'agent_lb';

/** Numeric IPv4 order, so 10.0.0.9 sorts before 10.0.0.10. */
const byAddress = (a: string, b: string): number => (parseIPv4(a) ?? 0) - (parseIPv4(b) ?? 0);

/** Sorted, without duplicates; undefined when one is not a dotted quad. */
function canonical(ips: readonly string[]): string[] | undefined {
  const nums = new Set<number>();
  for (const ip of ips) {
    const n = parseIPv4(ip);
    if (n === undefined) return undefined;
    nums.add(n);
  }
  return [...nums].sort((a, b) => a - b).map(formatIPv4);
}

/**
 * The VIPs an endpoint on these networks (network ids, its order) reaches:
 * every VIP on each network -> the sorted unique IPs of the records carrying
 * that VIP on the same network. Records exist only while their endpoint
 * runs, so a VIP here always has a backend. A record whose ip or vip is not a
 * dotted quad (another node's bug) is skipped, never written into a rule. A
 * VIP seen on two of the endpoint's networks (overlapping subnets) keeps the
 * backends of the first.
 */
export function vipTable(networks: readonly string[], view: DiscoveryView): VipMap {
  const out = new Map<string, string[]>();
  for (const nid of new Set(networks)) {
    const here = new Map<string, Set<number>>();
    for (const r of view.records(nid)) {
      if (r.vip === undefined) continue;
      const vip = parseIPv4(r.vip);
      const ip = parseIPv4(r.ip);
      if (vip === undefined || ip === undefined) continue;
      const key = formatIPv4(vip);
      if (out.has(key)) continue;
      let s = here.get(key);
      if (!s) here.set(key, (s = new Set()));
      s.add(ip);
    }
    for (const [vip, ips] of here) out.set(vip, [...ips].sort((a, b) => a - b).map(formatIPv4));
  }
  return new Map([...out].sort(([a], [b]) => byAddress(a, b)));
}

/** m as sorted [vip, backends] pairs; throws naming the first bad address. */
function entries(m: VipMap, who: string): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (const [vip, backends] of m) {
    const v = canonical([vip]);
    if (v === undefined) throw new Error(`${who}: VIP ${JSON.stringify(vip)} is not an IPv4 address (expected A.B.C.D)`);
    const b = canonical(backends);
    if (b === undefined) {
      const bad = backends.find((ip) => parseIPv4(ip) === undefined);
      throw new Error(`${who}: backend ${JSON.stringify(bad)} of VIP ${vip} is not an IPv4 address (expected A.B.C.D)`);
    }
    out.push([v[0]!, b]);
  }
  return out.sort(([a], [b]) => byAddress(a, b));
}

/** A canonical text of m (order-free): equal keys, equal rules. The balancer skips re-applying an unchanged key. */
export function vipKey(m: VipMap): string {
  return entries(m, 'vipKey')
    .map(([vip, b]) => `${vip}>${b.join(',')}`)
    .join(';');
}

/**
 * One `nft -f` transaction that replaces table ip agent_lb whole: declare it
 * (a no-op when it exists), delete it, define it anew. nft sends the file as
 * one netlink batch, so the kernel applies all of it or none (an old table
 * stays as it was on any error), and the declare makes the delete succeed on
 * a first run. Deleting rather than flushing also drops chains the new rules
 * no longer need.
 *
 * - chain vip_dnat, nat at hook output, priority -100 (dstnat): `ip daddr VIP`
 *   -> `goto` the only backend's chain, or `numgen random mod N vmap { 0 :
 *   goto <chain 0>, ... }`; each backend's chain `be_<vip>_<i>` is
 *   `counter dnat to BACKEND`, so the new flows of each backend are counted
 *   (host/nft-backends.ts; read back by metrics/lb-counters.ts, issue 11).
 *   Its first rule, `ct state new counter`, counts the endpoint's new flows
 *   and is there for its ct expression: the kernel tracks connections in a
 *   netns only while some rule needs conntrack (nf_ct_netns_get; a nat chain
 *   alone does not), and without tracking, established flows are no longer
 *   translated. Without it, a table left with no dnat rule (the last VIP
 *   gone, or only refusing ones) would stall every open VIP flow of the
 *   endpoint (seen on Linux 6.18; test/e2e/vip-rules.test.ts checks it).
 * - chain vip_reject, filter at hook output, priority 0, only when a VIP has
 *   no backend: tcp reset for TCP, icmp port-unreachable otherwise, so a
 *   client fails at once instead of waiting for a timeout. Flows already
 *   translated carry the backend's address by then and pass.
 */
export function nftScript(m: VipMap): string {
  const all = entries(m, 'nftScript');
  const served = all.filter(([, b]) => b.length > 0);
  const dnat = served.map(([vip, b]) => spreadRule(`ip daddr ${vip}`, vipChainKey(vip), b.length));
  const refused = all.filter(([, b]) => b.length === 0).map(([vip]) => vip);
  const lines = [
    `table ip ${VIP_TABLE} {}`,
    `delete table ip ${VIP_TABLE}`,
    `table ip ${VIP_TABLE} {`,
    '\tchain vip_dnat {',
    '\t\ttype nat hook output priority -100; policy accept;',
    '\t\tct state new counter',
    ...dnat.map((r) => `\t\t${r}`),
    '\t}',
    ...served.flatMap(([vip, b]) => backendChains(vipChainKey(vip), b.map((ip) => `counter dnat to ${ip}`))),
  ];
  if (refused.length > 0) {
    const set = `{ ${refused.join(', ')} }`;
    lines.push(
      '\tchain vip_reject {',
      '\t\ttype filter hook output priority 0; policy accept;',
      `\t\tip daddr ${set} meta l4proto tcp reject with tcp reset`,
      `\t\tip daddr ${set} reject with icmp type port-unreachable`,
      '\t}',
    );
  }
  lines.push('}', '');
  return lines.join('\n');
}
