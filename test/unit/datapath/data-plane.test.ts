// The data plane shell (agent/datapath/data-plane.ts) without root: two
// "nodes", each a DataPlane over FakePlumbing, their underlay sockets on one
// in-memory network and their sandbox pipes each on a private one (every
// node has its own 169.254.64.0/18), all under one ManualClock. The test
// plays the kernel VXLAN device: it binds the sandbox end of a pipe and
// sends and receives VXLAN datagrams there (docs/data-plane.md).
import { suite, is, ok, equal } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import { seededRand, type Rand } from '../../../shared/rand.js';
import { MemNet } from '../../../shared/transport/memnet.js';
import type { Addr, DatagramSocket, DatagramTransport } from '../../../shared/transport/types.js';
import { createLogger } from '../../../agent/daemon/log.js';
import { ARP_OP_REPLY, ARP_OP_REQUEST, MAC48_BROADCAST, encodeArpDatagram, parseArpDatagram } from '../../../agent/datapath/arp.js';
import { DataPlane, pipeHostLink, sandboxNetns } from '../../../agent/datapath/data-plane.js';
import { FakePlumbing, PIPE_PORT, macForIPv4, pipeAddrs } from '../../../agent/datapath/plumbing.js';
import { parseMac48, writeMac48 } from '../../../agent/datapath/vxlan-frame.js';
import type { GossipNode } from '../../../agent/gossip/gossip-node.js';
import { TABLE_PEERS, encodePeerRecord, type PeerRecord } from '../../../agent/gossip/networkdb/table-records.js';
import type { TableEvent } from '../../../agent/gossip/networkdb/types.js';

const t = suite('datapath/data-plane');
const SEED = Number(process.env.TEST_SEED ?? 0xd47a);
const quiet = createLogger({ level: 'error', format: 'text', write: () => {}, nowIso: () => '' });
const PREFIX = 'tq';
const NID = 'net1aaaaaaaaaaaaaaaaaaaaa1';
const VNI = 4097;
const MTU = 1450;
const DATA_PORT = 4789;
const VTEP_A = '10.0.0.1';
const VTEP_B = '10.0.0.2';
const STRANGER = '10.0.0.9';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** The forwarder's peers of vni by address (its own order is the order they were last set). */
const peersOf = (d: DataPlane, vni: number) => d.forwarder.peers(vni).sort((x, y) => (x.ip < y.ip ? -1 : 1));

/** One gossip table all nodes share at once (NetworkDB's convergence, without its rounds). */
class FakeGossip {
  readonly rows = new Map<string, Map<string, Uint8Array>>();
  readonly watchers = new Set<(e: TableEvent) => void>();
  readonly attached = new Set<string>();
  ltime = 0;

  /** The view of one node: only what DataPlane calls. */
  view(owner: string): GossipNode {
    const rowsOf = (nid: string, table: string) => {
      const k = `${nid}/${table}`;
      let m = this.rows.get(k);
      if (!m) this.rows.set(k, (m = new Map()));
      return m;
    };
    const emit = (e: Omit<TableEvent, 'owner' | 'ltime'>) => {
      for (const w of [...this.watchers]) w({ ...e, owner, ltime: ++this.ltime });
    };
    const v = {
      watch: (cb: (e: TableEvent) => void) => {
        this.watchers.add(cb);
        return () => void this.watchers.delete(cb);
      },
      attach: (nid: string, ep: string) => (this.attached.add(`${nid}/${ep}`), true),
      detach: (nid: string, ep: string) => this.attached.delete(`${nid}/${ep}`),
      put: (nid: string, table: string, key: string, value: Uint8Array) => {
        const m = rowsOf(nid, table);
        const type = m.has(key) ? 'update' : 'create';
        m.set(key, value);
        emit({ type, nid, table, key, value });
      },
      remove: (nid: string, table: string, key: string) => {
        const m = rowsOf(nid, table);
        const value = m.get(key);
        if (value === undefined) return;
        m.delete(key);
        emit({ type: 'delete', nid, table, key, value });
      },
      entries: (nid: string, table: string) => [...rowsOf(nid, table)].map(([key, value]) => ({ key, value, owner, ltime: 0 })),
    };
    return v as unknown as GossipNode;
  }
}

