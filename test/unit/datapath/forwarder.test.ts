// The forwarding core (agent/datapath/forwarder.ts): every rule of the data
// path from a pipe and from the wire, one test each, then a dumb twin (STYLE
// habit 5): a reference forwarder made of arrays and linear scans, run
// against the real one on thousands of seeded random operation sequences,
// comparing every output call and every counter after every operation.
import { suite, equal, is, ok, throws } from '../../harness.js';
import { seededRand, type Rand } from '../../../shared/rand.js';
import {
  Forwarder, DROP_REASONS, type DropReason, type ForwarderOutput, type ForwarderStats, type NetworkStats, type PeerEntry,
} from '../../../agent/datapath/forwarder.js';
import { ARP_OP_REPLY, ARP_OP_REQUEST, MAC48_BROADCAST, encodeArpDatagram } from '../../../agent/datapath/arp.js';
import { parseMac48, writeMac48 } from '../../../agent/datapath/vxlan-frame.js';

const t = suite('datapath forwarder');
const SEED = Number(process.env.TEST_SEED ?? 0xda7a);
const hexOf = (b: Uint8Array, len = b.length): string => Buffer.from(b.buffer, b.byteOffset, len).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

const LOCAL = '192.168.0.1';
const R2 = '192.168.0.2';
const R3 = '192.168.0.3';
const VNI = 4097;
const MAX = 1472; // 8 + 14 + 1450, the overlay MTU docker uses on a 1500 underlay
const macOf = (ip: string): string => ['02', '42', ...ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
const ipU32 = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const peer = (ip: string, vtep: string, mac = macOf(ip)): PeerEntry => ({ ip, mac, vtep });

interface Call {
  to: 'wire' | 'pipe';
  dest: string | number;
  buf: Uint8Array;
  len: number;
  hex: string;
}

class Recorder implements ForwarderOutput {
  calls: Call[] = [];
  toWire(vtep: string, buf: Uint8Array, len: number): void {
    this.calls.push({ to: 'wire', dest: vtep, buf, len, hex: hexOf(buf, len) });
  }
  toPipe(vni: number, buf: Uint8Array, len: number): void {
    this.calls.push({ to: 'pipe', dest: vni, buf, len, hex: hexOf(buf, len) });
  }
  take(): Call[] {
    const c = this.calls;
    this.calls = [];
    return c;
  }
}

/** A VXLAN datagram: header for vni, then dst, src, EtherType and `payload` bytes of 0xab. */
function frame(vni: number, dst: string, src: string, ethertype = 0x0800, payload = 28): Uint8Array {
  const b = new Uint8Array(22 + payload).fill(0xab);
  b.set([0x08, 0, 0, 0, (vni >>> 16) & 0xff, (vni >>> 8) & 0xff, vni & 0xff, 0]);
  writeMac48(b, 8, parseMac48(dst)!);
  writeMac48(b, 14, parseMac48(src)!);
  b[20] = ethertype >>> 8;
  b[21] = ethertype & 0xff;
  return b;
}

function arpRequest(vni: number, senderIp: string, targetIp: string, ethDst: number = MAC48_BROADCAST): Uint8Array {
  const m = parseMac48(macOf(senderIp))!;
  return encodeArpDatagram(vni, { op: ARP_OP_REQUEST, ethDst, ethSrc: m, senderMac: m, senderIp: ipU32(senderIp), targetMac: 0, targetIp: ipU32(targetIp) });
}

function noDrops(): Record<DropReason, number> {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
}

function drops(d: Partial<Record<DropReason, number>>): Record<DropReason, number> {
  return { ...noDrops(), ...d };
}

/** Inputs = outcomes: every datagram is one drop, one unicast sent, one flood, one ARP reply or one ARP kept local. */
function balanced(s: ForwarderStats): boolean {
  const dropped = Object.values(s.drops).reduce((a, b) => a + b, 0);
  return s.fromPipe.packets + s.fromWire.packets === dropped + s.arpLocal + s.broadcasts + (s.toWire.packets - s.floods) + s.toPipe.packets;
}

/** VNI 4097 with a pipe; a local endpoint a (10.0.1.2), remote b (10.0.1.5) and d (10.0.1.7) on R2, c (10.0.1.6) on R3. */
function setup() {
  const out = new Recorder();
  const f = new Forwarder(out, { localVtep: LOCAL });
  f.addNetwork(VNI, { maxDatagramBytes: MAX });
  f.setPeer(VNI, 'a', peer('10.0.1.2', LOCAL));
  f.setPeer(VNI, 'b', peer('10.0.1.5', R2));
  f.setPeer(VNI, 'c', peer('10.0.1.6', R3));
  f.setPeer(VNI, 'd', peer('10.0.1.7', R2));
  return { f, out };
}

const A = macOf('10.0.1.2');
const B = macOf('10.0.1.5');
const C = macOf('10.0.1.6');
const BCAST = 'ff:ff:ff:ff:ff:ff';

// ---- from a pipe -----------------------------------------------------------------------------

t('pipe, unicast to a remote peer: the same bytes, the same buffer, to its VTEP', () => {
  const { f, out } = setup();
  const d = frame(VNI, B, A);
  f.fromPipe(VNI, d, d.length);
  const [c, ...rest] = out.take();
  equal(rest, []);
  is(c!.to, 'wire');
  is(c!.dest, R2);
  ok(c!.buf === d, 'zero copy: the buffer itself');
  is(c!.len, d.length);
  const s = f.stats();
  equal(s.fromPipe, { packets: 1, bytes: d.length });
  equal(s.toWire, { packets: 1, bytes: d.length });
  equal(s.drops, noDrops());
  ok(balanced(s));
});

t('pipe, unicast: len shorter than the buffer is honoured (a reused receive buffer)', () => {
  const { f, out } = setup();
  const d = frame(VNI, C, A, 0x0800, 100);
  f.fromPipe(VNI, d, 60);
  const [c] = out.take();
  equal([c!.dest, c!.len, c!.buf === d], [R3, 60, true]);
  equal(f.stats().fromPipe, { packets: 1, bytes: 60 });
});

t('pipe, unicast to an unknown MAC: no-peer; to a local peer: not-local', () => {
  const { f, out } = setup();
  const u = frame(VNI, '02:42:0a:00:01:63', A);
  f.fromPipe(VNI, u, u.length);
  const l = frame(VNI, A, B);
  f.fromPipe(VNI, l, l.length);
  equal(out.take(), []);
  equal(f.stats().drops, drops({ 'no-peer': 1, 'not-local': 1 }));
  ok(balanced(f.stats()));
});

t('pipe, broadcast: one copy per distinct remote VTEP, none to the local VTEP, in address order', () => {
  const { f, out } = setup();
  f.setPeer(VNI, 'z', peer('10.0.1.9', '192.168.0.10')); // sorts after .2 and .3 by address, before them as text
  const d = frame(VNI, BCAST, A, 0x0800);
  f.fromPipe(VNI, d, d.length);
  const calls = out.take();
  equal(calls.map((c) => c.dest), [R2, R3, '192.168.0.10']);
  ok(calls.every((c) => c.buf === d && c.len === d.length && c.to === 'wire'));
  const s = f.stats();
  is(s.broadcasts, 1);
  is(s.floods, 3);
  equal(s.toWire, { packets: 3, bytes: 3 * d.length });
  ok(balanced(s));
});

t('pipe, multicast (IPv4 01:00:5e and IPv6 33:33) is flooded like broadcast', () => {
  const { f, out } = setup();
  for (const mac of ['01:00:5e:00:00:fb', '33:33:00:00:00:01']) {
    const d = frame(VNI, mac, A, 0x86dd);
    f.fromPipe(VNI, d, d.length);
    equal(out.take().map((c) => c.dest), [R2, R3], mac);
  }
  is(f.stats().floods, 4);
});

t('pipe, broadcast with no remote peer: flooded to none, counted, not a drop', () => {
  const out = new Recorder();
  const f = new Forwarder(out, { localVtep: LOCAL });
  f.addNetwork(VNI, { maxDatagramBytes: MAX });
  f.setPeer(VNI, 'a', peer('10.0.1.2', LOCAL));
  const d = frame(VNI, BCAST, A);
  f.fromPipe(VNI, d, d.length);
  equal(out.take(), []);
  const s = f.stats();
  equal([s.broadcasts, s.floods, s.toWire.packets], [1, 0, 0]);
  equal(s.drops, noDrops());
  ok(balanced(s));
});

t('pipe, ARP request for a remote peer: answered into the pipe (golden reply), never sent to the wire', () => {
  const { f, out } = setup();
  const req = arpRequest(VNI, '10.0.1.2', '10.0.1.5');
  f.fromPipe(VNI, req, req.length);
  const [c, ...rest] = out.take();
  equal(rest, []);
  is(c!.to, 'pipe');
  is(c!.dest, VNI);
  is(c!.len, 50);
  is(
    c!.hex,
    hexOf(
      bytes(
        '08000000 00100100' + //     VXLAN: I flag, VNI 4097
          '02420a000102' + //        Ethernet dst: the requester
          '02420a000105' + //        Ethernet src: the peer asked about
          '0806' + //                ARP
          '0001 0800 06 04 0002' + // Ethernet, IPv4, 6, 4, reply
          '02420a000105 0a000105' + // sender: the peer's MAC and IP
          '02420a000102 0a000102', // target: the requester's MAC and IP
      ),
    ),
  );
  const s = f.stats();
  is(s.arpReplies, 1);
  equal(s.toPipe, { packets: 1, bytes: 50 });
  equal(s.toWire, { packets: 0, bytes: 0 });
  ok(balanced(s));
});

t('pipe, ARP request sent unicast to the peer (a neighbour refresh) is answered too', () => {
  const { f, out } = setup();
  const req = arpRequest(VNI, '10.0.1.2', '10.0.1.6', parseMac48(C)!);
  f.fromPipe(VNI, req, req.length);
  const [c] = out.take();
  equal([c!.to, c!.hex.slice(16 + 24, 16 + 24 + 4)], ['pipe', '0806']);
  is(f.stats().arpReplies, 1);
});

t('pipe, ARP request padded to 60 bytes is answered with an unpadded reply', () => {
  const { f, out } = setup();
  const req = new Uint8Array(8 + 60);
  req.set(arpRequest(VNI, '10.0.1.2', '10.0.1.5'));
  f.fromPipe(VNI, req, req.length);
  is(out.take()[0]!.len, 50);
});

t('pipe, ARP request for a local peer: nothing to do (the bridge delivered it), not a drop', () => {
  const { f, out } = setup();
  f.setPeer(VNI, 'a2', peer('10.0.1.3', LOCAL));
  const req = arpRequest(VNI, '10.0.1.2', '10.0.1.3');
  f.fromPipe(VNI, req, req.length);
  equal(out.take(), []);
  const s = f.stats();
  is(s.arpLocal, 1);
  equal(s.drops, noDrops());
  ok(balanced(s));
});

t('pipe, ARP request for an unknown IP: arp-miss, not flooded', () => {
  const { f, out } = setup();
  const req = arpRequest(VNI, '10.0.1.2', '10.0.1.99');
  f.fromPipe(VNI, req, req.length);
  equal(out.take(), []);
  equal(f.stats().drops, drops({ 'arp-miss': 1 }));
});

t('pipe, ARP that is not a request (a gratuitous reply) never leaves the node: kept local', () => {
  const { f, out } = setup();
  const m = parseMac48(A)!;
  const ip = ipU32('10.0.1.2');
  const garp = encodeArpDatagram(VNI, { op: ARP_OP_REPLY, ethDst: MAC48_BROADCAST, ethSrc: m, senderMac: m, senderIp: ip, targetMac: m, targetIp: ip });
  f.fromPipe(VNI, garp, garp.length);
  equal(out.take(), []);
  is(f.stats().arpLocal, 1);
  ok(balanced(f.stats()));
});

t('pipe, ARP EtherType with a body that is not IPv4 over Ethernet: malformed, not flooded', () => {
  const { f, out } = setup();
  const short = frame(VNI, BCAST, A, 0x0806, 27); // 28 bytes of ARP needed
  f.fromPipe(VNI, short, short.length);
  const hlen = arpRequest(VNI, '10.0.1.2', '10.0.1.5');
  hlen[26] = 8;
  f.fromPipe(VNI, hlen, hlen.length);
  equal(out.take(), []);
  equal(f.stats().drops, drops({ malformed: 2 }));
});

t('pipe, malformed: I flag clear, shorter than 22 bytes, len past the buffer, len not an integer', () => {
  const { f, out } = setup();
  const d = frame(VNI, B, A);
  const noI = Uint8Array.from(d);
  noI[0] = 0xf7;
  f.fromPipe(VNI, noI, noI.length);
  f.fromPipe(VNI, d, 21);
  f.fromPipe(VNI, d, d.length + 1);
  for (const len of [-1, 22.5, NaN]) f.fromPipe(VNI, d, len);
  f.fromPipe(VNI, new Uint8Array(0), 0);
  equal(out.take(), []);
  const s = f.stats();
  equal(s.drops, drops({ malformed: 7 }));
  equal(s.fromPipe, { packets: 7, bytes: 50 + 21 + 0 }, 'bytes only where len is a length');
  ok(balanced(s));
});

t('pipe, RFC 7348 §5: reserved bits and fields set are ignored on receipt', () => {
  const { f, out } = setup();
  const d = frame(VNI, B, A);
  d[0] = 0xff;
  d[1] = d[2] = d[3] = d[7] = 0x5a;
  f.fromPipe(VNI, d, d.length);
  equal(out.take().map((c) => c.dest), [R2]);
});

t('pipe, a datagram whose VNI is not the pipe\'s: wrong-vni', () => {
  const { f, out } = setup();
  f.addNetwork(4098, { maxDatagramBytes: MAX });
  const d = frame(4098, B, A);
  f.fromPipe(VNI, d, d.length);
  equal(out.take(), []);
  equal(f.stats().drops, drops({ 'wrong-vni': 1 }));
  equal(f.networkStats(VNI)!.drops, drops({ 'wrong-vni': 1 }), 'counted for the pipe it came from');
  equal(f.networkStats(4098)!.drops, noDrops());
});

t('pipe, no pipe for the vni (never added, or removed): unknown-vni; the VNI check comes first', () => {
  const { f, out } = setup();
  const d = frame(4099, B, A);
  f.fromPipe(4099, d, d.length);
  f.removeNetwork(VNI);
  const e = frame(VNI, B, A);
  f.fromPipe(VNI, e, e.length);
  f.fromPipe(4099, e, e.length); // both wrong: wrong-vni is checked first
  equal(out.take(), []);
  equal(f.stats().drops, drops({ 'unknown-vni': 2, 'wrong-vni': 1 }));
});

t('pipe, oversized: len > maxDatagramBytes (header included) is dropped, len = max passes', () => {
  const out = new Recorder();
  const f = new Forwarder(out, { localVtep: LOCAL });
  f.addNetwork(VNI, { maxDatagramBytes: 100 });
  f.setPeer(VNI, 'b', peer('10.0.1.5', R2));
  const big = frame(VNI, B, A, 0x0800, 79); // 101 bytes
  f.fromPipe(VNI, big, 101);
  f.fromPipe(VNI, big, 100);
  equal(out.take().map((c) => c.len), [100]);
  equal(f.stats().drops, drops({ oversized: 1 }));
  f.addNetwork(VNI, { maxDatagramBytes: 101 });
  f.fromPipe(VNI, big, 101);
  equal(out.take().map((c) => c.len), [101], 'addNetwork again sets a new limit');
});

// ---- from the wire ---------------------------------------------------------------------------

t('wire, unicast from a remote peer at its VTEP to a local peer: the same buffer into the pipe', () => {
  const { f, out } = setup();
  const d = frame(VNI, A, B);
  f.fromWire(R2, d, d.length);
  const [c, ...rest] = out.take();
  equal(rest, []);
  equal([c!.to, c!.dest, c!.len, c!.buf === d], ['pipe', VNI, d.length, true]);
  const s = f.stats();
  equal(s.fromWire, { packets: 1, bytes: d.length });
  equal(s.toPipe, { packets: 1, bytes: d.length });
  ok(balanced(s));
});

t('wire, broadcast and multicast from a member: into the pipe', () => {
  const { f, out } = setup();
  for (const dst of [BCAST, '01:00:5e:00:00:fb']) {
    const d = frame(VNI, dst, C);
    f.fromWire(R3, d, d.length);
  }
  equal(out.take().map((c) => c.dest), [VNI, VNI]);
});

t('wire, malformed: counted in the totals only (no VNI to count it under)', () => {
  const { f, out } = setup();
  const d = frame(VNI, A, B);
  d[0] = 0;
  f.fromWire(R2, d, d.length);
  f.fromWire(R2, d, 10);
  f.fromWire(R2, d, 1000);
  equal(out.take(), []);
  equal(f.stats().drops, drops({ malformed: 3 }));
  equal(f.networkStats(VNI)!.fromWire, { packets: 0, bytes: 0 });
  equal(f.networkStats(VNI)!.drops, noDrops());
});

t('wire, no pipe for its VNI: unknown-vni (also when peers of that VNI are known)', () => {
  const { f, out } = setup();
  const d = frame(4099, A, B);
  f.fromWire(R2, d, d.length);
  f.removeNetwork(VNI);
  const e = frame(VNI, A, B);
  f.fromWire(R2, e, e.length);
  equal(out.take(), []);
  equal(f.stats().drops, drops({ 'unknown-vni': 2 }));
  equal(f.networkStats(VNI)!.drops, drops({ 'unknown-vni': 1 }), 'the VNI is still known through its peers');
});

t('wire, a sender that is not the VTEP of any remote peer of the VNI: not-member', () => {
  const { f, out } = setup();
  f.addNetwork(4098, { maxDatagramBytes: MAX });
  f.setPeer(4098, 'x', peer('10.0.2.5', '192.168.0.9'));
  const d = frame(VNI, A, B);
  f.fromWire('192.168.0.77', d, d.length); // a stranger
  f.fromWire('192.168.0.9', d, d.length); // a member of another network only
  f.fromWire(LOCAL, d, d.length); // ourselves: local peers do not make a member
  equal(out.take(), []);
  equal(f.stats().drops, drops({ 'not-member': 3 }));
});

t('wire, an inner source MAC that is not a peer living at the sender: spoofed', () => {
  const { f, out } = setup();
  const unknown = frame(VNI, A, '02:42:0a:00:01:63');
  f.fromWire(R2, unknown, unknown.length);
  const other = frame(VNI, A, C); // c lives at R3
  f.fromWire(R2, other, other.length);
  const local = frame(VNI, A, A); // our own endpoint's MAC from outside
  f.fromWire(R2, local, local.length);
  const d = frame(VNI, A, macOf('10.0.1.7')); // d lives at R2: fine
  f.fromWire(R2, d, d.length);
  equal(out.take().map((c) => c.buf === d), [true]);
  equal(f.stats().drops, drops({ spoofed: 3 }));
});

t('wire, a unicast destination that is not a local peer: not-local', () => {
  const { f, out } = setup();
  const unknown = frame(VNI, '02:42:0a:00:01:63', B);
  f.fromWire(R2, unknown, unknown.length);
  const remote = frame(VNI, C, B);
  f.fromWire(R2, remote, remote.length);
  equal(out.take(), []);
  equal(f.stats().drops, drops({ 'not-local': 2 }));
});

t('wire, oversized: len > the pipe\'s maxDatagramBytes', () => {
  const out = new Recorder();
  const f = new Forwarder(out, { localVtep: LOCAL });
  f.addNetwork(VNI, { maxDatagramBytes: 64 });
  f.setPeer(VNI, 'a', peer('10.0.1.2', LOCAL));
  f.setPeer(VNI, 'b', peer('10.0.1.5', R2));
  const d = frame(VNI, A, B, 0x0800, 43); // 65 bytes
  f.fromWire(R2, d, 65);
  f.fromWire(R2, d, 64);
  equal(out.take().map((c) => c.len), [64]);
  equal(f.stats().drops, drops({ oversized: 1 }));
});

// ---- peer tables -----------------------------------------------------------------------------

t('setLocalVtep: peers at the new address become local, the old local ones remote', () => {
  const { f, out } = setup();
  f.setLocalVtep(R2);
  equal(f.networkStats(VNI)!.localPeers, 2);
  const d = frame(VNI, BCAST, macOf('10.0.1.5'));
  f.fromPipe(VNI, d, d.length);
  equal(out.take().map((c) => c.dest), [LOCAL, R3]);
  const w = frame(VNI, B, A); // from the old local endpoint, now remote at LOCAL
  f.fromWire(LOCAL, w, w.length);
  equal(out.take().map((c) => c.dest), [VNI]);
  is(f.localVtep, R2);
});

t('setPeer replaces a key: the old MAC, IP and VTEP are forgotten', () => {
  const { f, out } = setup();
  f.setPeer(VNI, 'b', peer('10.0.1.8', R3));
  const old = frame(VNI, B, A);
  f.fromPipe(VNI, old, old.length);
  const nu = frame(VNI, macOf('10.0.1.8'), A);
  f.fromPipe(VNI, nu, nu.length);
  equal(out.take().map((c) => c.dest), [R3]);
  equal(f.stats().drops, drops({ 'no-peer': 1 }));
  is(f.peers(VNI).length, 4);
  equal(f.peers(VNI).at(-1), peer('10.0.1.8', R3), 'peers() in the order last set');
});

t('a MAC held by two keys (an address moving between endpoints): the newest wins, and the other takes over when it goes', () => {
  const { f, out } = setup();
  const send = () => {
    const d = frame(VNI, B, A);
    f.fromPipe(VNI, d, d.length);
    return out.take().map((c) => c.dest);
  };
  f.setPeer(VNI, 'b2', peer('10.0.1.5', R3)); // new endpoint with b's address, on R3, before b's delete arrives
  equal(send(), [R3]);
  f.removePeer(VNI, 'b');
  equal(send(), [R3], 'removing the old key does not remove the new holder');
  f.setPeer(VNI, 'b', peer('10.0.1.5', R2));
  equal(send(), [R2]);
  f.removePeer(VNI, 'b');
  equal(send(), [R3], 'the other holder takes over');
  const req = arpRequest(VNI, '10.0.1.2', '10.0.1.5');
  f.fromPipe(VNI, req, req.length);
  is(out.take().length, 1, 'the IP index follows the same rule');
});

t('mac text is normalised to lowercase; peers() returns copies', () => {
  const out = new Recorder();
  const f = new Forwarder(out, { localVtep: LOCAL });
  f.setPeer(VNI, 'x', { ip: '10.0.1.5', mac: '02:42:0A:00:01:05', vtep: R2 });
  const p = f.peers(VNI);
  equal(p, [peer('10.0.1.5', R2)]);
  p[0]!.vtep = 'changed';
  equal(f.peers(VNI), [peer('10.0.1.5', R2)]);
  equal(f.lookupMac(VNI, '02:42:0a:00:01:05'), { key: 'x', local: false, ...peer('10.0.1.5', R2) });
  is(f.lookupMac(VNI, '02:42:0a:00:01:06'), undefined);
});

t('networks: known while they have a pipe or a peer; removeNetwork keeps the peers and counters', () => {
  const { f } = setup();
  equal(f.vnis(), [VNI]);
  const d = frame(VNI, B, A);
  f.fromPipe(VNI, d, d.length);
  f.removeNetwork(VNI);
  const n = f.networkStats(VNI)!;
  equal([n.pipe, n.maxDatagramBytes, n.peers, n.localPeers, n.remoteVteps, n.toWire.packets], [false, 0, 4, 1, 2, 1]);
  for (const k of ['a', 'b', 'c']) f.removePeer(VNI, k);
  ok(f.networkStats(VNI) !== undefined);
  f.removePeer(VNI, 'd');
  is(f.networkStats(VNI), undefined, 'no pipe, no peer: forgotten');
  equal(f.vnis(), []);
  equal(f.peers(VNI), []);
  is(f.stats().toWire.packets, 1, 'totals stay');
  f.removePeer(VNI, 'never');
  f.removeNetwork(4242);
});

t('networkStats: peer and remote VTEP counts', () => {
  const { f } = setup();
  const n = f.networkStats(VNI) as NetworkStats;
  equal([n.vni, n.pipe, n.maxDatagramBytes, n.peers, n.localPeers, n.remoteVteps], [VNI, true, MAX, 4, 1, 2]);
});

t('control calls validate their arguments with exact messages', () => {
  const out = new Recorder();
  const msg = (fn: () => unknown, m: string) => throws(fn, (e: Error) => e instanceof RangeError && e.message === m);
  msg(() => new Forwarder(out, { localVtep: '10.0.0' }), 'Forwarder: localVtep must be a dotted IPv4 address, got "10.0.0"');
  msg(() => new Forwarder({} as never, { localVtep: LOCAL }), 'Forwarder: out must have toWire and toPipe functions');
  const f = new Forwarder(out, { localVtep: '0.0.0.0' });
  const p = peer('10.0.1.5', R2);
  msg(() => f.setPeer(2 ** 24, 'k', p), 'setPeer: vni must be an integer in 0..16777215, got 16777216');
  msg(() => f.setPeer(-1, 'k', p), 'setPeer: vni must be an integer in 0..16777215, got -1');
  msg(() => f.setPeer(1, '', p), 'setPeer: key must be a non-empty string, got ""');
  msg(() => f.setPeer(1, 'k', null as never), 'setPeer: peer must be an object with ip, mac and vtep, got null');
  msg(() => f.setPeer(1, 'k', { ...p, ip: 'fd00::5' }), 'setPeer: ip must be a dotted IPv4 address, got "fd00::5"');
  msg(() => f.setPeer(1, 'k', { ...p, ip: '10.0.1.05' }), 'setPeer: ip must be a dotted IPv4 address, got "10.0.1.05"');
  msg(() => f.setPeer(1, 'k', { ...p, mac: '02:42:0a:00:01' }), 'setPeer: mac must be six hex octets separated by colons, got "02:42:0a:00:01"');
  msg(() => f.setPeer(1, 'k', { ...p, mac: 7 as never }), 'setPeer: mac must be six hex octets separated by colons, got 7');
  msg(() => f.setPeer(1, 'k', { ...p, mac: '01:00:5e:00:00:01' }), 'setPeer: mac must be a unicast address (group bit clear), got "01:00:5e:00:00:01"');
  msg(() => f.setPeer(1, 'k', { ...p, vtep: 'node-2' }), 'setPeer: vtep must be a dotted IPv4 address, got "node-2"');
  msg(() => f.removePeer(1.5, 'k'), 'removePeer: vni must be an integer in 0..16777215, got 1.5');
  msg(() => f.removePeer(1, 3 as never), 'removePeer: key must be a non-empty string, got 3');
  msg(() => f.addNetwork(2 ** 24, { maxDatagramBytes: MAX }), 'addNetwork: vni must be an integer in 0..16777215, got 16777216');
  msg(() => f.addNetwork(1, { maxDatagramBytes: 21 }), 'addNetwork: maxDatagramBytes must be an integer in 22..65535, got 21');
  msg(() => f.addNetwork(1, { maxDatagramBytes: 65_536 }), 'addNetwork: maxDatagramBytes must be an integer in 22..65535, got 65536');
  msg(() => f.addNetwork(1, {} as never), 'addNetwork: maxDatagramBytes must be an integer in 22..65535, got undefined');
  msg(() => f.removeNetwork(NaN), 'removeNetwork: vni must be an integer in 0..16777215, got NaN');
  msg(() => f.setLocalVtep('::1'), 'setLocalVtep: vtep must be a dotted IPv4 address, got "::1"');
  msg(() => f.networkStats(-5), 'networkStats: vni must be an integer in 0..16777215, got -5');
  msg(() => f.peers(2 ** 24), 'peers: vni must be an integer in 0..16777215, got 16777216');
  equal(f.vnis(), [], 'a refused call changes nothing');
  f.addNetwork(0, { maxDatagramBytes: 22 });
  f.addNetwork(2 ** 24 - 1, { maxDatagramBytes: 65_535 });
  equal(f.vnis(), [0, 2 ** 24 - 1]);
});

t('the hot path never throws, whatever the arguments', () => {
  const { f, out } = setup();
  const d = frame(VNI, B, A);
  for (const len of [NaN, -1, Infinity, 1e9, 0.5, '50' as never, undefined as never]) {
    f.fromPipe(VNI, d, len);
    f.fromWire(R2, d, len);
  }
  f.fromPipe('4097' as never, d, d.length);
  f.fromPipe(undefined as never, d, d.length);
  f.fromWire(undefined as never, d, d.length);
  f.fromWire(42 as never, d, d.length);
  equal(out.take(), []);
  const s = f.stats();
  equal(s.drops, drops({ malformed: 14, 'wrong-vni': 2, 'not-member': 2 }));
  ok(balanced(s));
});

// ---- the dumb twin ---------------------------------------------------------------------------

interface TwinPeer {
  vni: number;
  key: string;
  ip: string;
  mac: string;
  vtep: string;
}

function zeroStats(): ForwarderStats {
  const tc = () => ({ packets: 0, bytes: 0 });
  return { fromPipe: tc(), fromWire: tc(), toWire: tc(), toPipe: tc(), arpReplies: 0, arpLocal: 0, broadcasts: 0, floods: 0, drops: noDrops() };
}

function copyStats(s: ForwarderStats): ForwarderStats {
  return { ...s, fromPipe: { ...s.fromPipe }, fromWire: { ...s.fromWire }, toWire: { ...s.toWire }, toPipe: { ...s.toPipe }, drops: { ...s.drops } };
}

const macText = (b: Uint8Array, at: number): string => Array.from(b.subarray(at, at + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
const ipText = (b: Uint8Array, at: number): string => Array.from(b.subarray(at, at + 4)).join('.');
const macBytes = (m: string): number[] => m.split(':').map((h) => parseInt(h, 16));
const ipBytes = (ip: string): number[] => ip.split('.').map(Number);

/** The reference: arrays, linear scans, the rules written out as plainly as possible. */
class Twin {
  local: string;
  pipes: { vni: number; max: number; encrypted: boolean }[] = [];
  /** In the order set: the last one holding a MAC or IP wins. */
  peers: TwinPeer[] = [];
  totals = zeroStats();
  nets = new Map<number, ForwarderStats>();
  calls: string[] = [];

  constructor(local: string) {
    this.local = local;
  }

  known(vni: number): boolean {
    return this.pipes.some((p) => p.vni === vni) || this.peers.some((p) => p.vni === vni);
  }
  sync(vni: number): void {
    if (!this.known(vni)) this.nets.delete(vni);
    else if (!this.nets.has(vni)) this.nets.set(vni, zeroStats());
  }
  addNetwork(vni: number, max: number, encrypted = false): void {
    this.pipes = this.pipes.filter((p) => p.vni !== vni).concat({ vni, max, encrypted });
    this.sync(vni);
  }
  removeNetwork(vni: number): void {
    this.pipes = this.pipes.filter((p) => p.vni !== vni);
    this.sync(vni);
  }
  setPeer(vni: number, key: string, p: PeerEntry): void {
    this.peers = this.peers.filter((q) => !(q.vni === vni && q.key === key)).concat({ vni, key, ip: p.ip, mac: p.mac.toLowerCase(), vtep: p.vtep });
    this.sync(vni);
  }
  removePeer(vni: number, key: string): void {
    this.peers = this.peers.filter((q) => !(q.vni === vni && q.key === key));
    this.sync(vni);
  }
  holder(vni: number, f: (p: TwinPeer) => boolean): TwinPeer | undefined {
    return this.peers.filter((p) => p.vni === vni && f(p)).at(-1);
  }
  remoteVteps(vni: number): string[] {
    const vs = [...new Set(this.peers.filter((p) => p.vni === vni && p.vtep !== this.local).map((p) => p.vtep))];
    return vs.sort((a, b) => ipU32(a) - ipU32(b));
  }
  each(vni: number | undefined, f: (s: ForwarderStats) => void): void {
    f(this.totals);
    const n = vni === undefined ? undefined : this.nets.get(vni);
    if (n) f(n);
  }
  drop(vni: number | undefined, r: DropReason): void {
    this.each(vni, (s) => s.drops[r]++);
  }

  fromPipe(vni: number, buf: Uint8Array, len: number): void {
    const n = this.nets.has(vni) ? vni : undefined;
    this.each(n, (s) => s.fromPipe.packets++);
    if (!Number.isInteger(len) || len < 0 || len > buf.length) return this.drop(n, 'malformed');
    this.each(n, (s) => (s.fromPipe.bytes += len));
    if (len < 22 || (buf[0]! & 0x08) === 0) return this.drop(n, 'malformed');
    if (buf[4]! * 65536 + buf[5]! * 256 + buf[6]! !== vni) return this.drop(n, 'wrong-vni');
    const pipe = this.pipes.find((p) => p.vni === vni);
    if (!pipe) return this.drop(n, 'unknown-vni');
    if (len > pipe.max) return this.drop(n, 'oversized');
    const hex = hexOf(buf, len);
    if (buf[20] === 0x08 && buf[21] === 0x06) {
      if (len < 50 || hexOf(buf.subarray(22), 6) !== '000108000604') return this.drop(n, 'malformed');
      if (buf[28] !== 0 || buf[29] !== 1) return this.each(n, (s) => s.arpLocal++);
      const target = this.holder(vni, (p) => p.ip === ipText(buf, 46));
      if (!target) return this.drop(n, 'arp-miss');
      if (target.vtep === this.local) return this.each(n, (s) => s.arpLocal++);
      const sha = Array.from(buf.subarray(30, 36));
      const spa = Array.from(buf.subarray(36, 40));
      const reply = Uint8Array.from([
        0x08, 0, 0, 0, buf[4]!, buf[5]!, buf[6]!, 0,
        ...sha, ...macBytes(target.mac), 0x08, 0x06,
        0, 1, 0x08, 0, 6, 4, 0, 2,
        ...macBytes(target.mac), ...ipBytes(target.ip), ...sha, ...spa,
      ]);
      this.calls.push(`pipe ${vni} ${hexOf(reply)} new`);
      return this.each(n, (s) => {
        s.arpReplies++;
        s.toPipe.packets++;
        s.toPipe.bytes += 50;
      });
    }
    if (buf[8]! & 1) {
      const to = this.remoteVteps(vni);
      for (const v of to) this.calls.push(`wire ${v} ${hex} same`);
      return this.each(n, (s) => {
        s.broadcasts++;
        s.floods += to.length;
        s.toWire.packets += to.length;
        s.toWire.bytes += to.length * len;
      });
    }
    const dst = this.holder(vni, (p) => p.mac === macText(buf, 8));
    if (!dst) return this.drop(n, 'no-peer');
    if (dst.vtep === this.local) return this.drop(n, 'not-local');
    this.calls.push(`wire ${dst.vtep} ${hex} same`);
    this.each(n, (s) => {
      s.toWire.packets++;
      s.toWire.bytes += len;
    });
  }

  fromWire(src: string, buf: Uint8Array, len: number, sealed = false): void {
    this.totals.fromWire.packets++;
    if (!Number.isInteger(len) || len < 0 || len > buf.length) return this.drop(undefined, 'malformed');
    this.totals.fromWire.bytes += len;
    if (len < 22 || (buf[0]! & 0x08) === 0) return this.drop(undefined, 'malformed');
    const vni = buf[4]! * 65536 + buf[5]! * 256 + buf[6]!;
    const net = this.nets.get(vni);
    if (net) {
      net.fromWire.packets++;
      net.fromWire.bytes += len;
    }
    const n = net ? vni : undefined;
    const pipe = this.pipes.find((p) => p.vni === vni);
    if (!pipe) return this.drop(n, 'unknown-vni');
    if (pipe.encrypted !== sealed) return this.drop(n, 'unencrypted');
    if (!this.peers.some((p) => p.vni === vni && p.vtep !== this.local && p.vtep === src)) return this.drop(n, 'not-member');
    const from = this.holder(vni, (p) => p.mac === macText(buf, 14));
    if (!from || from.vtep !== src) return this.drop(n, 'spoofed');
    if ((buf[8]! & 1) === 0) {
      const to = this.holder(vni, (p) => p.mac === macText(buf, 8));
      if (!to || to.vtep !== this.local) return this.drop(n, 'not-local');
    }
    if (len > pipe.max) return this.drop(n, 'oversized');
    this.calls.push(`pipe ${vni} ${hexOf(buf, len)} same`);
    this.each(n, (s) => {
      s.toPipe.packets++;
      s.toPipe.bytes += len;
    });
  }

  networkStats(vni: number): NetworkStats | undefined {
    const s = this.nets.get(vni);
    if (!s) return undefined;
    const pipe = this.pipes.find((p) => p.vni === vni);
    const mine = this.peers.filter((p) => p.vni === vni);
    return {
      vni,
      pipe: pipe !== undefined,
      maxDatagramBytes: pipe?.max ?? 0,
      peers: mine.length,
      localPeers: mine.filter((p) => p.vtep === this.local).length,
      remoteVteps: this.remoteVteps(vni).length,
      ...copyStats(s),
    };
  }
}

const VNIS = [4096, 4097, 4098];
const VTEPS = ['10.99.0.1', '10.99.0.2', '10.99.0.3', '10.99.0.10'];
const IPS = ['10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.4', '10.0.1.5'];
// Docker's MACs for IPS, plus two that several endpoints may share.
const MACS = [...IPS.map(macOf), '02:42:aa:bb:cc:dd', '06:00:00:00:00:01'];
const KEYS = ['e0', 'e1', 'e2', 'e3', 'e4', 'e5'];
const MAXES = [50, 64, 1472];
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[r.int(xs.length)]!;

function randomMac(r: Rand): string {
  const k = r.int(10);
  if (k < 7) return pick(r, MACS);
  if (k === 7) return 'ff:ff:ff:ff:ff:ff';
  if (k === 8) return '01:00:5e:00:00:' + r.int(256).toString(16).padStart(2, '0');
  return Array.from(r.bytes(6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** A datagram near the interesting cases: mostly well-formed, on a known VNI, between known MACs; sometimes not. */
function randomDatagram(r: Rand): { buf: Uint8Array; len: number } {
  const vni = r.int(10) < 9 ? pick(r, VNIS) : r.int(2 ** 24);
  let buf: Uint8Array;
  const kind = r.int(10);
  if (kind < 3) {
    // ARP: request, reply or a broken one, for a known or unknown address
    const m = parseMac48(pick(r, MACS))!;
    const target = r.int(6) === 0 ? '10.0.1.99' : pick(r, IPS);
    buf = encodeArpDatagram(vni, {
      op: r.int(5) === 0 ? ARP_OP_REPLY : ARP_OP_REQUEST, ethDst: r.int(4) === 0 ? m : MAC48_BROADCAST, ethSrc: m,
      senderMac: m, senderIp: ipU32(pick(r, IPS)), targetMac: 0, targetIp: ipU32(target),
    });
    if (r.int(8) === 0) buf[22 + r.int(6)]! ^= 1 << r.int(8);
    if (r.int(5) === 0) {
      const padded = new Uint8Array(buf.length + r.int(20));
      padded.set(buf);
      buf = padded;
    }
  } else if (kind < 9) {
    buf = frame(vni, randomMac(r), randomMac(r), pick(r, [0x0800, 0x86dd, 0x8100]), r.int(50));
  } else {
    buf = r.bytes(r.int(70));
  }
  if (buf.length > 0) {
    const flags = r.int(20);
    if (flags === 0) buf[0] = 0;
    else if (flags === 1) buf[0] = r.int(256);
  }
  const l = r.int(20);
  const len = l === 0 ? r.int(buf.length + 1) : l === 1 ? pick(r, [buf.length + 1, -1, 30.5]) : buf.length;
  return { buf, len };
}

function compare(f: Forwarder, out: Recorder, tw: Twin, input: Uint8Array | undefined, where: string): void {
  const got = out.take().map((c) => `${c.to} ${c.dest} ${c.hex} ${c.buf === input ? 'same' : 'new'}`);
  equal(got, tw.calls, `${where}: output calls`);
  tw.calls = [];
  equal(f.stats(), tw.totals, `${where}: totals`);
  for (const vni of VNIS) {
    equal(f.networkStats(vni), tw.networkStats(vni), `${where}: networkStats(${vni})`);
    equal(f.peers(vni), tw.peers.filter((p) => p.vni === vni).map(({ ip, mac, vtep }) => ({ ip, mac, vtep })), `${where}: peers(${vni})`);
  }
  ok(balanced(tw.totals), `${where}: the twin's counters balance`);
}

function runSeed(seed: number, steps: number): void {
  const r = seededRand(seed);
  const out = new Recorder();
  const local = pick(r, VTEPS);
  const f = new Forwarder(out, { localVtep: local });
  const tw = new Twin(local);
  for (let step = 0; step < steps; step++) {
    const where = `seed=${seed} step=${step}`;
    const op = r.int(100);
    let input: Uint8Array | undefined;
    if (op < 22) {
      const vni = pick(r, VNIS);
      const key = pick(r, KEYS);
      const ip = pick(r, IPS);
      const p = { ip, mac: r.int(3) === 0 ? pick(r, MACS) : macOf(ip), vtep: pick(r, VTEPS) };
      if (r.int(10) === 0) p.mac = p.mac.toUpperCase();
      f.setPeer(vni, key, p);
      tw.setPeer(vni, key, p);
    } else if (op < 32) {
      const vni = pick(r, VNIS);
      const key = pick(r, KEYS);
      f.removePeer(vni, key);
      tw.removePeer(vni, key);
    } else if (op < 40) {
      const vni = pick(r, VNIS);
      const max = pick(r, MAXES);
      const encrypted = r.int(4) === 0;
      f.addNetwork(vni, { maxDatagramBytes: max, encrypted });
      tw.addNetwork(vni, max, encrypted);
    } else if (op < 44) {
      const vni = pick(r, VNIS);
      f.removeNetwork(vni);
      tw.removeNetwork(vni);
    } else if (op < 46) {
      const v = pick(r, VTEPS);
      f.setLocalVtep(v);
      tw.local = v;
    } else if (op < 75) {
      const vni = r.int(10) < 9 ? pick(r, VNIS) : r.int(2 ** 24);
      const d = randomDatagram(r);
      // Most of them carry the pipe's own VNI, as the kernel would send.
      if (d.buf.length >= 7 && r.int(4) !== 0) d.buf.set([(vni >>> 16) & 0xff, (vni >>> 8) & 0xff, vni & 0xff], 4);
      input = d.buf;
      f.fromPipe(vni, d.buf, d.len);
      tw.fromPipe(vni, d.buf, d.len);
    } else {
      const src = r.int(10) < 9 ? pick(r, VTEPS) : '10.99.0.77';
      const d = randomDatagram(r);
      input = d.buf;
      const sealed = r.int(4) === 0;
      f.fromWire(src, d.buf, d.len, sealed);
      tw.fromWire(src, d.buf, d.len, sealed);
    }
    compare(f, out, tw, input, where);
  }
}

t('the forwarder matches the dumb twin on 2,500 seeded random operation sequences', () => {
  for (let i = 0; i < 2500; i++) runSeed(SEED + i, 60);
});

t('the random datagrams reach every outcome (so the twin comparison covers every rule)', () => {
  const out = new Recorder();
  const local = VTEPS[0]!;
  const f = new Forwarder(out, { localVtep: local });
  const r = seededRand(SEED);
  VNIS.forEach((vni, i) => f.addNetwork(vni, { maxDatagramBytes: MAXES[i]!, encrypted: i === 0 }));
  for (let step = 0; step < 20_000; step++) {
    if (step % 10 === 0) {
      const ip = pick(r, IPS);
      f.setPeer(pick(r, VNIS), pick(r, KEYS), { ip, mac: r.int(3) === 0 ? pick(r, MACS) : macOf(ip), vtep: pick(r, VTEPS) });
    }
    const d = randomDatagram(r);
    if (r.int(2) === 0) {
      const vni = pick(r, VNIS);
      if (d.buf.length >= 7 && r.int(4) !== 0) d.buf.set([(vni >>> 16) & 0xff, (vni >>> 8) & 0xff, vni & 0xff], 4);
      f.fromPipe(vni, d.buf, d.len);
    } else f.fromWire(pick(r, VTEPS), d.buf, d.len, d.buf[4] === 0 && d.buf[5] === 0x10 && d.buf[6] === 0 ? r.int(2) === 0 : false);
    out.take();
  }
  const s = f.stats();
  for (const reason of DROP_REASONS) ok(s.drops[reason] > 0, `drop ${reason} reached`);
  for (const k of ['arpReplies', 'arpLocal', 'broadcasts', 'floods'] as const) ok(s[k] > 0, `${k} reached`);
  ok(s.toWire.packets > s.floods, 'unicast sent');
  ok(s.toPipe.packets > s.arpReplies, 'delivered from the wire');
  ok(balanced(s));
});

t.run();
