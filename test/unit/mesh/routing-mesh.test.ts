// The routing mesh's shell (agent/mesh/routing-mesh.ts, issue 10) with a
// ManualClock, a runner that records each nft load, a stand-in PortHolder
// (the port-holder.ts contract, in memory, told which ports to refuse) and
// a DiscoveryView stub: which ports are held and by whom, which rules go to
// the host netns and to the ingress sandbox, a port that cannot be had said
// in errors() and tried again, coalescing, and close.
import { suite, equal, is, ok } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import { createLogger } from '../../../agent/daemon/log.js';
import type { ServiceRecord } from '../../../agent/discovery/records.js';
import { hostScript, sandboxScript, type IngressPort } from '../../../agent/mesh/mesh-rules.js';
import { PortInUseError, type PortClaim, type PortHolder } from '../../../agent/mesh/port-holder.js';
import { RoutingMesh, meshSandbox, type LocalPort, type MeshSandbox } from '../../../agent/mesh/routing-mesh.js';
import type { IngressAssignment } from '../../../agent/swarm/service-views.js';

const t = suite('mesh/routing-mesh');
const SETTLE_MS = 20;
const RETRY_MS = 10_000;
const ING = 'ingressnet000000000000000';

/** PortHolder's contract in memory: an owner holds exactly its last claim, all or nothing; refuse makes a port another program's. */
class FakeHolder {
  readonly held = new Map<string, { owner: string; claim: PortClaim }>();
  /** Ports (`8080/tcp`) another program holds. */
  readonly refuse = new Set<string>();
  readonly log: string[] = [];
  /** While set, claims wait for it (a slow bind). */
  gate: Promise<void> | undefined;

  get owners(): string[] {
    return [...new Set([...this.held.values()].map((h) => h.owner))];
  }

  async claim(owner: string, claims: readonly PortClaim[]): Promise<void> {
    if (this.gate) await this.gate;
    const want = new Map(claims.map((c) => [`${c.published}/${c.protocol}`, c]));
    this.log.push(`claim ${owner} [${[...want.keys()].join(' ')}]`);
    for (const key of want.keys()) {
      const h = this.held.get(key);
      if (h && h.owner !== owner) throw new PortInUseError(key, h.owner, `port ${key} is already published on this node by ${h.owner}`);
      if (!h && this.refuse.has(key)) throw new PortInUseError(key, undefined, `port ${key} is in use on this node by another program`);
    }
    for (const [key, c] of want) if (!this.held.has(key)) this.held.set(key, { owner, claim: c });
    for (const [key, h] of [...this.held]) if (h.owner === owner && !want.has(key)) this.held.delete(key);
  }

  release(owner: string): Promise<void> {
    this.log.push(`release ${owner}`);
    return this.claim(owner, []).then(() => void this.log.pop());
  }

  /** port -> owner. */
  table(): Record<string, string> {
    return Object.fromEntries([...this.held].map(([k, h]) => [k, h.owner]).sort());
  }
}

type Services = IngressAssignment['services'];

function world(opts: { sandbox?: MeshSandbox } = {}) {
  const clock = new ManualClock();
  const runs: [string | undefined, string][] = [];
  const logs: { level: string; msg: string; [k: string]: unknown }[] = [];
  const records: Record<string, ServiceRecord[]> = {};
  const holder = new FakeHolder();
  const st = { sandbox: opts.sandbox, services: [] as Services, local: [] as LocalPort[], computes: 0 };
  const mesh = new RoutingMesh({
    view: { records: (nid) => records[nid] ?? [], networkId: () => undefined },
    sandbox: () => st.sandbox,
    services: () => (st.computes++, st.services),
    local: () => st.local,
    // The stand-in has PortHolder's surface, not its private fields.
    holder: holder as unknown as PortHolder,
    run: async (netns, script) => void runs.push([netns, script]),
    clock,
    log: createLogger({ level: 'debug', format: 'json', write: (l) => void logs.push(JSON.parse(l)), nowIso: () => 'T' }),
  });
  const turn = () => new Promise<void>((r) => setImmediate(r));
  return {
    mesh,
    clock,
    runs,
    logs,
    records,
    holder,
    st,
    turn,
    /** changed(), the settle window, and the recompute's awaits. */
    async settle(): Promise<void> {
      mesh.changed();
      clock.advance(SETTLE_MS);
      await turn();
    },
  };
}

