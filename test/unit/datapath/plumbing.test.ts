// The node's plumbing without root: the exact commands of every operation
// (DESIGN §3), the verdicts on what the tools answer, HostPlumbing driven by a
// scripted runner, and FakePlumbing against the shared contract.
import { suite, is, ok, equal } from '../../harness.js';
import type { RunOptions, RunResult } from '../../../agent/host/run.js';
import { FakePlumbing, HostPlumbing, macForIPv4, pipeAddrs, pipeMtu, type SandboxSpec } from '../../../agent/datapath/plumbing.js';
import {
  addGwIfacePlan, addOverlayIfacePlan, adoptNetnsPlan, createEndpointPlan, defaultRoutePlan, setDefaultRoutePlan, createGwbridgePlan, createSandboxPlan, deleteEndpointPlan,
  deleteNetnsPlan, deleteSandboxPlan, sandboxLinksPlan, endpointLinksPlan, existingGwbridgePlan, gwbridgeForwardingPlan, gwbridgeProbePlan, hasLinkPlan, listPlan,
  releaseNetnsPlan, removeGwIfacePlan, removeGwbridgePlan, removeOverlayIfacePlan, sandboxProbePlan, type Step,
} from '../../../agent/datapath/plumbing-plan.js';
import { batchFailures, parseDefaultRoute, parseGwbridgeProbe, parseLinkNames, parseNetnsNames, sandboxLinksReady, stepError, txChecksumOff } from '../../../agent/datapath/plumbing-verdict.js';
import { plumbingContract } from '../../../agent/datapath/plumbing-contract.js';

const t = suite('datapath/plumbing');

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}

const SB: SandboxSpec = { hostNetns: 'h0', netns: 'ag-n4097', hostLink: 'ag-p4097', pipeIndex: 0, vni: 4097, mtu: 1350 };
const OVERLAY = { sandboxNetns: 'ag-n4097', sandboxLink: 'v0123456789ab', endpointNetns: 'ag-e0123456789ab', ifname: 'eth0', address: '10.0.1.2/24', mac: '02:42:0a:00:01:02', mtu: 1350 };
const GW = { hostNetns: 'h0', bridge: 'agent_gwbridge', hostLink: 'ag-g0123456789', endpointNetns: 'ag-e0123456789ab', address: '172.18.0.2/16', gateway: '172.18.0.1', isolated: true };
const GWB = { hostNetns: 'h0', name: 'agent_gwbridge', natTable: 'agent_nat' };
const NO_IPV6 = ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];

// --- addresses and names ---

t('pipeAddrs: a /30 per index from 169.254.64.0/18, host .1 and sandbox .2; the index is checked', () => {
  equal(pipeAddrs(0), { host: '169.254.64.1', sandbox: '169.254.64.2' });
  equal(pipeAddrs(1), { host: '169.254.64.5', sandbox: '169.254.64.6' });
  equal(pipeAddrs(63), { host: '169.254.64.253', sandbox: '169.254.64.254' });
  equal(pipeAddrs(64), { host: '169.254.65.1', sandbox: '169.254.65.2' });
  equal(pipeAddrs(4095), { host: '169.254.127.253', sandbox: '169.254.127.254' });
  for (const bad of [-1, 4096, 1.5, Number.NaN]) is(message(() => pipeAddrs(bad)), `pipeIndex: expected an integer from 0 to 4095, got ${bad}`);
});

t("macForIPv4: docker's 02:42 and the four address bytes", () => {
  is(macForIPv4('10.0.1.2'), '02:42:0a:00:01:02');
  is(macForIPv4('255.255.255.255'), '02:42:ff:ff:ff:ff');
  is(macForIPv4('0.0.0.0'), '02:42:00:00:00:00');
  is(message(() => macForIPv4('10.0.1')), 'ip: expected a dotted-quad IPv4 address, got "10.0.1"');
  is(message(() => macForIPv4('10.0.1.2/24')), 'ip: expected a dotted-quad IPv4 address, got "10.0.1.2/24"');
});

t('pipe MTU: the overlay MTU plus 50 (inner Ethernet 14, VXLAN 8, UDP 8, IPv4 20)', () => {
  is(pipeMtu(1350), 1400);
  is(pipeMtu(1450), 1500);
});

// --- exact steps ---

