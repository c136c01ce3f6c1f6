import { suite, is, ok, equal } from '../../harness.js';
import { isIP } from 'node:net';
import { UsageError } from '../../../shared/errors.js';
import {
  DEFAULT_ADDR_POOLS, formatHostPort, parseHostPort, parseRemoteAddr, resolveAdvertiseAddr, resolveDataPathAddr,
  resolveListenAddr, systemInterfaces, validateAddrPools, validateDataPathPort, type HostPort, type InterfaceAddress, type Interfaces,
} from '../../../agent/swarm/addr.js';

const t = suite('swarm/addr');

/** Throws a UsageError with exactly this one-line message. */
function fails(fn: () => unknown, message: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  ok(thrown instanceof UsageError, `expected UsageError "${message}", got ${thrown === undefined ? 'no error' : String(thrown)}`);
  is((thrown as Error).message, message);
  ok(!message.includes('\n'));
}

// The fake side of the Interfaces seam.
const v4 = (address: string, internal = false): InterfaceAddress => ({ address, family: 'IPv4', internal });
const v6 = (address: string, internal = false): InterfaceAddress => ({ address, family: 'IPv6', internal });
const fake = (table: Record<string, InterfaceAddress[]>): Interfaces => () => table;
const LO = [v4('127.0.0.1', true), v6('::1', true)];

// A host with one of everything.
const HOST = fake({
  lo: LO,
  eth0: [v4('192.0.2.10'), v6('fd00::10'), v6('fe80::1')],
  eth1: [v4('198.51.100.7')],
  multi: [v4('10.0.0.1'), v4('10.0.0.2')],
  v6only: [v6('2001:db8::5'), v6('fe80::2')],
  twov6: [v6('2001:db8::1'), v6('2001:db8::2')],
  llonly: [v6('fe80::3')],
  empty: [],
});
const ANY: HostPort = { host: '0.0.0.0', port: 2377 };

t('Interfaces contract: the real seam and the fake give the same shape', () => {
  for (const [name, seam] of [['system', systemInterfaces], ['fake', HOST]] as const) {
    const table = seam();
    ok(Object.keys(table).length > 0, `${name}: no interfaces`);
    for (const [iface, list] of Object.entries(table)) {
      ok(Array.isArray(list), `${name} ${iface}`);
      for (const a of list) {
        equal(Object.keys(a).sort(), ['address', 'family', 'internal'], `${name} ${iface}`);
        is(isIP(a.address), a.family === 'IPv4' ? 4 : 6, `${name} ${iface} ${a.address} ${a.family}`);
        is(typeof a.internal, 'boolean');
      }
    }
  }
});

t('parseHostPort accepts every documented form', () => {
  const table: [string, string, number][] = [
    ['1.2.3.4', '1.2.3.4', 2377],
    ['1.2.3.4:5', '1.2.3.4', 5],
    ['1.2.3.4:65535', '1.2.3.4', 65535],
    ['[::1]:2377', '::1', 2377],
    ['[FD00:0:0::10]:80', 'fd00::10', 80],
    ['[::1]', '::1', 2377],
    ['::1', '::1', 2377],
    ['FD00:0:0::10', 'fd00::10', 2377],
    ['::1:2377', '::1:2377', 2377], // a whole IPv6 address, not ::1 port 2377
    [':4000', '', 4000],
    ['eth0', 'eth0', 2377],
    ['eth0:2378', 'eth0', 2378],
    ['docker_gwbridge:1', 'docker_gwbridge', 1],
    ['br-1a2b.100', 'br-1a2b.100', 2377],
  ];
  for (const [value, host, port] of table) equal(parseHostPort('--listen-addr', value, 2377), { host, port }, value);
});