class World {
  readonly clock = new ManualClock();
  readonly rand: Rand = seededRand(SEED);
  readonly underlay = new MemNet({ clock: this.clock, rand: this.rand.fork() });

  node(vtep: string): Node {
    return new Node(this, vtep);
  }

  /** Deliver everything in flight (memnet delivers on the clock, at latency 0). */
  flush(): void {
    this.clock.runAll(10_000);
  }
}

class Node {
  readonly plumbing = new FakePlumbing();
  /** This node's own link-local space: the host ends and sandbox ends of its pipes. */
  readonly local: MemNet;
  readonly data: DataPlane;

  constructor(readonly w: World, readonly vtep: string) {
    this.local = new MemNet({ clock: w.clock, rand: w.rand.fork() });
    // One kernel, several addresses: the pipes' on the private net, the data path address on the underlay.
    const udp: DatagramTransport = { bind: (a: Addr) => (a.host.startsWith('169.254.') ? this.local : w.underlay).datagram(a.host).bind(a) };
    this.data = new DataPlane({ udp, plumbing: this.plumbing, namePrefix: PREFIX, log: quiet });
  }

  /** The kernel VXLAN device's end of the network's pipe, recording what it receives. */
  async pipeEnd(index: number): Promise<{ sock: DatagramSocket; got: Uint8Array[]; send(b: Uint8Array): void }> {
    const { host, sandbox } = pipeAddrs(index);
    const sock = await this.local.datagram(sandbox).bind({ host: sandbox, port: PIPE_PORT });
    const got: Uint8Array[] = [];
    sock.onMessage((d) => got.push(d));
    return { sock, got, send: (b) => sock.send(b, { host, port: PIPE_PORT }) };
  }
}

const peer = (ip: string, vtep: string): PeerRecord => ({ ip, mac: macForIPv4(ip), vtep });
const EP_A = { id: 'epa000000000000000000000a', rec: peer('10.0.1.2', VTEP_A) };
const EP_B = { id: 'epb000000000000000000000b', rec: peer('10.0.1.3', VTEP_B) };

/** A unicast IPv4 frame in a VXLAN datagram, payload bytes counting up from `fill`. */
function frame(vni: number, dst: string, src: string, payload = 64, fill = 0): Uint8Array {
  const b = new Uint8Array(22 + payload);
  for (let i = 22; i < b.length; i++) b[i] = (fill + i) & 0xff;
  b.set([0x08, 0, 0, 0, (vni >>> 16) & 0xff, (vni >>> 8) & 0xff, vni & 0xff, 0]);
  writeMac48(b, 8, parseMac48(dst)!);
  writeMac48(b, 14, parseMac48(src)!);
  b[20] = 0x08;
  b[21] = 0x00;
  return b;
}

/** Two nodes, each with a sandbox for VNI and one endpoint published on it; gossip shared when `gossip`. */
async function twoNodes(gossip: boolean) {
  const w = new World();
  const a = w.node(VTEP_A);
  const b = w.node(VTEP_B);
  await a.data.start(VTEP_A, DATA_PORT);
  await b.data.start(VTEP_B, DATA_PORT);
  const g = new FakeGossip();
  if (gossip) {
    a.data.bindGossip(g.view('node-a'));
    b.data.bindGossip(g.view('node-b'));
  } else {
    a.data.bindGossip(undefined);
  }
  await a.data.useNetwork({ nid: NID, vni: VNI, mtu: MTU }, EP_A.id);
  await b.data.useNetwork({ nid: NID, vni: VNI, mtu: MTU }, EP_B.id);
  a.data.publish(NID, EP_A.id, EP_A.rec);
  b.data.publish(NID, EP_B.id, EP_B.rec);
  if (!gossip) {
    a.data.forwarder.setPeer(VNI, EP_B.id, EP_B.rec);
    b.data.forwarder.setPeer(VNI, EP_A.id, EP_A.rec);
  }
  const pa = await a.pipeEnd(0);
  const pb = await b.pipeEnd(0);
  const close = async () => {
    await pa.sock.close();
    await pb.sock.close();
    await a.data.close();
    await b.data.close();
  };
  return { w, a, b, g, pa, pb, close };
}