const SB: MeshSandbox = { netns: 'tq-esandbox0000', ingressIf: 'eth0', gwAddress: '172.18.0.2', networkId: ING };
const rec = (name: string, ip: string, service?: string): ServiceRecord => ({ name, ip, ...(service ? { service } : {}) });
const web = (ports: Services[number]['ports']): Services[number] => ({ id: 'svcweb', name: 'web', ports });
const TCP8080 = { protocol: 'tcp', published: 8080, target: 80 } as const;
const UDP5353 = { protocol: 'udp', published: 5353, target: 53 } as const;
const LOCAL: LocalPort = { protocol: 'tcp', published: 9000, target: 80, address: '172.18.0.7' };
const sandboxOf = (ports: IngressPort[]) => sandboxScript({ ingressIf: 'eth0', ports });

t('no sandbox yet: the ingress ports are held, the host rules carry only the local ports, no sandbox rules', async () => {
  const w = world();
  w.st.services = [web([TCP8080])];
  w.st.local = [LOCAL];
  await w.settle();
  equal(w.runs, [[undefined, hostScript({ sandboxAddress: '0.0.0.0', ingress: [], host: [LOCAL] })]]);
  ok(!w.runs[0]![1].includes('dport 8080'), 'no DNAT of the ingress port to nowhere');
  ok(w.runs[0]![1].includes('tcp dport 9000 dnat to 172.18.0.7:80'));
  equal(w.holder.table(), { '8080/tcp': 'ingress:svcweb:8080/tcp' });
  equal(w.mesh.errors, []);
  await w.mesh.close();
});

t("with the sandbox: the host DNATs each ingress port to the sandbox's gw address; the sandbox DNATs to the service's records on the ingress network, masqueraded", async () => {
  const w = world({ sandbox: SB });
  w.records[ING] = [rec('web.1.a', '10.0.0.5', 'web'), rec('api.1.b', '10.0.0.9', 'api'), rec('web.2.c', '10.0.0.6', 'web'), rec('loner', '10.0.0.10')];
  w.records['frontnet'] = [rec('web.3.d', '10.1.0.5', 'web')];
  w.st.services = [web([TCP8080, UDP5353])];
  w.st.local = [LOCAL];
  await w.settle();
  const host = hostScript({ sandboxAddress: '172.18.0.2', ingress: [{ protocol: 'tcp', published: 8080 }, { protocol: 'udp', published: 5353 }], host: [LOCAL] });
  const inner = sandboxOf([
    { ...TCP8080, backends: ['10.0.0.5', '10.0.0.6'] },
    { ...UDP5353, backends: ['10.0.0.5', '10.0.0.6'] },
  ]);
  equal(w.runs, [
    [undefined, host],
    [SB.netns, inner],
  ]);
  ok(host.includes('tcp dport 8080 dnat to 172.18.0.2:8080') && host.includes('udp dport 5353 dnat to 172.18.0.2:5353'));
  ok(inner.includes('tcp dport 8080 dnat to 10.0.0.5:80') && inner.includes('tcp dport 8080 dnat to 10.0.0.6:80') && inner.includes('oifname "eth0" ct status dnat masquerade'));
  ok(!inner.includes('10.0.0.9') && !inner.includes('10.0.0.10') && !inner.includes('10.1.0.5'), "only web's records on the ingress network");
  // The TCP port's holder relays (loopback) to the sandbox as it is when a connection comes, no header; UDP has no relay.
  const tcp = w.holder.held.get('8080/tcp')!.claim;
  equal([tcp.relay?.proxyHeader, tcp.relay?.target()], [false, { host: '172.18.0.2', port: 8080 }]);
  is(w.holder.held.get('5353/udp')!.claim.relay, undefined);
  w.st.sandbox = undefined;
  is(tcp.relay?.target(), undefined, 'no sandbox: nowhere to relay');
  await w.mesh.close();
});