t('parseHostPort errors, exact', () => {
  const bracket = '(an IPv6 address with a port goes in brackets: [ADDR]:PORT)';
  const table: [string, string][] = [
    ['1.2.3.4:99999', '--listen-addr: invalid port "99999" (expected 1-65535)'],
    ['1.2.3.4:0', '--listen-addr: invalid port "0" (expected 1-65535)'],
    ['1.2.3.4:', '--listen-addr: invalid port "" (expected 1-65535)'],
    ['eth0:http', '--listen-addr: invalid port "http" (expected 1-65535)'],
    ['1.2.3.4:+80', '--listen-addr: invalid port "+80" (expected 1-65535)'],
    ['1.2.3.4: 80', '--listen-addr: invalid port " 80" (expected 1-65535)'],
    ['1.2.3.4:2377.0', '--listen-addr: invalid port "2377.0" (expected 1-65535)'],
    ['[::1]:', '--listen-addr: invalid port "" (expected 1-65535)'],
    ['', '--listen-addr: expected ADDR[:PORT], got ""'],
    ['[::1', '--listen-addr: expected ADDR[:PORT], got "[::1"'],
    ['[::1]2377', '--listen-addr: expected ADDR[:PORT], got "[::1]2377"'],
    ['[eth0]:1', '--listen-addr: expected ADDR[:PORT], got "[eth0]:1"'],
    ['[1.2.3.4]:1', '--listen-addr: expected ADDR[:PORT], got "[1.2.3.4]:1"'],
    ['[]:1', '--listen-addr: expected ADDR[:PORT], got "[]:1"'],
    ['a b', '--listen-addr: expected ADDR[:PORT], got "a b"'],
    ['eth0/1:5', '--listen-addr: expected ADDR[:PORT], got "eth0/1:5"'],
    ['1.2.3.4:5:6', `--listen-addr: expected ADDR[:PORT], got "1.2.3.4:5:6" ${bracket}`],
    ['fe80::1:99999', `--listen-addr: expected ADDR[:PORT], got "fe80::1:99999" ${bracket}`],
    ['fe80::1%eth0', '--listen-addr: IPv6 zone indexes are not supported, got "fe80::1%eth0"'],
    ['[fe80::1%eth0]:5', '--listen-addr: IPv6 zone indexes are not supported, got "[fe80::1%eth0]:5"'],
  ];
  for (const [value, message] of table) fails(() => parseHostPort('--listen-addr', value, 2377), message);
});

t('resolveListenAddr: defaults, interfaces and IP literals', () => {
  equal(resolveListenAddr(undefined, HOST), { host: '0.0.0.0', port: 2377 });
  equal(resolveListenAddr(undefined, HOST, 3000), { host: '0.0.0.0', port: 3000 });
  const table: [string, string, number][] = [
    [':4000', '0.0.0.0', 4000],
    ['eth0', '192.0.2.10', 2377], // IPv4 chosen over the interface's IPv6
    ['eth1:2400', '198.51.100.7', 2400],
    ['v6only', '2001:db8::5', 2377], // link-local fe80::2 is not a candidate
    ['lo', '127.0.0.1', 2377],
    ['192.0.2.99', '192.0.2.99', 2377], // literals are kept: binding will tell
    ['[::]:2377', '::', 2377],
    ['0.0.0.0:1', '0.0.0.0', 1],
  ];
  for (const [value, host, port] of table) equal(resolveListenAddr(value, HOST), { host, port }, value);
});

t('resolveListenAddr errors, exact', () => {
  const table: [string, string][] = [
    ['multi', '--listen-addr: interface multi has more than one IPv4 address (10.0.0.1 and 10.0.0.2)'],
    ['twov6:5', '--listen-addr: interface twov6 has more than one IPv6 address (2001:db8::1 and 2001:db8::2)'],
    ['llonly', '--listen-addr: interface llonly has no usable IPv4 or IPv6 address'],
    ['empty', '--listen-addr: interface empty has no usable IPv4 or IPv6 address'],
    ['foo', '--listen-addr: "foo" is neither an IP address nor an interface on this host'],
    ['example.com:2377', '--listen-addr: "example.com" is neither an IP address nor an interface on this host'],
    ['constructor', '--listen-addr: "constructor" is neither an IP address nor an interface on this host'],
    ['eth0:99999', '--listen-addr: invalid port "99999" (expected 1-65535)'],
  ];
  for (const [value, message] of table) fails(() => resolveListenAddr(value, HOST), message);
});

t('resolveAdvertiseAddr: explicit address or interface, port from the listen address', () => {
  const table: [string, HostPort, string, number][] = [
    ['192.0.2.10', ANY, '192.0.2.10', 2377],
    ['192.0.2.10:3000', ANY, '192.0.2.10', 3000],
    ['192.0.2.10', { host: '0.0.0.0', port: 4000 }, '192.0.2.10', 4000],
    ['eth1', ANY, '198.51.100.7', 2377],
    ['eth1:2400', ANY, '198.51.100.7', 2400],
    ['[FD00::10]', ANY, 'fd00::10', 2377],
    ['fd00::10', ANY, 'fd00::10', 2377],
    ['[fd00::10]:9', ANY, 'fd00::10', 9],
  ];
  for (const [value, listen, host, port] of table) equal(resolveAdvertiseAddr(value, listen, HOST), { host, port }, value);
  // `:PORT` keeps the port and detects the host.
  equal(resolveAdvertiseAddr(':2500', ANY, fake({ lo: LO, eth0: [v4('192.0.2.10')] })), { host: '192.0.2.10', port: 2500 });
});

