// The Plumbing contract as runnable cases (STYLE habit 2): the unit tests run
// them against FakePlumbing, the e2e tests against HostPlumbing inside a
// test-bed host, so the fake cannot drift from the kernel. Each case leaves
// nothing behind when it passes. Observations go through the interface only
// (list, hasLink, sandboxReady, errors).
import type { Plumbing, SandboxSpec } from './plumbing-spec.js';

export interface ContractEnv {
  hostNetns?: string;
  /** Every netns a case makes starts with this. */
  netnsPrefix: string;
  /** Every host link a case makes starts with this (at most 4 characters). */
  linkPrefix: string;
}

export interface ContractCase {
  name: string;
  run(p: Plumbing, env: ContractEnv): Promise<void>;
}

function same(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

/** The one-line message of the rejection, checked to name every `names`. */
async function rejects(p: Promise<unknown>, names: readonly string[], what: string): Promise<string> {
  const m = await p.then(
    () => undefined,
    (e: Error) => e.message,
  );
  if (m === undefined) throw new Error(`${what}: expected a rejection, got success`);
  if (m.includes('\n')) throw new Error(`${what}: expected one line, got ${JSON.stringify(m)}`);
  for (const n of names) if (!m.includes(n)) throw new Error(`${what}: expected the message to name ${n}, got ${JSON.stringify(m)}`);
  return m;
}

function names(env: ContractEnv) {
  const host = env.hostNetns === undefined ? {} : { hostNetns: env.hostNetns };
  const sandbox: SandboxSpec = { ...host, netns: `${env.netnsPrefix}n4100`, hostLink: `${env.linkPrefix}p4100`, pipeIndex: 7, vni: 4100, mtu: 1400 };
  const bridge = `${env.linkPrefix}gwb`;
  const gwbridge = { ...host, name: bridge, subnet: '172.30.0.0/24', icc: false, masquerade: true, natTable: 'agent_ct' };
  const ep = `${env.netnsPrefix}e1`;
  const overlay = { sandboxNetns: sandbox.netns, sandboxLink: 'vcontract0001', endpointNetns: ep, ifname: 'eth0', address: '10.30.0.2/24', mac: '02:42:0a:1e:00:02', mtu: 1400 };
  const gw = { ...host, bridge, hostLink: `${env.linkPrefix}g1`, endpointNetns: ep, address: '172.30.0.2/24', gateway: '172.30.0.1', isolated: true };
  const listing = { ...host, netnsPrefix: env.netnsPrefix, linkPrefix: env.linkPrefix };
  return { host, sandbox, gwbridge, ep, overlay, gw, listing, bridge };
}

async function teardown(p: Plumbing, env: ContractEnv): Promise<void> {
  const n = names(env);
  await p.removeOverlayIface(n.overlay);
  await p.removeGwIface(n.gw);
  await p.deleteEndpoint(n.ep);
  await p.deleteSandbox(n.sandbox);
  await p.removeGwbridge({ ...n.host, bridge: n.bridge, natTable: n.gwbridge.natTable });
}

async function empty(p: Plumbing, env: ContractEnv, what: string): Promise<void> {
  same(await p.list(names(env).listing), { netns: [], links: [] }, what);
}

export const plumbingContract: readonly ContractCase[] = [
  {
    name: 'a sandbox, an endpoint on it and on the gwbridge show in list; teardown leaves nothing, and again is a no-op',
    async run(p, env) {
      const n = names(env);
      same(await p.ensureGwbridge(n.gwbridge), { subnet: '172.30.0.0/24', gateway: '172.30.0.1', created: true }, 'ensureGwbridge');
      await p.createSandbox(n.sandbox);
      same(await p.sandboxReady(n.sandbox), true, 'sandboxReady after createSandbox');
      await p.createEndpoint(n.ep);
      await p.addOverlayIface(n.overlay);
      await p.addGwIface(n.gw);
      same(await Promise.all([p.hasLink(n.sandbox.netns, n.overlay.sandboxLink), p.hasLink(n.ep, 'eth0'), p.hasLink(n.ep, 'eth-gw')]), [true, true, true], 'hasLink');
      same(await p.defaultRoute(n.ep), n.gw.gateway, 'the default route via the gwbridge');
      same(await p.list(n.listing), { netns: [n.ep, n.sandbox.netns].sort(), links: [n.gw.hostLink, n.bridge, n.sandbox.hostLink].sort() }, 'list');
      await teardown(p, env);
      await empty(p, env, 'list after teardown');
      same(await p.hasLink(n.sandbox.netns, n.overlay.sandboxLink), false, 'hasLink in a deleted netns');
      same(await p.sandboxReady(n.sandbox), false, 'sandboxReady after deleteSandbox');
      await teardown(p, env);
      await empty(p, env, 'list after a second teardown');
    },
  },
  {
    name: 'an endpoint on the gwbridge without a default route (internal networks only), given one, and without it again',
    async run(p, env) {
      const n = names(env);
      await p.ensureGwbridge(n.gwbridge);
      await p.createEndpoint(n.ep);
      await p.addGwIface({ ...n.gw, defaultRoute: false });
      same((await p.defaultRoute(n.ep)) ?? null, null, 'no default route');
      await p.setDefaultRoute({ endpointNetns: n.ep, gateway: n.gw.gateway });
      await p.setDefaultRoute({ endpointNetns: n.ep, gateway: n.gw.gateway });
      same(await p.defaultRoute(n.ep), n.gw.gateway, 'set, twice');
      await p.setDefaultRoute({ endpointNetns: n.ep });
      await p.setDefaultRoute({ endpointNetns: n.ep });
      same((await p.defaultRoute(n.ep)) ?? null, null, 'removed, twice');
      await rejects(p.setDefaultRoute({ endpointNetns: n.ep, gateway: '10.99.0.1' }), [n.ep], 'a gateway on none of its links');
      same((await p.defaultRoute(n.ep)) ?? null, null, 'still none');
      await teardown(p, env);
      await empty(p, env, 'list after teardown');
    },
  },
  {
    name: 'a create over a leftover of the same name replaces it',
    async run(p, env) {
      const n = names(env);
      const other = { ...n.sandbox, mtu: 1300, vni: 4101 };
      await p.createSandbox(n.sandbox);
      await p.createSandbox(other);
      same([await p.sandboxReady(other), await p.sandboxReady(n.sandbox)], [true, false], 'sandboxReady of the new and the old spec');
      await p.createEndpoint(n.ep);
      await p.addOverlayIface({ ...n.overlay, mtu: 1300 });
      await p.addOverlayIface({ ...n.overlay, mtu: 1300 });
      await p.createEndpoint(n.ep);
      same(await p.hasLink(n.ep, 'eth0'), false, 'eth0 in a re-made endpoint');
      same(await p.list(n.listing), { netns: [n.ep, n.sandbox.netns].sort(), links: [n.sandbox.hostLink] }, 'list');
      await teardown(p, env);
      await empty(p, env, 'list after teardown');
    },
  },
  {
    name: 'deleting an endpoint takes the peers of its interfaces with it at once',
    async run(p, env) {
      const n = names(env);
      await p.ensureGwbridge(n.gwbridge);
      await p.createSandbox(n.sandbox);
      await p.createEndpoint(n.ep);
      await p.addOverlayIface(n.overlay);
      await p.addGwIface(n.gw);
      await p.deleteEndpoint(n.ep);
      same(await p.hasLink(n.sandbox.netns, n.overlay.sandboxLink), false, 'the sandbox end');
      same((await p.list(n.listing)).links, [n.bridge, n.sandbox.hostLink].sort(), 'host links');
      await teardown(p, env);
      await empty(p, env, 'list after teardown');
    },
  },
  {
    name: 'deleting a sandbox takes the endpoints\' interfaces on it with it at once',
    async run(p, env) {
      const n = names(env);
      await p.createSandbox(n.sandbox);
      await p.createEndpoint(n.ep);
      await p.addOverlayIface(n.overlay);
      await p.deleteSandbox(n.sandbox);
      same(await p.hasLink(n.ep, 'eth0'), false, 'the endpoint end');
      same(await p.list(n.listing), { netns: [n.ep], links: [] }, 'list');
      await teardown(p, env);
      await empty(p, env, 'list after teardown');
    },
  },
  {
    name: 'an existing gwbridge is used as it is: its own subnet and gateway, created false',
    async run(p, env) {
      const n = names(env);
      await p.ensureGwbridge(n.gwbridge);
      same(await p.ensureGwbridge({ ...n.gwbridge, subnet: '10.99.0.0/16', gateway: '10.99.0.254' }), { subnet: '172.30.0.0/24', gateway: '172.30.0.1', created: false }, 'second ensureGwbridge');
      await p.removeGwbridge({ ...n.host, bridge: n.bridge, natTable: n.gwbridge.natTable });
      await p.removeGwbridge({ ...n.host, bridge: n.bridge, natTable: n.gwbridge.natTable });
      await empty(p, env, 'list after removeGwbridge');
    },
  },
  {
    name: 'attaching to something missing fails in one line naming it, and leaves nothing',
    async run(p, env) {
      const n = names(env);
      await rejects(p.addOverlayIface(n.overlay), [n.sandbox.netns], 'addOverlayIface without a sandbox');
      await p.createSandbox(n.sandbox);
      await rejects(p.addOverlayIface(n.overlay), [n.ep], 'addOverlayIface without an endpoint');
      same(await p.hasLink(n.sandbox.netns, n.overlay.sandboxLink), false, 'sandbox end after the failure');
      await p.ensureGwbridge(n.gwbridge);
      await rejects(p.addGwIface(n.gw), [n.ep], 'addGwIface without an endpoint');
      await p.createEndpoint(n.ep);
      await rejects(p.addGwIface({ ...n.gw, bridge: `${env.linkPrefix}nobr` }), [`${env.linkPrefix}nobr`], 'addGwIface without its bridge');
      same((await p.list(n.listing)).links, [n.bridge, n.sandbox.hostLink].sort(), 'host links after the failures');
      same(await p.hasLink(n.ep, 'eth-gw'), false, 'eth-gw after the failure');
      await teardown(p, env);
      await empty(p, env, 'list after teardown');
    },
  },
  {
    name: 'a bad spec throws before anything is touched, naming the field',
    async run(p, env) {
      const n = names(env);
      same(await rejects(p.createSandbox({ ...n.sandbox, pipeIndex: 4096 }), [], 'pipeIndex 4096'), 'pipeIndex: expected an integer from 0 to 4095, got 4096', 'message');
      same(await rejects(p.createSandbox({ ...n.sandbox, netns: 'bad name' }), [], 'netns with a space'), 'netns: expected a netns name of 1-64 of [A-Za-z0-9_.-] not starting with "." or "-", got "bad name"', 'message');
      same(await rejects(p.addOverlayIface({ ...n.overlay, mac: '03:42:0a:1e:00:02' }), [], 'multicast mac'), 'mac: expected a unicast MAC in lower-case aa:bb:cc:dd:ee:ff form, got "03:42:0a:1e:00:02"', 'message');
      same(await rejects(p.addGwIface({ ...n.gw, gateway: '172.31.0.1' }), [], 'gateway elsewhere'), 'gateway: 172.31.0.1 is not in the subnet of address 172.30.0.2/24', 'message');
      await empty(p, env, 'list after the refusals');
    },
  },
];
