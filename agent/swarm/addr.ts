// The address flags of `swarm init` and `swarm join`, checked and resolved the
// way docker does it (moby daemon/cluster/listen_addr.go), as pure functions
// of the flag text and a snapshot of this host's interfaces. Every failure is
// a UsageError whose one-line message names the flag, what was expected and
// what came (STYLE habit 9).
//
// Where we differ from docker, on purpose:
// - an advertise or data path address must be an address of this host, and
//   loopback is refused as well as 0.0.0.0 / :: (docker accepts both, and the
//   node then fails later and obscurely);
// - picking the address to advertise prefers IPv4 across all interfaces, and
//   link-local IPv6 (fe80::/10) is never chosen from an interface: it means
//   nothing to another host without a zone index;
// - the data path port is checked here (docker: 1024-49151, the registered
//   port range, so it can neither need root nor collide with ephemeral ports).
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { UsageError } from '../../shared/errors.js';
import { formatCidr, overlaps, parseCidr, type Cidr } from './cidr.js';

/** Swarm control plane: managers listen here, every node dials it (seed: "TCP port 2377"). */
export const DEFAULT_LISTEN_PORT = 2377;
/** VXLAN, IANA-assigned (RFC 7348 §5). */
export const DEFAULT_DATA_PATH_PORT = 4789;
export const DATA_PATH_PORT_MIN = 1024;
export const DATA_PATH_PORT_MAX = 49151;
export const DEFAULT_ADDR_POOLS: readonly string[] = ['10.0.0.0/8'];
/** Prefix length of each network's subnet carved from the pools. */
export const DEFAULT_SUBNET_SIZE = 24;
/** docker's limit: a /29 still holds a gateway and five endpoints. */
export const MAX_SUBNET_SIZE = 29;

/** The flags as they appear in messages; the CLI should declare the same names. */
export const FLAG = {
  listen: '--listen-addr',
  advertise: '--advertise-addr',
  dataPath: '--datapath-addr',
  dataPathPort: '--data-path-port',
  pool: '--default-addr-pool',
  subnetSize: '--default-addr-pool-mask-length',
  join: 'join address',
} as const;

export interface HostPort {
  /** An IP literal (IPv6 without brackets, in canonical form) or, for a join address, a host name. */
  host: string;
  port: number;
}

export interface InterfaceAddress {
  address: string;
  family: 'IPv4' | 'IPv6';
  /** Loopback. */
  internal: boolean;
}

/** The seam to the host: interface name → its addresses, read once per call. */
export type Interfaces = () => Record<string, InterfaceAddress[]>;

/** The real seam: node:os, with `family` normalized (Node 18.0-18.3 reported 4 and 6). */
export const systemInterfaces: Interfaces = () => {
  const out: Record<string, InterfaceAddress[]> = {};
  for (const [name, list] of Object.entries(networkInterfaces())) {
    out[name] = (list ?? []).map((a) => {
      const fam = String(a.family);
      return { address: a.address, family: fam === 'IPv6' || fam === '6' ? 'IPv6' : 'IPv4', internal: a.internal };
    });
  }
  return out;
};

/** host:port, with brackets around an IPv6 host. */
export function formatHostPort({ host, port }: HostPort): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

const usage = (msg: string) => new UsageError(msg);

// Interface names and host names; anything else (spaces, '/', '%', ...) is a typo.
const NAME = /^[A-Za-z0-9_.-]{1,253}$/;
const PORT = /^[0-9]{1,5}$/;

/** An IP literal in the form node:os reports addresses (IPv6 lowercase, RFC 5952 compressed), or undefined. */
function canonicalIP(text: string): string | undefined {
  const v = isIP(text);
  if (v === 4) return text; // isIP already refuses leading zeros and short forms
  if (v === 6 && !text.includes('%')) return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  return undefined;
}