t('resolveAdvertiseAddr: explicit address errors, exact', () => {
  const reach = 'which other nodes cannot reach';
  const table: [string, string][] = [
    ['192.0.2.99', '--advertise-addr: 192.0.2.99 is not an address of this host'],
    ['192.0.2.99:2377', '--advertise-addr: 192.0.2.99 is not an address of this host'],
    ['2001:db8::99', '--advertise-addr: 2001:db8::99 is not an address of this host'],
    ['0.0.0.0', `--advertise-addr: 0.0.0.0 is the unspecified address, ${reach}`],
    ['[::]:2377', `--advertise-addr: :: is the unspecified address, ${reach}`],
    ['127.0.0.1', `--advertise-addr: 127.0.0.1 is a loopback address, ${reach}`],
    ['127.1.2.3', `--advertise-addr: 127.1.2.3 is a loopback address, ${reach}`],
    ['::1', `--advertise-addr: ::1 is a loopback address, ${reach}`],
    ['lo', `--advertise-addr: 127.0.0.1 (interface lo) is a loopback address, ${reach}`],
    ['nosuch', '--advertise-addr: "nosuch" is neither an IP address nor an interface on this host'],
    ['multi', '--advertise-addr: interface multi has more than one IPv4 address (10.0.0.1 and 10.0.0.2)'],
    ['eth0:99999', '--advertise-addr: invalid port "99999" (expected 1-65535)'],
  ];
  for (const [value, message] of table) fails(() => resolveAdvertiseAddr(value, ANY, HOST), message);
});

t('resolveAdvertiseAddr unset: the listen address when it is specific', () => {
  equal(resolveAdvertiseAddr(undefined, { host: '192.0.2.10', port: 2400 }, HOST), { host: '192.0.2.10', port: 2400 });
  equal(resolveAdvertiseAddr(undefined, { host: 'FD00::10', port: 1 }, HOST), { host: 'fd00::10', port: 1 });
  const hint = ' - specify one with --advertise-addr';
  fails(() => resolveAdvertiseAddr(undefined, { host: '127.0.0.1', port: 2377 }, HOST), `cannot advertise the listen address 127.0.0.1: it is a loopback address, which other nodes cannot reach${hint}`);
  fails(() => resolveAdvertiseAddr(undefined, { host: '192.0.2.99', port: 2377 }, HOST), `cannot advertise the listen address 192.0.2.99: it is not an address of this host${hint}`);
});

t('resolveAdvertiseAddr unset: the one usable address of the host, IPv4 first', () => {
  const table: [string, Record<string, InterfaceAddress[]>, HostPort, string][] = [
    ['one IPv4 beside link-local IPv6', { lo: LO, eth0: [v4('192.0.2.10'), v6('fe80::1')] }, ANY, '192.0.2.10'],
    ['IPv4 preferred across interfaces', { lo: LO, eth0: [v4('192.0.2.10')], eth1: [v6('2001:db8::1')] }, ANY, '192.0.2.10'],
    ['IPv6 when there is no IPv4', { lo: LO, eth0: [v6('fd00::1'), v6('fe80::1')] }, ANY, 'fd00::1'],
    ['listen on :: also detects', { lo: LO, eth0: [v4('192.0.2.10')] }, { host: '::', port: 7 }, '192.0.2.10'],
    ['internal addresses are skipped', { lo: [...LO, v4('10.9.9.9', true)], eth0: [v4('192.0.2.10')] }, ANY, '192.0.2.10'],
    ['v4 link-local is skipped', { eth0: [v4('169.254.1.1'), v4('192.0.2.10')] }, ANY, '192.0.2.10'],
  ];
  for (const [name, table_, listen, host] of table) equal(resolveAdvertiseAddr(undefined, listen, fake(table_)), { host, port: listen.port }, name);
});