t('records changing: only the sandbox rules are loaded again; nothing changed: nothing loaded', async () => {
  const w = world({ sandbox: SB });
  w.records[ING] = [rec('web.1.a', '10.0.0.5', 'web')];
  w.st.services = [web([TCP8080])];
  await w.settle();
  is(w.runs.length, 2);
  await w.settle();
  is(w.runs.length, 2, 'same rules: no load');
  w.records[ING] = [rec('web.1.a', '10.0.0.5', 'web'), rec('web.2.c', '10.0.0.6', 'web')];
  await w.settle();
  equal(w.runs.slice(2), [[SB.netns, sandboxOf([{ ...TCP8080, backends: ['10.0.0.5', '10.0.0.6'] }])]]);
  await w.mesh.close();
});

t('a proxy-protocol port: no host DNAT (its holder relays every connection, with a PROXY header), still in the sandbox rules', async () => {
  const w = world({ sandbox: SB });
  w.records[ING] = [rec('web.1.a', '10.0.0.5', 'web')];
  w.st.services = [web([{ protocol: 'tcp', published: 8443, target: 443, proxyProtocol: 'v2' }, TCP8080])];
  await w.settle();
  equal(w.runs, [
    [undefined, hostScript({ sandboxAddress: '172.18.0.2', ingress: [{ protocol: 'tcp', published: 8080 }], host: [] })],
    [SB.netns, sandboxOf([{ ...TCP8080, backends: ['10.0.0.5'] }, { protocol: 'tcp', published: 8443, target: 443, backends: ['10.0.0.5'] }])],
  ]);
  const proxied = w.holder.held.get('8443/tcp')!.claim.relay!;
  equal([proxied.proxyHeader, proxied.target()], [true, { host: '172.18.0.2', port: 8443 }]);
  is(w.holder.held.get('8080/tcp')!.claim.relay!.proxyHeader, false);
  await w.mesh.close();
});

t('a port another program holds: said in errors() (and logged once), no rule for it, tried again every retryMs until it is free', async () => {
  const w = world({ sandbox: SB });
  w.records[ING] = [rec('web.1.a', '10.0.0.5', 'web')];
  w.holder.refuse.add('8080/tcp');
  w.st.services = [web([TCP8080, UDP5353])];
  await w.settle();
  equal(w.mesh.errors, [{ serviceId: 'svcweb', serviceName: 'web', port: '8080/tcp', error: 'port 8080/tcp is in use on this node by another program: not published here' }]);
  equal(w.runs, [
    [undefined, hostScript({ sandboxAddress: '172.18.0.2', ingress: [{ protocol: 'udp', published: 5353 }], host: [] })],
    [SB.netns, sandboxOf([{ ...UDP5353, backends: ['10.0.0.5'] }])],
  ]);
  equal(w.holder.table(), { '5353/udp': 'ingress:svcweb:5353/udp' });
  equal(w.logs.map((l) => [l.level, l.msg, l.service, l.port]), [['warn', 'published port not served on this node', 'web', '8080/tcp']]);
  // Still taken at the retry: the same error, not logged again, and another retry set.
  const computes = w.st.computes;
  w.clock.advance(RETRY_MS - 1);
  await w.turn();
  is(w.st.computes, computes, 'not before retryMs');
  w.clock.advance(1 + SETTLE_MS);
  await w.turn();
  is(w.st.computes, computes + 1);
  is(w.mesh.errors.length, 1);
  is(w.logs.length, 1);
  is(w.runs.length, 2, 'same rules: nothing loaded');
  // Free now: held, served, said no more, no timer left.
  w.holder.refuse.delete('8080/tcp');
  w.clock.advance(RETRY_MS + SETTLE_MS);
  await w.turn();
  equal(w.mesh.errors, []);
  equal(w.holder.table(), { '5353/udp': 'ingress:svcweb:5353/udp', '8080/tcp': 'ingress:svcweb:8080/tcp' });
  ok(w.runs.at(-2)![1].includes('tcp dport 8080 dnat to 172.18.0.2:8080'));
  ok(w.runs.at(-1)![1].includes('tcp dport 8080 dnat to 10.0.0.5:80'));
  is(w.clock.pending(), 0);
  await w.mesh.close();
});