/** Split without validating the port; portText is undefined when none was written. */
function split(flag: string, value: string, form: string): { host: string; portText: string | undefined } {
  const bad = () => usage(`${flag}: expected ${form}, got "${value}"`);
  let host: string;
  let portText: string | undefined;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    const rest = close < 0 ? '' : value.slice(close + 1);
    if (close < 0 || (rest !== '' && !rest.startsWith(':'))) throw bad();
    host = value.slice(1, close);
    if (isIP(host) !== 6) throw bad();
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colons = value.split(':').length - 1;
    if (colons === 0) {
      host = value;
    } else if (colons === 1) {
      [host, portText] = value.split(':') as [string, string];
    } else if (isIP(value) === 6) {
      host = value; // a bare IPv6 address: its colons are not a port separator
    } else {
      throw usage(`${flag}: expected ${form}, got "${value}" (an IPv6 address with a port goes in brackets: [ADDR]:PORT)`);
    }
  }
  if (host.includes('%') && isIP(host) === 6) throw usage(`${flag}: IPv6 zone indexes are not supported, got "${value}"`);
  if (host === '' && portText === undefined) throw bad();
  if (host !== '' && isIP(host) === 0 && !NAME.test(host)) throw bad();
  return { host: canonicalIP(host) ?? host, portText };
}

function parsePort(flag: string, text: string): number {
  const n = Number(text);
  if (!PORT.test(text) || n < 1 || n > 65535) throw usage(`${flag}: invalid port "${text}" (expected 1-65535)`);
  return n;
}

/**
 * Parse ADDR, ADDR:PORT, [IPV6]:PORT, a bare IPv6 address, :PORT (host ''
 * for the caller to fill in) or an interface name with optional port. IP
 * hosts come back canonical; names come back as written.
 */
export function parseHostPort(flag: string, value: string, defaultPort: number): HostPort {
  const { host, portText } = split(flag, value, 'ADDR[:PORT]');
  return { host, port: portText === undefined ? defaultPort : parsePort(flag, portText) };
}

type Table = Record<string, InterfaceAddress[]>;

function snapshot(ifaces: Interfaces): Table {
  const out: Table = {};
  for (const [name, list] of Object.entries(ifaces())) {
    out[name] = list.map((a) => ({ ...a, address: canonicalIP(a.address) ?? a.address }));
  }
  return out;
}

function hextet0(ip: string): number {
  return parseInt(ip.split(':', 1)[0] || '0', 16);
}
const isUnspecified = (ip: string) => ip === '0.0.0.0' || ip === '::';
const isLoopback = (ip: string) => ip === '::1' || (isIP(ip) === 4 && ip.startsWith('127.'));
const isLinkLocal = (ip: string) => (isIP(ip) === 4 ? ip.startsWith('169.254.') : (hextet0(ip) & 0xffc0) === 0xfe80);
const isMulticast = (ip: string) => (isIP(ip) === 4 ? Number(ip.split('.', 1)[0]) >= 224 : (hextet0(ip) & 0xff00) === 0xff00);

/** One interface's address: its only IPv4, else its only non-link-local IPv6 (docker favours IPv4 too). */
function interfaceAddr(flag: string, name: string, addrs: InterfaceAddress[]): string {
  const v4 = addrs.filter((a) => a.family === 'IPv4').map((a) => a.address);
  const v6 = addrs.filter((a) => a.family === 'IPv6' && !isLinkLocal(a.address)).map((a) => a.address);
  for (const [list, fam] of [[v4, 'IPv4'], [v6, 'IPv6']] as const) {
    if (list.length > 1) throw usage(`${flag}: interface ${name} has more than one ${fam} address (${list[0]} and ${list[1]})`);
    if (list.length === 1) return list[0]!;
  }
  throw usage(`${flag}: interface ${name} has no usable IPv4 or IPv6 address`);
}

/** An interface name or IP literal (already canonical) to an IP; docker looks for an interface first. */
function resolveHost(flag: string, host: string, table: Table): string {
  if (Object.hasOwn(table, host)) return interfaceAddr(flag, host, table[host]!);
  if (isIP(host) !== 0) return host;
  throw usage(`${flag}: "${host}" is neither an IP address nor an interface on this host`);
}