t('createSandbox: host end first, a fresh netns, IPv6 off, the pipe, br0 and vx0 in one batch, TX checksum off', () => {
  equal(createSandboxPlan(SB), [
    { argv: ['ip', '-n', 'h0', 'link', 'del', 'ag-p4097'], absentOk: true },
    { argv: ['ip', '-force', '-batch', '-'], input: 'netns del ag-n4097\nnetns add ag-n4097\n', absentOk: [1] },
    { argv: NO_IPV6, netns: 'ag-n4097' },
    {
      argv: ['ip', '-n', 'h0', '-batch', '-'],
      input: 'link add ag-p4097 mtu 1400 type veth peer name pipe mtu 1400 netns ag-n4097\naddr add 169.254.64.1/30 dev ag-p4097\nlink set ag-p4097 up\n',
    },
    {
      argv: ['ip', '-n', 'ag-n4097', '-batch', '-'],
      input: [
        'addr add 169.254.64.2/30 dev pipe',
        'link set pipe up',
        'link add br0 mtu 1350 type bridge',
        'link set br0 up',
        'link add vx0 mtu 1350 type vxlan id 4097 local 169.254.64.2 remote 169.254.64.1 dstport 4789 nolearning dev pipe',
        'link set vx0 master br0 up',
        '',
      ].join('\n'),
    },
    { argv: ['ethtool', '-K', 'pipe', 'tx', 'off'], netns: 'ag-n4097' },
  ]);
  // Without hostNetns, the host side runs in the current netns.
  const { hostNetns: _, ...here } = SB;
  const steps = createSandboxPlan({ ...here, pipeIndex: 5 });
  equal(steps[0]?.argv, ['ip', 'link', 'del', 'ag-p4097']);
  equal(steps[3]?.argv, ['ip', '-batch', '-']);
  ok(steps[3]?.input?.includes('addr add 169.254.64.21/30 dev ag-p4097'));
  ok(steps[4]?.input?.includes('local 169.254.64.22 remote 169.254.64.21'));
});

t('deleteSandbox: the host end, what is left inside link by link, the netns; sandbox probes', () => {
  equal(deleteSandboxPlan(SB), [{ argv: ['ip', '-n', 'h0', 'link', 'del', 'ag-p4097'], absentOk: true }]);
  equal(sandboxLinksPlan(SB), { argv: ['ip', '-n', 'ag-n4097', '-j', 'link', 'show'], absentOk: true });
  equal(deleteNetnsPlan('ag-n4097', ['lo', 'br0', 'vx0', 'v0123456789ab']), [
    { argv: ['ip', '-n', 'ag-n4097', '-force', '-batch', '-'], input: 'link del br0\nlink del vx0\nlink del v0123456789ab\n', absentOk: [1, 2, 3] },
    { argv: ['ip', 'netns', 'del', 'ag-n4097'], absentOk: true },
  ]);
  equal(sandboxProbePlan(SB), [
    { argv: ['ip', '-n', 'h0', '-j', 'addr', 'show', 'dev', 'ag-p4097'], absentOk: true },
    { argv: ['ip', '-n', 'ag-n4097', '-d', '-j', 'addr', 'show'], absentOk: true },
    { argv: ['ethtool', '-k', 'pipe'], netns: 'ag-n4097' },
  ]);
});

t('endpoint netns: fresh, IPv6 off, lo up; deleted link by link, then the netns', () => {
  equal(createEndpointPlan('ag-e1'), [
    { argv: ['ip', '-force', '-batch', '-'], input: 'netns del ag-e1\nnetns add ag-e1\n', absentOk: [1] },
    { argv: NO_IPV6, netns: 'ag-e1' },
    { argv: ['ip', '-n', 'ag-e1', 'link', 'set', 'lo', 'up'] },
  ]);
  equal(endpointLinksPlan('ag-e1'), { argv: ['ip', '-n', 'ag-e1', '-j', 'link', 'show'], absentOk: true });
  equal(deleteEndpointPlan('ag-e1', ['lo', 'eth0', 'eth-gw']), [
    { argv: ['ip', '-n', 'ag-e1', '-force', '-batch', '-'], input: 'link del eth0\nlink del eth-gw\n', absentOk: [1, 2] },
    { argv: ['ip', 'netns', 'del', 'ag-e1'], absentOk: true },
  ]);
  equal(deleteEndpointPlan('ag-e1', ['lo']), [{ argv: ['ip', 'netns', 'del', 'ag-e1'], absentOk: true }]);
});

t('adoptNetns binds the file as `ip netns attach` would and proves it; releaseNetns only drops the name', () => {
  equal(adoptNetnsPlan('/var/run/docker/netns/abc', 'ag-x1'), [
    { argv: ['ip', 'netns', 'del', 'ag-x1'], absentOk: true },
    { argv: ['mkdir', '-p', '/run/netns'] },
    { argv: ['touch', '/run/netns/ag-x1'] },
    { argv: ['mount', '--bind', '/var/run/docker/netns/abc', '/run/netns/ag-x1'] },
    { argv: ['ip', '-n', 'ag-x1', 'link', 'show', 'lo'] },
  ]);
  equal(releaseNetnsPlan('ag-x1'), [{ argv: ['ip', 'netns', 'del', 'ag-x1'], absentOk: true }]);
  is(message(() => adoptNetnsPlan('netns/abc', 'ag-x1')), 'path: expected an absolute path to a network namespace file, got "netns/abc"');
});