t("a port one of our own owners holds (an endpoint's -p): the holder's words in errors(), no rule", async () => {
  const w = world({ sandbox: SB });
  await w.holder.claim('endpoint1', [{ protocol: 'tcp', published: 8080 }]);
  w.st.services = [web([TCP8080])];
  await w.settle();
  equal(w.mesh.errors, [{ serviceId: 'svcweb', serviceName: 'web', port: '8080/tcp', error: 'port 8080/tcp is already published on this node by endpoint1' }]);
  ok(!w.runs[0]![1].includes('dport 8080'));
  await w.mesh.close();
  equal(w.holder.owners, ['endpoint1'], "close leaves the endpoints' ports alone");
});

t('services gone, or ports dropped: their ingress claims are let go, other owners untouched', async () => {
  const w = world({ sandbox: SB });
  await w.holder.claim('endpoint1', [{ protocol: 'udp', published: 7000 }]);
  w.st.services = [web([TCP8080, UDP5353]), { id: 'svcapi', name: 'api', ports: [{ protocol: 'tcp', published: 9090, target: 90 }] }];
  await w.settle();
  equal(w.holder.table(), { '5353/udp': 'ingress:svcweb:5353/udp', '7000/udp': 'endpoint1', '8080/tcp': 'ingress:svcweb:8080/tcp', '9090/tcp': 'ingress:svcapi:9090/tcp' });
  w.st.services = [web([TCP8080])];
  await w.settle();
  equal(w.holder.table(), { '7000/udp': 'endpoint1', '8080/tcp': 'ingress:svcweb:8080/tcp' });
  equal(w.runs.at(-1), [undefined, hostScript({ sandboxAddress: '172.18.0.2', ingress: [{ protocol: 'tcp', published: 8080 }], host: [] })]);
  w.st.services = [];
  await w.settle();
  equal(w.holder.table(), { '7000/udp': 'endpoint1' });
  await w.mesh.close();
});

t('a port that moves to another service in one recompute is served by it at once (the old claim goes first)', async () => {
  const w = world({ sandbox: SB });
  w.st.services = [web([TCP8080])];
  await w.settle();
  w.st.services = [{ id: 'svcnew', name: 'web2', ports: [TCP8080] }];
  await w.settle();
  equal(w.mesh.errors, []);
  equal(w.holder.table(), { '8080/tcp': 'ingress:svcnew:8080/tcp' });
  await w.mesh.close();
});

t('a port switching to proxy-protocol=v2 (or back) gets a holder with the header as asked', async () => {
  const w = world({ sandbox: SB });
  w.st.services = [web([TCP8080])];
  await w.settle();
  is(w.holder.held.get('8080/tcp')!.claim.relay!.proxyHeader, false);
  w.st.services = [web([{ ...TCP8080, proxyProtocol: 'v2' }])];
  await w.settle();
  equal(w.mesh.errors, []);
  is(w.holder.held.get('8080/tcp')!.claim.relay!.proxyHeader, true, 'a header now: every connection reaches the holder');
  ok(!w.runs.at(-2)![1].includes('dport 8080'), 'and the host no longer DNATs it');
  w.st.services = [web([TCP8080])];
  await w.settle();
  is(w.holder.held.get('8080/tcp')!.claim.relay!.proxyHeader, false);
  await w.mesh.close();
});