/** Why other nodes could not use ip to reach this host, or undefined when they can. */
function unusable(ip: string, table: Table): string | undefined {
  if (isUnspecified(ip)) return 'is the unspecified address, which other nodes cannot reach';
  if (isLoopback(ip)) return 'is a loopback address, which other nodes cannot reach';
  if (!Object.values(table).some((list) => list.some((a) => a.address === ip))) return 'is not an address of this host';
  return undefined;
}

/** An advertise or data path address given by IP or interface name, checked to be reachable and local. */
function resolveReachable(flag: string, host: string, table: Table): string {
  const ip = resolveHost(flag, host, table);
  const why = unusable(ip, table);
  if (why !== undefined) throw usage(`${flag}: ${ip === host ? ip : `${ip} (interface ${host})`} ${why}`);
  return ip;
}

/** The one global-unicast, non-loopback address of this host, IPv4 preferred. */
function autodetect(table: Table): string {
  const found: Record<'IPv4' | 'IPv6', { name: string; ip: string }[]> = { IPv4: [], IPv6: [] };
  for (const [name, list] of Object.entries(table)) {
    for (const a of list) {
      const ip = a.address;
      if (a.internal || isUnspecified(ip) || isLoopback(ip) || isLinkLocal(ip) || isMulticast(ip)) continue;
      found[a.family].push({ name, ip });
    }
  }
  const pick = found.IPv4.length > 0 ? found.IPv4 : found.IPv6;
  const [a, b] = pick;
  const hint = ' - specify one with --advertise-addr';
  if (a === undefined) throw usage(`could not find an IP address to advertise${hint}`);
  if (b !== undefined) {
    const where = a.name === b.name ? `on interface ${a.name} (${a.ip} and ${b.ip})` : `on different interfaces (${a.ip} on ${a.name} and ${b.ip} on ${b.name})`;
    throw usage(`could not choose an IP address to advertise since this system has multiple addresses ${where}${hint}`);
  }
  return a.ip;
}

/**
 * --listen-addr: default 0.0.0.0:defaultPort; an interface name becomes its
 * address; an IP literal is kept (binding will tell if it is not ours).
 */
export function resolveListenAddr(flagValue: string | undefined, ifaces: Interfaces, defaultPort = DEFAULT_LISTEN_PORT): HostPort {
  if (flagValue === undefined) return { host: '0.0.0.0', port: defaultPort };
  const { host, port } = parseHostPort(FLAG.listen, flagValue, defaultPort);
  if (host === '') return { host: '0.0.0.0', port };
  return { host: resolveHost(FLAG.listen, host, snapshot(ifaces)), port };
}

/**
 * --advertise-addr, the address other nodes use for control and gossip. Port
 * defaults to the listen port. Unset: the listen host when it is a specific
 * address, else the host's only candidate address. `:PORT` autodetects the host.
 */
export function resolveAdvertiseAddr(flagValue: string | undefined, listen: HostPort, ifaces: Interfaces): HostPort {
  const table = snapshot(ifaces);
  if (flagValue !== undefined) {
    const { host, port } = parseHostPort(FLAG.advertise, flagValue, listen.port);
    return { host: host === '' ? autodetect(table) : resolveReachable(FLAG.advertise, host, table), port };
  }
  const listenHost = canonicalIP(listen.host) ?? listen.host;
  if (listenHost === '' || isUnspecified(listenHost)) return { host: autodetect(table), port: listen.port };
  const why = unusable(listenHost, table);
  if (why !== undefined) throw usage(`cannot advertise the listen address ${listenHost}: it ${why} - specify one with --advertise-addr`);
  return { host: listenHost, port: listen.port };
}

/** --datapath-addr, where VXLAN frames for this node go; default the advertise host. Address only. */
export function resolveDataPathAddr(flagValue: string | undefined, advertiseHost: string, ifaces: Interfaces): string {
  if (flagValue === undefined) return advertiseHost;
  const { host, portText } = split(FLAG.dataPath, flagValue, 'ADDR');
  if (portText !== undefined) throw usage(`${FLAG.dataPath}: takes an address without a port, got "${flagValue}"`);
  return resolveReachable(FLAG.dataPath, host, snapshot(ifaces));
}