t('useNetwork makes the sandbox (FakePlumbing) with the pipe at index 0 and binds its host end', async () => {
  const w = new World();
  const a = w.node(VTEP_A);
  await a.data.useNetwork({ nid: NID, vni: VNI, mtu: MTU }, EP_A.id);
  equal(a.plumbing.calls.map((c) => c.op), ['sandboxReady', 'createSandbox']);
  equal(a.plumbing.calls[1]!.arg, { netns: sandboxNetns(PREFIX, VNI), vni: VNI, mtu: MTU, pipeIndex: 0, hostLink: pipeHostLink(VNI) });
  ok(a.plumbing.netns('tq-n4097') !== undefined);
  is(a.data.vniOf(NID), VNI);
  equal(a.data.pipeRecord(), { '4097': 0 });
  is(a.data.forwarder.networkStats(VNI)?.maxDatagramBytes, 8 + 14 + MTU);
  // A second network takes the next pipe; a second user of the first makes nothing.
  await a.data.useNetwork({ nid: 'net2', vni: 4098, mtu: MTU }, EP_A.id);
  await a.data.useNetwork({ nid: NID, vni: VNI, mtu: MTU }, 'another');
  equal(a.data.pipeRecord(), { '4097': 0, '4098': 1 });
  is(a.plumbing.calls.filter((c) => c.op === 'createSandbox').length, 2);
  await a.data.close();
  ok(a.plumbing.netns('tq-n4097') !== undefined, 'close keeps the sandboxes: endpoints outlive the agent');
});

t('a unicast frame from A\'s pipe for B\'s endpoint reaches B\'s pipe byte for byte (peers from gossip)', async () => {
  const { w, a, b, g, pa, pb, close } = await twoNodes(true);
  ok(g.attached.has(`${NID}/${EP_A.id}`) && g.attached.has(`${NID}/${EP_B.id}`), 'both endpoints joined the network in NetworkDB');
  equal(a.data.forwarder.lookupMac(VNI, EP_B.rec.mac), { key: EP_B.id, local: false, ...EP_B.rec });
  equal(a.data.forwarder.lookupMac(VNI, EP_A.rec.mac), { key: EP_A.id, local: true, ...EP_A.rec });
  const f = frame(VNI, EP_B.rec.mac, EP_A.rec.mac, 1000, 7);
  const want = hex(f);
  pa.send(f);
  w.flush();
  equal(pb.got.map(hex), [want]);
  equal(pa.got, [], 'nothing back to A');
  is(a.data.forwarder.stats().toWire.packets, 1);
  is(b.data.forwarder.stats().toPipe.packets, 1);
  // And back: B to A.
  pb.send(frame(VNI, EP_A.rec.mac, EP_B.rec.mac, 40, 1));
  w.flush();
  equal(pa.got.map(hex), [hex(frame(VNI, EP_A.rec.mac, EP_B.rec.mac, 40, 1))]);
  await close();
});

t('without gossip (bindGossip(undefined)) peers set by hand carry frames the same way', async () => {
  const { w, pa, pb, close } = await twoNodes(false);
  const f = frame(VNI, EP_B.rec.mac, EP_A.rec.mac, 200, 3);
  pa.send(f);
  w.flush();
  equal(pb.got.map(hex), [hex(f)]);
  await close();
});