t('changed() coalesces: one recompute per settle window; a change during a recompute runs one more after it', async () => {
  const w = world({ sandbox: SB });
  w.st.services = [web([TCP8080])];
  w.mesh.changed();
  w.clock.advance(15);
  w.mesh.changed(); // does not push the window back
  w.mesh.changed();
  w.clock.advance(4);
  is(w.st.computes, 0);
  w.clock.advance(1);
  await w.turn();
  is(w.st.computes, 1);
  // A slow claim: changes meanwhile wait for it, then run once.
  let open: () => void = () => {};
  w.holder.gate = new Promise<void>((r) => (open = r));
  w.st.services = [web([TCP8080, UDP5353])];
  await w.settle();
  is(w.st.computes, 2);
  await w.settle();
  await w.settle();
  is(w.st.computes, 2, 'one recompute at a time');
  w.holder.gate = undefined;
  open();
  await w.turn();
  await w.turn();
  is(w.st.computes, 3, 'the changes meanwhile: one more');
  equal(w.holder.table(), { '5353/udp': 'ingress:svcweb:5353/udp', '8080/tcp': 'ingress:svcweb:8080/tcp' });
  await w.mesh.close();
});

t('a sandbox that goes, or is remade under another netns: its old netns gets no more loads', async () => {
  const w = world({ sandbox: SB });
  w.st.services = [web([TCP8080])];
  await w.settle();
  w.st.sandbox = { ...SB, netns: 'tq-esandbox1111', gwAddress: '172.18.0.9' };
  await w.settle();
  equal(w.runs.slice(2).map(([ns]) => ns), [undefined, 'tq-esandbox1111']);
  ok(w.runs[2]![1].includes('dnat to 172.18.0.9:8080'));
  w.st.sandbox = undefined;
  await w.settle();
  equal(w.runs.slice(4), [[undefined, hostScript({ sandboxAddress: '0.0.0.0', ingress: [], host: [] })]]);
  await w.mesh.close();
});

t('nothing throws: a failing input is logged and the next change tries again', async () => {
  const w = world();
  const services = w.st;
  let broken = true;
  const mesh = new RoutingMesh({
    view: { records: () => [], networkId: () => undefined },
    sandbox: () => undefined,
    services: () => {
      if (broken) throw new Error('assignment busy');
      return services.services;
    },
    local: () => [],
    holder: w.holder as unknown as PortHolder,
    run: async (netns, script) => void w.runs.push([netns, script]),
    clock: w.clock,
    log: createLogger({ level: 'debug', format: 'json', write: (l) => void w.logs.push(JSON.parse(l)), nowIso: () => 'T' }),
  });
  mesh.changed();
  w.clock.advance(SETTLE_MS);
  await w.turn();
  equal(w.logs.map((l) => [l.msg, l.error]), [['mesh rules not computed', 'assignment busy']]);
  broken = false;
  mesh.changed();
  w.clock.advance(SETTLE_MS);
  await w.turn();
  is(w.runs.length, 1);
  await mesh.close();
  await w.mesh.close();
});

t('close(): the ingress ports are let go, no more applies, no timer left', async () => {
  const w = world({ sandbox: SB });
  w.holder.refuse.add('5353/udp');
  w.st.services = [web([TCP8080, UDP5353])];
  await w.settle();
  is(w.clock.pending(), 1, 'the retry');
  w.mesh.changed();
  await w.mesh.close();
  equal(w.holder.owners, []);
  is(w.clock.pending(), 0);
  const runs = w.runs.length;
  w.mesh.changed();
  w.clock.advance(RETRY_MS * 2);
  await w.turn();
  is(w.runs.length, runs);
  is(w.st.computes, 1);
});

t('meshSandbox: undefined until the record has its gw and its ingress interface; the gw address plain', () => {
  is(meshSandbox(undefined), undefined);
  const net = { ifname: 'eth0', networkId: ING };
  is(meshSandbox({ netns: 'ns', networks: [net] }), undefined);
  is(meshSandbox({ netns: 'ns', gw: { address: '172.18.0.2/16' }, networks: [] }), undefined);
  equal(meshSandbox({ netns: 'ns', gw: { address: '172.18.0.2/16' }, networks: [net, { ifname: 'eth1', networkId: 'other' }] }), { netns: 'ns', ingressIf: 'eth0', gwAddress: '172.18.0.2', networkId: ING });
});

t.run();