/** --data-path-port: default 4789, else an integer in 1024-49151. */
export function validateDataPathPort(n: number | undefined): number {
  if (n === undefined) return DEFAULT_DATA_PATH_PORT;
  const range = `${DATA_PATH_PORT_MIN}-${DATA_PATH_PORT_MAX}`;
  if (!Number.isInteger(n)) throw usage(`${FLAG.dataPathPort}: expected an integer in ${range}, got ${n}`);
  if (n < DATA_PATH_PORT_MIN || n > DATA_PATH_PORT_MAX) throw usage(`${FLAG.dataPathPort}: ${n} is outside the range ${range}`);
  return n;
}

/**
 * --default-addr-pool (repeatable) and --default-addr-pool-mask-length:
 * IPv4 CIDRs without host bits, pairwise disjoint, each able to hold a subnet
 * of the mask length, which is at most 29.
 */
export function validateAddrPools(pools: readonly string[] | undefined, maskLength: number | undefined): { pools: string[]; maskLength: number } {
  const texts = pools !== undefined && pools.length > 0 ? pools : DEFAULT_ADDR_POOLS;
  const parsed: Cidr[] = texts.map((t) => {
    try {
      return parseCidr(t);
    } catch (e) {
      throw usage(`${FLAG.pool}: ${(e as Error).message}`);
    }
  });
  for (const [i, a] of parsed.entries()) {
    if (a.prefix > MAX_SUBNET_SIZE) throw usage(`${FLAG.pool}: ${formatCidr(a)} is too small (its prefix length must be at most ${MAX_SUBNET_SIZE})`);
    for (const b of parsed.slice(0, i)) {
      if (overlaps(a, b)) throw usage(`${FLAG.pool}: ${formatCidr(a)} overlaps ${formatCidr(b)}`);
    }
  }
  const m = maskLength ?? DEFAULT_SUBNET_SIZE;
  if (!Number.isInteger(m)) throw usage(`${FLAG.subnetSize}: expected an integer, got ${m}`);
  if (m > MAX_SUBNET_SIZE) throw usage(`${FLAG.subnetSize}: ${m} is longer than ${MAX_SUBNET_SIZE}, the longest allowed`);
  const narrowest = parsed.reduce((x, y) => (y.prefix > x.prefix ? y : x));
  if (m < narrowest.prefix) {
    throw usage(`${FLAG.subnetSize}: ${m} is shorter than the /${narrowest.prefix} of pool ${formatCidr(narrowest)}; subnets must fit inside every pool`);
  }
  return { pools: parsed.map(formatCidr), maskLength: m };
}

// RFC 1123 §2.1 labels; an all-numeric last label is refused because
// resolvers read "10.1" or "1.2.3" as IPv4 shorthand (RFC 3696 §2).
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
function isHostName(s: string): boolean {
  const labels = s.split('.');
  return s.length <= 253 && labels.every((l) => LABEL.test(l)) && !/^[0-9]+$/.test(labels[labels.length - 1]!);
}

/** A manager to join, HOST[:PORT] (port 2377 when absent); host names are kept, not looked up. */
export function parseRemoteAddr(value: string): HostPort {
  const { host, portText } = split(FLAG.join, value, 'HOST[:PORT]');
  const port = portText === undefined ? DEFAULT_LISTEN_PORT : parsePort(FLAG.join, portText);
  if (host === '') throw usage(`${FLAG.join}: "${value}" has no host`);
  if (isIP(host) !== 0) {
    if (isUnspecified(host)) throw usage(`${FLAG.join}: ${host} is the unspecified address; give a manager's address`);
    return { host, port };
  }
  if (!isHostName(host)) throw usage(`${FLAG.join}: "${host}" is not a valid host name or IP address`);
  return { host, port };
}
