// The two resolv.conf files of issue 9: the host's, read for the upstream
// resolvers the embedded DNS server forwards to, and the one every endpoint
// gets, pointing at that server on its gateway. Text in, values out; reading
// /etc/resolv.conf and writing the endpoint's copy belong to the callers.
import { isIPv4 } from 'node:net';

/** RFC 1035 §4.2: the DNS port. resolv.conf(5) has no syntax for another one. */
export const DNS_PORT = 53;

/** glibc's MAXNS: a resolver reads at most three nameserver lines (resolv.conf(5)). */
export const MAX_NAMESERVERS = 3;

export interface ResolvConf {
  /** IPv4 nameservers in file order, at most MAX_NAMESERVERS, each on port 53. */
  nameservers: { host: string; port: number }[];
  /** The search list: the last `search` or `domain` line wins, as in glibc. */
  search: string[];
}

/**
 * Parse resolv.conf text (resolv.conf(5)). Lines starting with `#` or `;` are
 * comments, and so is the rest of a line from a word starting with one. Nameservers that
 * are not plain dotted-quad IPv4 (IPv6, `1.2.3.4#5353`, names) are skipped:
 * the forwarder speaks IPv4 to port 53 only. Unknown keywords are ignored.
 */
export function parseResolvConf(text: string): ResolvConf {
  const nameservers: { host: string; port: number }[] = [];
  let search: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const all = line.trim().split(/\s+/).filter((w) => w !== '');
    const comment = all.findIndex((w) => w.startsWith('#') || w.startsWith(';'));
    const words = comment < 0 ? all : all.slice(0, comment);
    const [keyword, ...args] = words;
    if (keyword === 'nameserver') {
      const host = args[0];
      if (args.length === 1 && host !== undefined && isIPv4(host) && nameservers.length < MAX_NAMESERVERS) {
        nameservers.push({ host, port: DNS_PORT });
      }
    } else if (keyword === 'search') {
      search = args;
    } else if (keyword === 'domain') {
      search = args.slice(0, 1);
    }
  }
  return { nameservers, search };
}

/**
 * The resolv.conf an endpoint gets: our server on its gateway, the host's
 * search list, and ndots:0 so that every name, `web` included, is first asked
 * as it is written (our names are single labels and `<x>.<network>`) before
 * any search domain is appended. With no host search list, `search .`: glibc
 * would otherwise take the domain part of the hostname, and a task's hostname
 * (`web.1.<task id>`) would send every unknown name out again as
 * `<name>.1.<task id>`.
 */
export function resolvConfFor(gateway: string, hostSearch: readonly string[]): string {
  if (!isIPv4(gateway)) throw new Error(`resolvConfFor: gateway must be an IPv4 address, got ${JSON.stringify(gateway)}`);
  for (const d of hostSearch) {
    if (d === '' || /[\s#;]/.test(d)) throw new Error(`resolvConfFor: search domain must be one word without # or ;, got ${JSON.stringify(d)}`);
  }
  let out = `nameserver ${gateway}\n`;
  out += `search ${hostSearch.length > 0 ? hostSearch.join(' ') : '.'}\n`;
  return out + 'options ndots:0\n';
}