t('overlay interface: a veth from the sandbox bridge to ethN with address, MAC and MTU', () => {
  equal(addOverlayIfacePlan(OVERLAY), [
    {
      argv: ['ip', '-n', 'ag-n4097', '-force', '-batch', '-'],
      input: 'link del v0123456789ab\nlink add v0123456789ab mtu 1350 type veth peer name eth0 mtu 1350 address 02:42:0a:00:01:02 netns ag-e0123456789ab\nlink set v0123456789ab master br0 up\n',
      absentOk: [1],
    },
    { argv: ['ip', '-n', 'ag-e0123456789ab', '-batch', '-'], input: 'addr add 10.0.1.2/24 dev eth0\nlink set eth0 up\n' },
  ]);
  equal(removeOverlayIfacePlan(OVERLAY), [{ argv: ['ip', '-n', 'ag-n4097', 'link', 'del', 'v0123456789ab'], absentOk: true }]);
});

t('gwbridge interface: an isolated port (icc off), eth-gw with its address and the default route', () => {
  equal(addGwIfacePlan(GW), [
    {
      argv: ['ip', '-n', 'h0', '-force', '-batch', '-'],
      input: [
        'link del ag-g0123456789',
        'link add ag-g0123456789 type veth peer name eth-gw netns ag-e0123456789ab',
        'link set ag-g0123456789 master agent_gwbridge',
        'link set ag-g0123456789 type bridge_slave isolated on',
        'link set ag-g0123456789 up',
        '',
      ].join('\n'),
      absentOk: [1],
    },
    { argv: ['ip', '-n', 'ag-e0123456789ab', '-batch', '-'], input: 'addr add 172.18.0.2/16 dev eth-gw\nlink set eth-gw up\nroute replace default via 172.18.0.1 dev eth-gw\n' },
  ]);
  const open = addGwIfacePlan({ ...GW, isolated: false, mtu: 1400, ifname: 'gw0' });
  is(open[0]?.input, 'link del ag-g0123456789\nlink add ag-g0123456789 mtu 1400 type veth peer name gw0 mtu 1400 netns ag-e0123456789ab\nlink set ag-g0123456789 master agent_gwbridge\nlink set ag-g0123456789 up\n');
  equal(removeGwIfacePlan(GW), [{ argv: ['ip', '-n', 'h0', 'link', 'del', 'ag-g0123456789'], absentOk: true }]);
  // An endpoint on internal networks only: the leg (the resolver is on it), no default route.
  is(addGwIfacePlan({ ...GW, defaultRoute: false })[1]?.input, 'addr add 172.18.0.2/16 dev eth-gw\nlink set eth-gw up\n');
  equal(setDefaultRoutePlan({ endpointNetns: 'ag-e0123456789ab', gateway: '172.18.0.1' }), [{ argv: ['ip', '-n', 'ag-e0123456789ab', 'route', 'replace', 'default', 'via', '172.18.0.1', 'dev', 'eth-gw'] }]);
  equal(setDefaultRoutePlan({ endpointNetns: 'ag-e0123456789ab' }), [{ argv: ['ip', '-n', 'ag-e0123456789ab', 'route', 'flush', 'exact', '0.0.0.0/0'] }]);
  is(message(() => setDefaultRoutePlan({ endpointNetns: 'ag-e0123456789ab', gateway: '172.18.0' })), 'gateway: expected a dotted-quad IPv4 address, got "172.18.0"');
});