t('resolveAdvertiseAddr unset: none or several candidates, exact', () => {
  const hint = ' - specify one with --advertise-addr';
  const many = 'could not choose an IP address to advertise since this system has multiple addresses';
  const none = `could not find an IP address to advertise${hint}`;
  const table: [Record<string, InterfaceAddress[]>, string][] = [
    [{ lo: LO, eth0: [v4('10.0.0.1')], eth1: [v4('10.1.0.1')] }, `${many} on different interfaces (10.0.0.1 on eth0 and 10.1.0.1 on eth1)${hint}`],
    [{ lo: LO, eth0: [v4('10.0.0.1'), v4('10.0.0.2')] }, `${many} on interface eth0 (10.0.0.1 and 10.0.0.2)${hint}`],
    [{ eth0: [v6('fd00::1')], eth1: [v6('fd00::2')] }, `${many} on different interfaces (fd00::1 on eth0 and fd00::2 on eth1)${hint}`],
    [{ lo: LO }, none],
    [{ lo: LO, eth0: [v4('169.254.1.1'), v6('fe80::1')] }, none],
    [{}, none],
  ];
  for (const [table_, message] of table) fails(() => resolveAdvertiseAddr(undefined, ANY, fake(table_)), message);
  fails(() => resolveAdvertiseAddr(':2500', ANY, fake({ lo: LO })), none);
});

t('resolveDataPathAddr: default, address or interface', () => {
  const table: [string | undefined, string][] = [
    [undefined, '192.0.2.10'],
    ['198.51.100.7', '198.51.100.7'],
    ['eth1', '198.51.100.7'],
    ['FD00::10', 'fd00::10'],
    ['[fd00::10]', 'fd00::10'],
  ];
  for (const [value, want] of table) is(resolveDataPathAddr(value, '192.0.2.10', HOST), want, String(value));
});

t('resolveDataPathAddr errors, exact', () => {
  const table: [string, string][] = [
    ['1.2.3.4:5', '--datapath-addr: takes an address without a port, got "1.2.3.4:5"'],
    ['192.0.2.10:99999', '--datapath-addr: takes an address without a port, got "192.0.2.10:99999"'],
    ['[fd00::10]:4789', '--datapath-addr: takes an address without a port, got "[fd00::10]:4789"'],
    ['eth0:4789', '--datapath-addr: takes an address without a port, got "eth0:4789"'],
    ['192.0.2.99', '--datapath-addr: 192.0.2.99 is not an address of this host'],
    ['0.0.0.0', '--datapath-addr: 0.0.0.0 is the unspecified address, which other nodes cannot reach'],
    ['lo', '--datapath-addr: 127.0.0.1 (interface lo) is a loopback address, which other nodes cannot reach'],
    ['nosuch', '--datapath-addr: "nosuch" is neither an IP address nor an interface on this host'],
    ['', '--datapath-addr: expected ADDR, got ""'],
  ];
  for (const [value, message] of table) fails(() => resolveDataPathAddr(value, '192.0.2.10', HOST), message);
});

t('validateDataPathPort: 1024-49151, default 4789', () => {
  for (const [n, want] of [[undefined, 4789], [1024, 1024], [4789, 4789], [49151, 49151]] as const) is(validateDataPathPort(n), want);
  for (const n of [80, 0, -1, 1023, 49152, 65535]) fails(() => validateDataPathPort(n), `--data-path-port: ${n} is outside the range 1024-49151`);
  for (const n of [4789.5, NaN, Infinity]) fails(() => validateDataPathPort(n), `--data-path-port: expected an integer in 1024-49151, got ${n}`);
});

t('validateAddrPools: defaults and valid input', () => {
  equal(validateAddrPools(undefined, undefined), { pools: ['10.0.0.0/8'], maskLength: 24 });
  equal(validateAddrPools([], undefined), { pools: ['10.0.0.0/8'], maskLength: 24 });
  equal(validateAddrPools(['10.0.0.0/16', '192.168.0.0/16'], 20), { pools: ['10.0.0.0/16', '192.168.0.0/16'], maskLength: 20 });
  equal(validateAddrPools(['10.0.0.0/8'], 8), { pools: ['10.0.0.0/8'], maskLength: 8 });
  equal(validateAddrPools(undefined, 29), { pools: ['10.0.0.0/8'], maskLength: 29 });
  equal(validateAddrPools(['10.20.0.0/29'], 29), { pools: ['10.20.0.0/29'], maskLength: 29 });
  // The answer is the caller's to keep: a fresh array, never the default itself.
  ok(validateAddrPools(undefined, undefined).pools !== DEFAULT_ADDR_POOLS);
});