t('an ARP request from the pipe for a remote endpoint is answered back into the same pipe, never sent to B', async () => {
  const { w, a, b, pa, pb, close } = await twoNodes(true);
  const req = encodeArpDatagram(VNI, {
    op: ARP_OP_REQUEST,
    ethDst: MAC48_BROADCAST,
    ethSrc: parseMac48(EP_A.rec.mac)!,
    senderMac: parseMac48(EP_A.rec.mac)!,
    senderIp: 0x0a000102,
    targetMac: 0,
    targetIp: 0x0a000103,
  });
  pa.send(req);
  w.flush();
  is(pa.got.length, 1);
  equal(parseArpDatagram(pa.got[0]!), {
    vni: VNI,
    op: ARP_OP_REPLY,
    ethDst: EP_A.rec.mac,
    ethSrc: EP_B.rec.mac,
    senderMac: EP_B.rec.mac,
    senderIp: EP_B.rec.ip,
    targetMac: EP_A.rec.mac,
    targetIp: EP_A.rec.ip,
  });
  equal(pb.got, []);
  is(a.data.forwarder.stats().arpReplies, 1);
  is(a.data.forwarder.stats().toWire.packets, 0);
  is(b.data.forwarder.stats().fromWire.packets, 0);
  // For an address nobody has: a counted miss, no answer.
  pa.send(encodeArpDatagram(VNI, { op: ARP_OP_REQUEST, ethDst: MAC48_BROADCAST, ethSrc: parseMac48(EP_A.rec.mac)!, senderMac: parseMac48(EP_A.rec.mac)!, senderIp: 0x0a000102, targetMac: 0, targetIp: 0x0a000163 }));
  w.flush();
  is(pa.got.length, 1);
  is(a.data.forwarder.stats().drops['arp-miss'], 1);
  await close();
});

t('frames from a VTEP with no endpoint on the network are dropped and counted (not-member); a spoofed source too', async () => {
  const { w, b, pb, close } = await twoNodes(true);
  const stranger = await w.underlay.datagram(STRANGER).bind({ host: STRANGER, port: 0 });
  stranger.send(frame(VNI, EP_B.rec.mac, macForIPv4('10.0.1.99')), { host: VTEP_B, port: DATA_PORT });
  stranger.send(frame(VNI, EP_B.rec.mac, EP_A.rec.mac), { host: VTEP_B, port: DATA_PORT });
  w.flush();
  equal(pb.got, []);
  is(b.data.forwarder.stats().drops['not-member'], 2);
  // From A's address, but claiming a MAC that does not live there.
  const liar = await w.underlay.datagram(VTEP_A).bind({ host: VTEP_A, port: 0 });
  liar.send(frame(VNI, EP_B.rec.mac, macForIPv4('10.0.1.99')), { host: VTEP_B, port: DATA_PORT });
  // A VNI B has no sandbox for.
  liar.send(frame(4242, EP_B.rec.mac, EP_A.rec.mac), { host: VTEP_B, port: DATA_PORT });
  // Not VXLAN at all (and not a secure message either: those start with 1-4).
  liar.send(new Uint8Array([0x30, 2, 3]), { host: VTEP_B, port: DATA_PORT });
  // A secure message (type 1) while this node has no secure plane: counted, never parsed as VXLAN.
  liar.send(new Uint8Array([1, 2, 3]), { host: VTEP_B, port: DATA_PORT });
  w.flush();
  is(b.data.unsealable, 1);
  equal(pb.got, []);
  const d = b.data.forwarder.stats().drops;
  equal([d.spoofed, d['unknown-vni'], d.malformed], [1, 1, 1]);
  is(b.data.forwarder.stats().fromWire.packets, 5);
  await stranger.close();
  await liar.close();
  await close();
});

t('gossip: peers already in the table arrive on bind; a delete removes the remote peer; a bad record is counted', async () => {
  const w = new World();
  const a = w.node(VTEP_A);
  const g = new FakeGossip();
  const other = g.view('node-b');
  other.put(NID, TABLE_PEERS, EP_B.id, encodePeerRecord(EP_B.rec));
  await a.data.start(VTEP_A, DATA_PORT);
  await a.data.useNetwork({ nid: NID, vni: VNI, mtu: MTU }, EP_A.id);
  a.data.publish(NID, EP_A.id, EP_A.rec);
  equal(peersOf(a.data, VNI), [EP_A.rec], 'no gossip yet: only our own');
  a.data.bindGossip(g.view('node-a'));
  equal(peersOf(a.data, VNI), [EP_A.rec, EP_B.rec]);
  ok(g.rows.get(`${NID}/${TABLE_PEERS}`)!.has(EP_A.id), 'our record was put when gossip came');
  other.put(NID, TABLE_PEERS, 'junk00000000000000000000', new Uint8Array([9, 9]));
  is(a.data.badRecords, 1);
  other.remove(NID, TABLE_PEERS, EP_B.id);
  equal(peersOf(a.data, VNI), [EP_A.rec]);
  // Unbinding stops the events.
  a.data.bindGossip(undefined);
  other.put(NID, TABLE_PEERS, EP_B.id, encodePeerRecord(EP_B.rec));
  equal(peersOf(a.data, VNI), [EP_A.rec]);
  // unpublish takes ours out of the table and the forwarder.
  a.data.bindGossip(g.view('node-a'));
  a.data.unpublish(NID, EP_A.id);
  ok(!g.rows.get(`${NID}/${TABLE_PEERS}`)!.has(EP_A.id));
  ok(!g.attached.has(`${NID}/${EP_A.id}`));
  equal(peersOf(a.data, VNI), [EP_B.rec]);
  await a.data.close();
});