t('gwbridge: probe, create with the gateway, only up when it exists, forwarding and the masquerade rule, removal', () => {
  equal(gwbridgeProbePlan(GWB), { argv: ['ip', '-n', 'h0', '-d', '-j', 'addr', 'show', 'dev', 'agent_gwbridge'], absentOk: true });
  equal(createGwbridgePlan(GWB), [
    { argv: ['ip', '-n', 'h0', '-batch', '-'], input: 'link add agent_gwbridge address 02:42:ac:12:00:01 type bridge\naddr add 172.18.0.1/16 dev agent_gwbridge\nlink set agent_gwbridge up\n' },
  ]);
  is(createGwbridgePlan({ ...GWB, subnet: '10.5.0.0/24', gateway: '10.5.0.254', mtu: 1400 })[0]?.input, 'link add agent_gwbridge mtu 1400 address 02:42:0a:05:00:fe type bridge\naddr add 10.5.0.254/24 dev agent_gwbridge\nlink set agent_gwbridge up\n');
  equal(existingGwbridgePlan(GWB), [{ argv: ['ip', '-n', 'h0', 'link', 'set', 'agent_gwbridge', 'up'] }]);
  equal(gwbridgeForwardingPlan(GWB, '172.18.0.0/16'), [
    { argv: ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], netns: 'h0' },
    {
      argv: ['nft', '-f', '-'],
      input: 'table ip agent_nat\ndelete table ip agent_nat\ntable ip agent_nat {\n\tchain postrouting {\n\t\ttype nat hook postrouting priority 100; policy accept;\n\t\tip saddr 172.18.0.0/16 oifname != "agent_gwbridge" masquerade\n\t}\n}\n',
      netns: 'h0',
    },
  ]);
  equal(gwbridgeForwardingPlan({ name: 'agent_gwbridge', masquerade: false }, '172.18.0.0/16'), [{ argv: ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'] }]);
  equal(removeGwbridgePlan({ hostNetns: 'h0', bridge: 'agent_gwbridge', natTable: 'agent_nat' }), [
    { argv: ['ip', '-n', 'h0', 'link', 'del', 'agent_gwbridge'], absentOk: true },
    { argv: ['nft', '-f', '-'], input: 'table ip agent_nat\ndelete table ip agent_nat\n', netns: 'h0' },
  ]);
  equal(removeGwbridgePlan({ natTable: 'agent_nat' }).map((s) => s.argv), [['nft', '-f', '-']]);
});

t('queries: hasLink, list, the default route', () => {
  equal(hasLinkPlan('ag-n4097', 'v0123456789ab'), { argv: ['ip', '-n', 'ag-n4097', 'link', 'show', 'dev', 'v0123456789ab'], absentOk: true });
  equal(defaultRoutePlan('ag-e0123456789ab'), { argv: ['ip', '-n', 'ag-e0123456789ab', '-j', 'route', 'show', 'default'] });
  is(parseDefaultRoute('[{"dst":"default","gateway":"172.18.0.1","dev":"eth-gw","flags":[]}]\n'), '172.18.0.1');
  is(parseDefaultRoute('[]\n'), undefined);
  is(parseDefaultRoute(''), undefined);
  equal(listPlan({ hostNetns: 'h0', netnsPrefix: 'ag-', linkPrefix: 'ag-' }), [{ argv: ['ip', '-j', 'netns', 'list'] }, { argv: ['ip', '-n', 'h0', '-j', 'link', 'show'] }]);
});

t('a bad spec is refused naming the field, before any step exists', () => {
  is(message(() => createSandboxPlan({ ...SB, vni: 0 })), 'vni: expected an integer from 1 to 16777215, got 0');
  is(message(() => createSandboxPlan({ ...SB, mtu: 65_486 })), 'mtu: expected an integer from 68 to 65485, got 65486');
  is(message(() => createSandboxPlan({ ...SB, hostLink: 'ag-p4097-toolong' })), 'hostLink: expected an interface name of 1-15 of [A-Za-z0-9_.-] not starting with "." or "-", got "ag-p4097-toolong"');
  is(message(() => createSandboxPlan({ ...SB, hostNetns: '-n' })), 'hostNetns: expected a netns name of 1-64 of [A-Za-z0-9_.-] not starting with "." or "-", got "-n"');
  is(message(() => addOverlayIfacePlan({ ...OVERLAY, address: '10.0.1.2' })), 'address: expected an IPv4 address in CIDR form A.B.C.D/N (N 1-32), got "10.0.1.2"');
  is(message(() => addOverlayIfacePlan({ ...OVERLAY, ifname: 'eth0 up' })), 'ifname: expected an interface name of 1-15 of [A-Za-z0-9_.-] not starting with "." or "-", got "eth0 up"');
  is(message(() => addOverlayIfacePlan({ ...OVERLAY, mac: '02:42:0A:00:01:02' })), 'mac: expected a unicast MAC in lower-case aa:bb:cc:dd:ee:ff form, got "02:42:0A:00:01:02"');
  is(message(() => createGwbridgePlan({ ...GWB, subnet: '172.18.0.1/16' })), 'subnet: 172.18.0.1/16 has host bits set (did you mean 172.18.0.0/16?)');
  is(message(() => createGwbridgePlan({ ...GWB, gateway: '10.0.0.1' })), 'gateway: 10.0.0.1 is not in subnet 172.18.0.0/16');
  is(message(() => createGwbridgePlan({ ...GWB, natTable: 'agent-nat' })), 'natTable: expected an nft table name of 1-32 of [A-Za-z0-9_] starting with a letter, got "agent-nat"');
});

// --- verdicts ---

const res = (code: number, stderr = '', stdout = ''): RunResult => ({ code, stdout, stderr });
const DEL: Step = { argv: ['ip', '-n', 'h0', 'link', 'del', 'ag-p1'], absentOk: true };
const ADD_GW = addGwIfacePlan(GW)[0]!;

t('verdicts: absent is fine where allowed, anything else is one line naming the command (and the batch line)', () => {
  is(stepError(DEL, res(0)), undefined);
  is(stepError(DEL, res(1, 'Cannot find device "ag-p1"\n')), undefined);
  is(stepError(DEL, res(255, 'Cannot open network namespace "h0": No such file or directory\n')), undefined);
  is(stepError(DEL, res(2, 'RTNETLINK answers: Operation not permitted\n')), 'ip -n h0 link del ag-p1: RTNETLINK answers: Operation not permitted');
  is(stepError({ argv: ['ip', 'link', 'del', 'x'] }, res(1, 'Cannot find device "x"\n')), 'ip link del x: Cannot find device "x"');
  // A -force batch: the tolerated first line alone failed.
  is(stepError(ADD_GW, res(1, 'Cannot find device "ag-g0123456789"\nCommand failed -:1\n')), undefined);
  is(
    stepError(ADD_GW, res(1, 'Cannot find device "ag-g0123456789"\nCommand failed -:1\nRTNETLINK answers: File exists\nCommand failed -:2\n')),
    'ip -n h0 -force -batch -: line 2 (link add ag-g0123456789 type veth peer name eth-gw netns ag-e0123456789ab): RTNETLINK answers: File exists',
  );
  // ip stops without a line number on an argument it cannot resolve, even after a tolerated line.
  is(
    stepError(ADD_GW, res(255, 'Cannot find device "ag-g0123456789"\nCommand failed -:1\nError: argument "agent_gwbridge" is wrong: Device does not exist\n')),
    'ip -n h0 -force -batch -: Error: argument "agent_gwbridge" is wrong: Device does not exist',
  );
  // A batch that cannot enter its netns is absent only when every line may be.
  is(stepError(ADD_GW, res(255, 'Cannot open network namespace "h0": No such file or directory\n')), 'ip -n h0 -force -batch -: Cannot open network namespace "h0": No such file or directory');
  const dels = deleteEndpointPlan('ag-e1', ['eth0'])[0]!;
  is(stepError(dels, res(255, 'Cannot open network namespace "ag-e1": No such file or directory\n')), undefined);
  // Tools run through `ip netns exec` show it.
  is(stepError({ argv: ['ethtool', '-K', 'pipe', 'tx', 'off'], netns: 'sb' }, res(1, 'Cannot get device feature info: No such device\n')), 'ip netns exec sb ethtool -K pipe tx off: Cannot get device feature info: No such device');
  is(stepError({ argv: ['true'] }, res(3)), 'true: exited with code 3');
  equal(batchFailures('a\nCommand failed -:2\n\nb\nc\nCommand failed -:5\nd\n'), { failures: [{ line: 2, message: 'a' }, { line: 5, message: 'b' }], rest: ['d'] });
});

t('probes: names, an existing gwbridge, a sandbox as made, TX checksum state', () => {
  equal(parseNetnsNames(''), []);
  equal(parseNetnsNames('[{"name":"ag-e1","id":3},{"name":"ag-n4097"}]'), ['ag-e1', 'ag-n4097']);
  equal(parseLinkNames('[{"ifindex":1,"ifname":"lo"},{"ifindex":2,"ifname":"eth0"}]'), ['lo', 'eth0']);
  is(parseGwbridgeProbe(''), undefined);
  equal(
    parseGwbridgeProbe('[{"ifname":"gwb","linkinfo":{"info_kind":"bridge"},"addr_info":[{"family":"inet6","local":"fe80::1","prefixlen":64},{"family":"inet","local":"10.10.3.7","prefixlen":24}]}]'),
    { kind: 'bridge', subnet: '10.10.3.0/24', gateway: '10.10.3.7' },
  );
  equal(parseGwbridgeProbe('[{"ifname":"gwb","linkinfo":{"info_kind":"veth"},"addr_info":[]}]'), { kind: 'veth' });
  equal(parseGwbridgeProbe('[{"ifname":"gwb","addr_info":[]}]'), { kind: 'device' });

  const up = ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'];
  const hostOut = JSON.stringify([{ ifname: 'ag-p4097', flags: up, mtu: 1400, addr_info: [{ family: 'inet', local: '169.254.64.1', prefixlen: 30 }] }]);
  const vxData = { id: 4097, remote: '169.254.64.1', local: '169.254.64.2', link: 'pipe', port: 4789, learning: false };
  const sandbox = (vx: object = vxData, brMtu = 1350) =>
    JSON.stringify([
      { ifname: 'lo', flags: ['LOOPBACK'], mtu: 65536, addr_info: [] },
      { ifname: 'pipe', flags: up, mtu: 1400, linkinfo: { info_kind: 'veth' }, addr_info: [{ family: 'inet', local: '169.254.64.2', prefixlen: 30 }] },
      { ifname: 'br0', flags: up, mtu: brMtu, linkinfo: { info_kind: 'bridge', info_data: {} }, addr_info: [] },
      { ifname: 'vx0', flags: up, mtu: 1350, master: 'br0', linkinfo: { info_kind: 'vxlan', info_data: vx }, addr_info: [] },
    ]);
  is(sandboxLinksReady(SB, hostOut, sandbox()), true);
  is(sandboxLinksReady({ ...SB, vni: 4098 }, hostOut, sandbox()), false);
  is(sandboxLinksReady(SB, hostOut, sandbox({ ...vxData, learning: true })), false);
  is(sandboxLinksReady(SB, hostOut, sandbox(vxData, 1500)), false);
  is(sandboxLinksReady({ ...SB, pipeIndex: 1 }, hostOut, sandbox()), false);
  is(sandboxLinksReady(SB, '', sandbox()), false);
  is(txChecksumOff('Features for pipe:\nrx-checksumming: on\ntx-checksumming: off\n\ttx-checksum-ipv4: off [fixed]\n'), true);
  is(txChecksumOff('Features for pipe:\ntx-checksumming: on\n'), false);
});

// --- HostPlumbing, with the tools scripted ---

interface Seen {
  argv: string[];
  input?: string;
  netns?: string;
}

/** A runner that records each command and answers from `answer` (default: success, no output). */
function scripted(answer: (argv: readonly string[], n: number) => RunResult | undefined = () => undefined) {
  const seen: Seen[] = [];
  const runner = async (argv: readonly string[], opts: RunOptions): Promise<RunResult> => {
    seen.push({ argv: [...argv], ...(opts.input === undefined ? {} : { input: opts.input }), ...(opts.netns === undefined ? {} : { netns: opts.netns }) });
    is(opts.allowFail, true);
    return answer(argv, seen.length) ?? res(0);
  };
  return { seen, runner };
}

const asSeen = (steps: readonly Step[]): Seen[] => steps.map((s) => ({ argv: [...s.argv], ...(s.input === undefined ? {} : { input: s.input }), ...(s.netns === undefined ? {} : { netns: s.netns }) }));

t('HostPlumbing runs exactly the plan: createSandbox is 6 processes', async () => {
  const { seen, runner } = scripted();
  const p = new HostPlumbing({ run: runner });
  await p.createSandbox(SB);
  equal(seen, asSeen(createSandboxPlan(SB)));
  is(p.spawns, 6);
});

t('HostPlumbing: a failed create names the command and line, then takes back what it made', async () => {
  const { seen, runner } = scripted((argv, n) => (n === 5 ? res(1, 'RTNETLINK answers: Address already in use\nCommand failed -:5\n') : undefined));
  const err = await new HostPlumbing({ run: runner }).createSandbox(SB).catch((e: Error) => e.message);
  is(err, 'createSandbox ag-n4097: ip -n ag-n4097 -batch -: line 5 (link add vx0 mtu 1350 type vxlan id 4097 local 169.254.64.2 remote 169.254.64.1 dstport 4789 nolearning dev pipe): RTNETLINK answers: Address already in use');
  equal(seen.slice(5), asSeen([...deleteSandboxPlan(SB), ...deleteNetnsPlan('ag-n4097', [])]));
});

t('HostPlumbing: an existing gwbridge keeps its addresses and is only brought up; a non-bridge is refused', async () => {
  const probe = '[{"ifname":"agent_gwbridge","flags":["BROADCAST"],"linkinfo":{"info_kind":"bridge"},"addr_info":[{"family":"inet","local":"10.10.0.1","prefixlen":24}]}]';
  const { seen, runner } = scripted((argv) => (argv.includes('-j') ? res(0, '', probe) : undefined));
  equal(await new HostPlumbing({ run: runner }).ensureGwbridge(GWB), { subnet: '10.10.0.0/24', gateway: '10.10.0.1', created: false });
  equal(seen.map((s) => s.argv.join(' ')), ['ip -n h0 -d -j addr show dev agent_gwbridge', 'ip -n h0 link set agent_gwbridge up', 'sysctl -q -w net.ipv4.ip_forward=1', 'nft -f -']);
  ok(seen[3]?.input?.includes('ip saddr 10.10.0.0/24 oifname != "agent_gwbridge" masquerade'));

  const absent = scripted((argv) => (argv.includes('-j') ? res(1, 'Device "agent_gwbridge" does not exist.\n') : undefined));
  equal(await new HostPlumbing({ run: absent.runner }).ensureGwbridge(GWB), { subnet: '172.18.0.0/16', gateway: '172.18.0.1', created: true });
  equal(absent.seen.slice(1), asSeen([...createGwbridgePlan(GWB), ...gwbridgeForwardingPlan(GWB, '172.18.0.0/16')]));

  const veth = scripted(() => res(0, '', '[{"ifname":"agent_gwbridge","linkinfo":{"info_kind":"veth"},"addr_info":[]}]'));
  is(await new HostPlumbing({ run: veth.runner }).ensureGwbridge(GWB).catch((e: Error) => e.message), 'ensureGwbridge agent_gwbridge: agent_gwbridge exists and is a veth, not a bridge');
  const bare = scripted(() => res(0, '', '[{"ifname":"agent_gwbridge","linkinfo":{"info_kind":"bridge"},"addr_info":[]}]'));
  is(await new HostPlumbing({ run: bare.runner }).ensureGwbridge(GWB).catch((e: Error) => e.message), 'ensureGwbridge agent_gwbridge: bridge agent_gwbridge exists without an IPv4 address; give it one or delete it');
});

t('HostPlumbing: deleteEndpoint deletes the links it finds, then the netns; a gone netns is fine', async () => {
  const { seen, runner } = scripted((argv) => (argv.includes('-j') ? res(0, '', '[{"ifname":"lo"},{"ifname":"eth0"},{"ifname":"eth-gw"}]') : undefined));
  await new HostPlumbing({ run: runner }).deleteEndpoint('ag-e1');
  equal(seen, [{ argv: ['ip', '-n', 'ag-e1', '-j', 'link', 'show'] }, ...asSeen(deleteEndpointPlan('ag-e1', ['eth0', 'eth-gw']))]);
  const gone = scripted(() => res(1, 'Cannot open network namespace "ag-e1": No such file or directory\n'));
  await new HostPlumbing({ run: gone.runner }).deleteEndpoint('ag-e1');
  equal(gone.seen.map((s) => s.argv.join(' ')), ['ip -n ag-e1 -j link show', 'ip netns del ag-e1']);
});

t('HostPlumbing: deleteSandbox deletes the host end, then what it finds inside, then the netns', async () => {
  const { seen, runner } = scripted((argv) => (argv.includes('-j') ? res(0, '', '[{"ifname":"lo"},{"ifname":"br0"},{"ifname":"vx0"}]') : undefined));
  await new HostPlumbing({ run: runner }).deleteSandbox(SB);
  equal(seen, asSeen([...deleteSandboxPlan(SB), sandboxLinksPlan(SB), ...deleteNetnsPlan('ag-n4097', ['br0', 'vx0'])]));
});

t('HostPlumbing: a tool that hangs is one line with the operation in front', async () => {
  const p = new HostPlumbing({ run: async (argv) => Promise.reject(new Error(`${argv.join(' ')}: timed out after 30000 ms`)) });
  is(await p.removeGwIface({ hostLink: 'ag-g1' }).catch((e: Error) => e.message), 'removeGwIface ag-g1: ip link del ag-g1: timed out after 30000 ms');
});

// --- FakePlumbing ---

for (const c of plumbingContract) {
  t(`contract (fake): ${c.name}`, () => c.run(new FakePlumbing(), { hostNetns: 'h0', netnsPrefix: 'ct-', linkPrefix: 'ct-' }));
}

t('fake: models links, peers, isolation, routes, forwarding and NAT as the kernel holds them; records every call', async () => {
  const f = new FakePlumbing();
  equal(await f.ensureGwbridge(GWB), { subnet: '172.18.0.0/16', gateway: '172.18.0.1', created: true });
  await f.createSandbox(SB);
  await f.createEndpoint(OVERLAY.endpointNetns);
  await f.addOverlayIface(OVERLAY);
  await f.addGwIface(GW);
  const host = f.host('h0');
  equal(host.ipForward, true);
  equal(host.nat, { agent_nat: { subnet: '172.18.0.0/16', bridge: 'agent_gwbridge' } });
  equal(host.links.map((l) => [l.name, l.kind, l.mtu, l.addrs, l.master ?? null, l.isolated ?? null]), [
    ['ag-g0123456789', 'veth', 1500, [], 'agent_gwbridge', true],
    ['ag-p4097', 'veth', 1400, ['169.254.64.1/30'], null, null],
    ['agent_gwbridge', 'bridge', 1500, ['172.18.0.1/16'], null, null],
    ['lo', 'loopback', 65536, ['127.0.0.1/8'], null, null],
  ]);
  const sb = f.netns('ag-n4097');
  equal(sb?.ipv6, false);
  equal(sb?.links.map((l) => [l.name, l.kind, l.mtu, l.master ?? null, l.peer ?? null]), [
    ['br0', 'bridge', 1350, null, null],
    ['pipe', 'veth', 1400, null, 'host:h0/ag-p4097'],
    ['v0123456789ab', 'veth', 1350, 'br0', 'ag-e0123456789ab/eth0'],
    ['vx0', 'vxlan', 1350, 'br0', null],
  ]);
  equal(sb?.links.find((l) => l.name === 'pipe')?.txChecksum, false);
  equal(sb?.links.find((l) => l.name === 'vx0')?.vni, 4097);
  const ep = f.netns('ag-e0123456789ab');
  equal(ep?.defaultRoute, '172.18.0.1');
  equal(ep?.links.map((l) => [l.name, l.addrs, l.mac ?? null]), [['eth-gw', ['172.18.0.2/16'], null], ['eth0', ['10.0.1.2/24'], '02:42:0a:00:01:02'], ['lo', ['127.0.0.1/8'], null]]);
  equal(f.calls.map((c) => c.op), ['ensureGwbridge', 'createSandbox', 'createEndpoint', 'addOverlayIface', 'addGwIface']);
  equal(f.calls[1]?.arg, SB);

  // Deleting the sandbox takes the endpoint's overlay end with it (a veth pair), the gwbridge port stays.
  await f.deleteSandbox(SB);
  equal(f.netns('ag-e0123456789ab')?.links.map((l) => l.name), ['eth-gw', 'lo']);
  // Deleting the bridge leaves its ports unattached.
  await f.removeGwbridge({ hostNetns: 'h0', bridge: 'agent_gwbridge', natTable: 'agent_nat' });
  equal(f.host('h0').links.find((l) => l.name === 'ag-g0123456789')?.master, undefined);
  equal(f.host('h0').nat, {});
});

t('fake: injected failures, a port whose isolation disagrees with icc, a user link in the way, adopted netns', async () => {
  const f = new FakePlumbing();
  f.failNext('createSandbox', 'createSandbox ag-n4097: ip -n h0 link del ag-p4097: boom');
  is(await f.createSandbox(SB).catch((e: Error) => e.message), 'createSandbox ag-n4097: ip -n h0 link del ag-p4097: boom');
  equal(f.netnsNames(), []);
  await f.createSandbox(SB);
  equal(f.netnsNames(), ['ag-n4097']);

  await f.ensureGwbridge(GWB);
  await f.createEndpoint(GW.endpointNetns);
  is(await f.addGwIface({ ...GW, isolated: false }).catch((e: Error) => e.message), 'addGwIface ag-e0123456789ab ag-g0123456789: isolated: expected true on gwbridge agent_gwbridge (icc false), got false');
  is(await f.addGwIface({ ...GW, endpointNetns: 'ag-nope' }).catch((e: Error) => e.message), 'addGwIface ag-nope ag-g0123456789: ip -n h0 -force -batch -: Error: argument "ag-nope" is wrong: Invalid "netns" value');

  const g = new FakePlumbing();
  g.addHostLink({ name: 'docker_gwbridge', kind: 'veth' });
  is(await g.ensureGwbridge({ name: 'docker_gwbridge' }).catch((e: Error) => e.message), 'ensureGwbridge docker_gwbridge: docker_gwbridge exists and is a veth, not a bridge');
  g.addHostLink({ name: 'mybr', kind: 'bridge', addrs: ['192.168.77.1/24'] });
  equal(await g.ensureGwbridge({ name: 'mybr', masquerade: false }), { subnet: '192.168.77.0/24', gateway: '192.168.77.1', created: false });
  equal([g.host().links.find((l) => l.name === 'mybr')?.up, g.host().nat], [true, {}]);

  g.addForeignNetns('/var/run/docker/netns/abc');
  await g.adoptNetns('/var/run/docker/netns/abc', 'ag-x1');
  await g.addGwIface({ bridge: 'mybr', hostLink: 'ag-gx1', endpointNetns: 'ag-x1', address: '192.168.77.9/24', gateway: '192.168.77.1', isolated: true });
  await g.removeGwIface({ hostLink: 'ag-gx1' });
  await g.releaseNetns('ag-x1');
  equal(g.netnsNames(), []);
  await g.adoptNetns('/var/run/docker/netns/abc', 'ag-x2');
  equal(g.netns('ag-x2')?.links.map((l) => l.name), ['lo']);
  is(
    await g.adoptNetns('/nope', 'ag-x3').catch((e: Error) => e.message),
    'adoptNetns /nope: mount --bind /nope /run/netns/ag-x3: mount: /run/netns/ag-x3: special device /nope does not exist.',
  );
});

t.run();