t('validateAddrPools errors, exact', () => {
  const mask = '--default-addr-pool-mask-length';
  const table: [string[] | undefined, number | undefined, string][] = [
    [['10.0.0.1/8'], 24, '--default-addr-pool: 10.0.0.1/8 has host bits set (did you mean 10.0.0.0/8?)'],
    [['10.0.0.0'], 24, '--default-addr-pool: "10.0.0.0" is not an IPv4 CIDR (expected A.B.C.D/N)'],
    [['fd00::/8'], 24, '--default-addr-pool: "fd00::/8" is not an IPv4 CIDR (expected A.B.C.D/N)'],
    [['10.0.0.0/33'], 24, '--default-addr-pool: "10.0.0.0/33" has prefix length 33 (expected 0-32)'],
    [['10.0.0.0/30'], 30, '--default-addr-pool: 10.0.0.0/30 is too small (its prefix length must be at most 29)'],
    [['10.0.0.0/8', '10.1.0.0/16'], 24, '--default-addr-pool: 10.1.0.0/16 overlaps 10.0.0.0/8'],
    [['192.168.0.0/16', '10.0.0.0/8', '10.0.0.0/8'], 24, '--default-addr-pool: 10.0.0.0/8 overlaps 10.0.0.0/8'],
    [undefined, 30, `${mask}: 30 is longer than 29, the longest allowed`],
    [undefined, 24.5, `${mask}: expected an integer, got 24.5`],
    [undefined, NaN, `${mask}: expected an integer, got NaN`],
    [undefined, 7, `${mask}: 7 is shorter than the /8 of pool 10.0.0.0/8; subnets must fit inside every pool`],
    [['10.0.0.0/16'], 8, `${mask}: 8 is shorter than the /16 of pool 10.0.0.0/16; subnets must fit inside every pool`],
    [['10.0.0.0/8', '172.16.0.0/26'], undefined, `${mask}: 24 is shorter than the /26 of pool 172.16.0.0/26; subnets must fit inside every pool`],
  ];
  for (const [pools, m, message] of table) fails(() => validateAddrPools(pools, m), message);
});

t('parseRemoteAddr: HOST[:PORT], port 2377 by default, names kept as written', () => {
  const table: [string, string, number][] = [
    ['192.0.2.1', '192.0.2.1', 2377],
    ['192.0.2.1:4000', '192.0.2.1', 4000],
    ['manager-1', 'manager-1', 2377],
    ['mgr.example.com:2400', 'mgr.example.com', 2400],
    ['MGR.Example.COM', 'MGR.Example.COM', 2377],
    ['[FD00::1]:2377', 'fd00::1', 2377],
    ['fd00::1', 'fd00::1', 2377],
    ['127.0.0.1:2378', '127.0.0.1', 2378], // several agents on one test machine
  ];
  for (const [value, host, port] of table) equal(parseRemoteAddr(value), { host, port }, value);
});

t('parseRemoteAddr errors name the join address, exact', () => {
  const bad = (h: string) => `join address: "${h}" is not a valid host name or IP address`;
  const table: [string, string][] = [
    [':2377', 'join address: ":2377" has no host'],
    ['mgr:0', 'join address: invalid port "0" (expected 1-65535)'],
    ['mgr:99999', 'join address: invalid port "99999" (expected 1-65535)'],
    ['', 'join address: expected HOST[:PORT], got ""'],
    ['a b', 'join address: expected HOST[:PORT], got "a b"'],
    ['foo_bar', bad('foo_bar')],
    ['-mgr', bad('-mgr')],
    ['mgr-', bad('mgr-')],
    ['a..b', bad('a..b')],
    ['1.2.3', bad('1.2.3')],
    ['10.1:2377', bad('10.1')],
    [`${'x'.repeat(64)}.com`, bad(`${'x'.repeat(64)}.com`)],
    ['0.0.0.0', "join address: 0.0.0.0 is the unspecified address; give a manager's address"],
    ['[::]:2377', "join address: :: is the unspecified address; give a manager's address"],
  ];
  for (const [value, message] of table) fails(() => parseRemoteAddr(value), message);
});

t('formatHostPort brackets IPv6 and round-trips through parseRemoteAddr', () => {
  const table: [HostPort, string][] = [
    [{ host: '192.0.2.1', port: 2377 }, '192.0.2.1:2377'],
    [{ host: 'fd00::1', port: 5 }, '[fd00::1]:5'],
    [{ host: 'mgr.example.com', port: 2400 }, 'mgr.example.com:2400'],
  ];
  for (const [hp, text] of table) {
    is(formatHostPort(hp), text);
    equal(parseRemoteAddr(text), hp);
  }
});

t.run();