t('releaseNetwork: the last user deletes the sandbox and closes its pipe socket; an earlier one changes nothing', async () => {
  const w = new World();
  const a = w.node(VTEP_A);
  await a.data.useNetwork({ nid: NID, vni: VNI, mtu: MTU }, 'ep1');
  await a.data.useNetwork({ nid: NID, vni: VNI, mtu: MTU }, 'ep2');
  await a.data.releaseNetwork(VNI, 'ep1');
  ok(a.plumbing.netns('tq-n4097') !== undefined);
  is(a.plumbing.calls.filter((c) => c.op === 'deleteSandbox').length, 0);
  const end = await a.pipeEnd(0);
  await a.data.releaseNetwork(VNI, 'ep2');
  equal(a.plumbing.calls.filter((c) => c.op === 'deleteSandbox').map((c) => c.arg), [
    { netns: 'tq-n4097', vni: VNI, mtu: MTU, pipeIndex: 0, hostLink: 'ag-p4097' },
  ]);
  is(a.plumbing.netns('tq-n4097'), undefined);
  ok(!a.plumbing.host().links.some((l) => l.name === 'ag-p4097'), 'the host end of the pipe went too');
  is(a.data.vniOf(NID), undefined);
  equal(a.data.pipeRecord(), {});
  is(a.data.forwarder.networkStats(VNI), undefined);
  // The host end's socket is closed: a datagram to it finds nobody, and the address binds again.
  const before = a.local.stats.droppedNoSocket;
  end.send(frame(VNI, EP_B.rec.mac, EP_A.rec.mac));
  w.flush();
  is(a.local.stats.droppedNoSocket, before + 1);
  const again = await a.local.datagram(pipeAddrs(0).host).bind({ host: pipeAddrs(0).host, port: PIPE_PORT });
  await again.close();
  await end.sock.close();
  // Releasing what is gone is a no-op.
  await a.data.releaseNetwork(VNI, 'ep2');
  await a.data.close();
});

t('after a restart: recorded pipes are adopted when ready (no createSandbox) and swept when nobody keeps them', async () => {
  const w = new World();
  const first = w.node(VTEP_A);
  await first.data.useNetwork({ nid: NID, vni: VNI, mtu: MTU }, 'ep1');
  await first.data.useNetwork({ nid: 'net2', vni: 4098, mtu: MTU }, 'ep2');
  const pipes = first.data.pipeRecord();
  await first.data.close();
  // The same host (plumbing and pipe space), a new DataPlane.
  const udp: DatagramTransport = { bind: (x: Addr) => first.local.datagram(x.host).bind(x) };
  const data = new DataPlane({ udp, plumbing: first.plumbing, namePrefix: PREFIX, log: quiet });
  data.adoptPipes(pipes);
  first.plumbing.calls.length = 0;
  await data.useNetwork({ nid: NID, vni: VNI, mtu: MTU }, 'ep1');
  equal(first.plumbing.calls.map((c) => c.op), ['sandboxReady']);
  await data.sweep(new Set([VNI]));
  equal(first.plumbing.calls.map((c) => `${c.op} ${(c.arg as { netns: string }).netns}`), ['sandboxReady tq-n4097', 'deleteSandbox tq-n4098']);
  equal(first.plumbing.netnsNames(), ['tq-n4097']);
  equal(data.pipeRecord(), { '4097': 0 });
  await data.close();
});

t.run();
