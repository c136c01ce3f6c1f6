// SecurePlanes wired back to back over a ManualClock (fixture.ts): the
// handshake, data both ways, the queue behind a handshake, and every kind of
// bad message dropped and counted (DESIGN §4; STYLE habit 8), with the
// accounting identity of stats.ts checked after each scenario.
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { generateKeypair } from '../../../../shared/crypto/noise-dh.js';
import { VXLAN_VNI_MAX } from '../../../../agent/datapath/vxlan-frame.js';
import { Wire, VNI, VNI2, pair, balanced, bytes, copy, dataKey, datagram, handshakeByHand, type Msg } from './fixture.js';

const t = suite('secure plane basics');

t('a first datagram starts a handshake and waits for it; then data flows both ways at once', () => {
  const { w, a, b } = pair();
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 64);
  is(w.queue.length, 1, 'only the initiation is on the wire');
  is(w.queue[0]!.bytes[0], 1);
  equal(a.plane.status(VNI).map((s) => s.state), ['handshaking']);
  w.pump();
  equal(b.seqs(), [1]);
  b.plane.send(VNI, a.vtep, datagram(VNI, 2), 64);
  is(w.queue.length, 1, 'the responder seals at once: its keys are confirmed');
  is(w.queue[0]!.bytes[0], 4);
  w.pump();
  equal(a.seqs(), [2]);
  equal(a.delivered[0]!.bytes, datagram(VNI, 2));
  is(a.delivered[0]!.from, b.vtep);
  equal(w.log.map((m) => m.bytes[0]), [1, 2, 4, 4], 'initiation, response, the queued datagram, the reply');
  const [sa] = a.plane.status(VNI);
  equal({ ...sa!, lastHandshakeWallMs: 0 }, { nodeId: 'b', vtep: b.vtep, state: 'up', reason: '', lastHandshakeWallMs: 0, txBytes: 64, rxBytes: 64, txPackets: 1, rxPackets: 1, handshakes: 1, generation: 1 });
  equal(a.statuses.map((s) => s.s.state), ['handshaking', 'up']);
  equal(b.statuses.map((s) => s.s.state), ['handshaking', 'up'], 'responder: responded, then confirmed');
  const st = a.plane.stats();
  equal([st.initiationsSent, st.responsesReceived, st.staged, st.sealed.packets, st.delivered.packets, st.handshakesCompleted], [1, 1, 1, 1, 1, 1]);
  ok(balanced(a.plane.stats()) && balanced(b.plane.stats()));
  w.close();
});

t('the queue behind a handshake keeps the newest 32 in order; older ones are dropped and counted', () => {
  const { w, a, b } = pair();
  for (let i = 0; i < 40; i++) a.plane.send(VNI, b.vtep, datagram(VNI, i), 64);
  is(a.plane.stats().queued, 32);
  w.pump();
  equal(b.seqs(), Array.from({ length: 32 }, (_, i) => i + 8));
  is(a.plane.stats().drops['queue-full'], 8);
  is(a.plane.stats().queued, 0);
  ok(balanced(a.plane.stats()));
  w.close();
});

t('the sender keeps no reference: the caller may reuse its buffer right after send', () => {
  const { w, a, b } = pair();
  const buf = datagram(VNI, 1);
  a.plane.send(VNI, b.vtep, buf, 64); // queued behind the handshake
  buf.set(datagram(VNI, 99));
  w.pump();
  equal(b.seqs(), [1]);
  a.plane.send(VNI, b.vtep, buf, 64);
  const sent = w.queue[0]!.bytes;
  buf.fill(0);
  w.pump();
  equal(b.seqs(), [1, 99]);
  ok(sent.length === 96);
  w.close();
});

/** Up and running, with the wire's log cleared; returns the next transport message a sends b, not yet delivered. */
function upAndCapture() {
  const p = pair();
  p.a.plane.send(VNI, p.b.vtep, datagram(VNI, 0), 64);
  p.w.pump();
  p.w.log.length = 0;
  const caught: Msg[] = [];
  for (let i = 1; i <= 5; i++) p.a.plane.send(VNI, p.b.vtep, datagram(VNI, i, 100), 100);
  caught.push(...p.w.queue);
  p.w.queue = [];
  return { ...p, caught };
}

t('tampered, truncated, padded, reserved bits: dropped and counted; the genuine ones still open', () => {
  const { w, a, b, caught } = upAndCapture();
  const m = caught[0]!.bytes;
  const rx = (bytes: Uint8Array): void => b.plane.receive(a.vtep, bytes, bytes.length);
  for (const at of [16, 60, m.length - 1]) {
    const bad = copy(m, 0, m.length);
    bad[at]! ^= 1;
    rx(bad);
  }
  is(b.plane.stats().drops.auth, 3, 'ciphertext and tag flips');
  const hdr = copy(m, 0, m.length);
  hdr[15]! ^= 0x10; // the counter (1 -> 17): authenticated as associated data
  rx(hdr);
  is(b.plane.stats().drops.auth, 4);
  rx(m.subarray(0, 31));
  rx(m.subarray(0, 16));
  is(b.plane.stats().drops.malformed, 2, 'shorter than header + tag');
  rx(m.subarray(0, m.length - 1));
  is(b.plane.stats().drops.auth, 5, 'one byte short: the tag is read from the wrong place');
  const reserved = copy(m, 0, m.length);
  reserved[2] = 1;
  rx(reserved);
  is(b.plane.stats().drops.malformed, 3);
  b.plane.receive(a.vtep, m, 0);
  b.plane.receive(a.vtep, m, m.length + 1);
  b.plane.receive(a.vtep, m, -1);
  is(b.plane.stats().drops.malformed, 6, 'bad lengths');
  b.plane.receive(a.vtep, bytes('05000000'), 4);
  is(b.plane.stats().drops.malformed, 7, 'an unknown type');
  for (const c of caught) rx(c.bytes);
  equal(b.seqs(), [0, 1, 2, 3, 4, 5]);
  ok(balanced(b.plane.stats()));
  w.close();
});

t('replayed: once only; reordered within the window: accepted; outside it: dropped as replay', () => {
  const { w, a, b, caught } = upAndCapture();
  const rx = (m: Msg): void => b.plane.receive(m.from, m.bytes, m.bytes.length);
  rx(caught[4]!);
  rx(caught[1]!);
  rx(caught[1]!);
  rx(caught[4]!);
  is(b.plane.stats().drops.replay, 2);
  // Push the window past caught[0], [2], [3]: 8161 datagrams later.
  for (let i = 0; i < 8200; i++) a.plane.send(VNI, b.vtep, datagram(VNI, 100 + i), 64);
  w.pump();
  rx(caught[3]!);
  rx(caught[2]!);
  is(b.plane.stats().drops.replay, 4, 'too old for the 8160-counter window');
  equal(b.seqs().slice(0, 3), [0, 5, 2]);
  is(b.seqs().length, 3 + 8200);
  ok(balanced(b.plane.stats()));
  w.close();
});

t('from the wrong VTEP, under an unknown index: dropped and counted', () => {
  const { w, a, b, caught } = upAndCapture();
  const m = caught[0]!.bytes;
  b.plane.receive('10.0.0.9', m, m.length);
  is(b.plane.stats().drops['wrong-source'], 1, 'a session index used from another address');
  const other = copy(m, 0, m.length);
  other[7]! ^= 1;
  b.plane.receive(a.vtep, other, other.length);
  other[4] = 0xff; // >= 2^30: never one of ours
  b.plane.receive(a.vtep, other, other.length);
  is(b.plane.stats().drops['unknown-index'], 2);
  ok(balanced(b.plane.stats()));
  w.close();
});

t('wrong keys: a generation the responder lacks, another network, another data key, a stranger, a message for someone else', () => {
  const w = new Wire();
  const a = w.add('a', '10.0.0.1');
  const b = w.add('b', '10.0.0.2');
  const c = w.add('c', '10.0.0.3');
  a.plane.setPeers([b.identity(), c.identity()]);
  b.plane.setPeers([a.identity()]); // b does not know c
  a.plane.setNetworkKeys(VNI, [{ generation: 2, key: dataKey(2) }]);
  b.plane.setNetworkKeys(VNI, [{ generation: 1, key: dataKey(1) }]);
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 64);
  w.pump();
  is(b.plane.stats().drops['unknown-key'], 1, 'generation 2 is not held by b');
  b.plane.setNetworkKeys(VNI, [{ generation: 2, key: dataKey(9) }]); // same generation, other bytes
  w.run(5_400, 100); // the retry
  is(a.plane.stats().drops.auth, 1, 'the response does not authenticate under another PSK');
  equal(b.seqs(), []);
  a.plane.setNetworkKeys(VNI2, [{ generation: 1, key: dataKey(1) }]);
  a.plane.send(VNI2, b.vtep, datagram(VNI2, 1), 64);
  w.pump();
  is(b.plane.stats().drops['no-key'], 1, 'b has no key for the network');
  // c knows a's key but b does not know c.
  c.plane.setPeers([b.identity()]);
  c.plane.setNetworkKeys(VNI, [{ generation: 2, key: dataKey(9) }]);
  c.plane.send(VNI, b.vtep, datagram(VNI, 1), 64);
  w.pump();
  is(b.plane.stats().drops['not-member'], 1, 'from a VTEP that is no peer');
  // A stranger's initiation from a's address: the static key is not a's.
  const mallory = { key: generateKeypair(w.rand), vtep: a.vtep };
  throws(() => handshakeByHand(w, mallory, b, VNI, 2, dataKey(9)), /no response/);
  is(b.plane.stats().drops['not-member'], 2);
  // An initiation for c replayed at b: mac1 is keyed by c's static.
  const forC = w.log.find((m) => m.bytes[0] === 1 && m.to === b.vtep)!.bytes;
  const atC = copy(forC, 0, forC.length);
  c.plane.receive(a.vtep, atC, atC.length);
  is(c.plane.stats().drops['not-member'], 1, 'c does not know a');
  c.plane.setPeers([a.identity(), b.identity()]);
  c.plane.receive(a.vtep, atC, atC.length);
  is(c.plane.stats().drops.mac, 1);
  ok([a, b, c].every((n) => balanced(n.plane.stats())));
  w.close();
});

t('inside a valid session: a datagram of another network, or no VXLAN datagram at all, is dropped', () => {
  const w = new Wire();
  const b = w.add('b', '10.0.0.2');
  const mallory = { key: generateKeypair(w.rand), vtep: '10.0.0.1' };
  b.plane.setPeers([{ nodeId: 'm', publicKey: mallory.key.publicKey, vtep: mallory.vtep }]);
  b.plane.setNetworkKeys(VNI, [{ generation: 1, key: dataKey(1) }]);
  b.plane.setNetworkKeys(VNI2, [{ generation: 1, key: dataKey(2) }]);
  const kp = handshakeByHand(w, mallory, b, VNI, 1, dataKey(1));
  const rx = (dg: Uint8Array): void => {
    const m = kp.seal(dg, dg.length);
    b.plane.receive(mallory.vtep, m, m.length);
  };
  rx(datagram(VNI2, 1));
  is(b.plane.stats().drops['wrong-vni'], 1, 'sealed under the VNI 4097 session, carrying 4098');
  rx(bytes('00000000001001'));
  rx(bytes('00000000' + '00100100' + 'ffff'));
  is(b.plane.stats().drops.malformed, 2, 'too short; no I flag');
  rx(datagram(VNI, 7));
  equal(b.seqs(), [7]);
  equal(b.plane.status(VNI2), [], 'no session on the other network');
  w.close();
});

t('a peer removed by setPeers is cut off at once: sessions gone, its data and handshakes dropped and counted', () => {
  const w = new Wire();
  const a = w.add('a', '10.0.0.1');
  const b = w.add('b', '10.0.0.2');
  const c = w.add('c', '10.0.0.3');
  w.mesh();
  w.mesh(undefined, VNI2);
  for (const vni of [VNI, VNI2]) {
    a.plane.send(vni, b.vtep, datagram(vni, 1), 64);
    c.plane.send(vni, b.vtep, datagram(vni, 1), 64);
  }
  w.pump();
  equal(b.plane.status(VNI).map((s) => s.nodeId), ['a', 'c']);
  a.plane.send(VNI, b.vtep, datagram(VNI, 2), 64);
  const inFlight = w.queue.splice(0);
  b.plane.setPeers([c.identity()]);
  equal(b.plane.status(VNI).map((s) => s.nodeId), ['c']);
  equal(b.plane.status(VNI2).map((s) => s.nodeId), ['c']);
  for (const m of inFlight) b.plane.receive(m.from, m.bytes, m.bytes.length);
  is(b.plane.stats().drops['unknown-index'], 1, 'its keypairs are gone');
  a.plane.send(VNI, b.vtep, datagram(VNI, 3), 64);
  w.run(20_000, 100); // a hears nothing back for 15 s: it starts a handshake
  is(b.plane.stats().drops['unknown-index'], 2);
  ok(b.plane.stats().drops['not-member'] >= 1, 'its initiations are refused');
  b.plane.send(VNI, a.vtep, datagram(VNI, 4), 64);
  is(b.plane.stats().drops['no-peer'], 1, 'and nothing goes to it');
  equal(b.seqs(VNI, a.vtep), [1]);
  equal(b.seqs(VNI2, a.vtep), [1]);
  c.plane.send(VNI, b.vtep, datagram(VNI, 5), 64);
  w.pump();
  equal(b.seqs(VNI, c.vtep), [1, 5], 'the others are untouched');
  ok(balanced(b.plane.stats()));
  w.close();
});

t('PeerIdentity.vnis limits the networks a peer may hold sessions on', () => {
  const w = new Wire();
  const a = w.add('a', '10.0.0.1');
  const b = w.add('b', '10.0.0.2');
  w.mesh();
  w.mesh(undefined, VNI2);
  a.plane.send(VNI2, b.vtep, datagram(VNI2, 1), 64);
  w.pump();
  equal(b.seqs(VNI2), [1]);
  b.plane.setPeers([a.identity([VNI])]);
  equal(b.plane.status(VNI2), [], 'the session on 4098 is torn down');
  b.plane.send(VNI2, a.vtep, datagram(VNI2, 2), 64);
  is(b.plane.stats().drops['not-member'], 1);
  a.plane.send(VNI2, b.vtep, datagram(VNI2, 3), 64);
  w.run(20_000, 100); // a hears nothing back for 15 s: it starts a handshake
  ok(b.plane.stats().drops['not-member'] >= 2, 'its initiations on 4098 are refused');
  a.plane.send(VNI, b.vtep, datagram(VNI, 4), 64);
  w.pump();
  equal(b.seqs(VNI), [4], '4097 still works');
  w.close();
});

t('send drops: no key, no peer, not a VXLAN datagram of that network, bad lengths; after close everything is closed', () => {
  const { w, a, b } = pair();
  a.plane.send(VNI2, b.vtep, datagram(VNI2, 1), 64);
  is(a.plane.stats().drops['no-key'], 1);
  a.plane.send(VNI, '10.0.0.9', datagram(VNI, 1), 64);
  is(a.plane.stats().drops['no-peer'], 1);
  a.plane.send(VNI, b.vtep, datagram(VNI2, 1), 64);
  is(a.plane.stats().drops['wrong-vni'], 1);
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 7);
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 65);
  a.plane.send(VNI, b.vtep, new Uint8Array(70_000), 70_000);
  is(a.plane.stats().drops.malformed, 3);
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 64);
  ok(w.clock.pending() > 0, 'a retry timer');
  w.close();
  is(w.clock.pending(), 0, 'close cancels every timer');
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 64);
  a.plane.receive(b.vtep, w.queue[0]!.bytes, w.queue[0]!.bytes.length);
  is(a.plane.stats().drops.closed, 3, 'the queued datagram, a send, a receive');
  a.plane.close();
  throws(() => a.plane.setPeers([]), /setPeers: the secure plane is closed/);
  ok(balanced(a.plane.stats()));
});

t('control-path validation with exact messages', () => {
  const { w, a, b } = pair();
  const p = a.plane;
  throws(() => p.setPeers([{ nodeId: '', publicKey: b.key.publicKey, vtep: b.vtep }]), /setPeers: peers\[0\]\.nodeId must be a non-empty string, got ""/);
  throws(() => p.setPeers([{ nodeId: 'b', publicKey: new Uint8Array(31), vtep: b.vtep }]), /setPeers: peers\[0\]\.publicKey must be 32 bytes/);
  throws(() => p.setPeers([{ nodeId: 'b', publicKey: b.key.publicKey, vtep: '10.0.0.02' }]), /setPeers: peers\[0\]\.vtep must be a dotted IPv4 address, got "10.0.0.02"/);
  throws(() => p.setPeers([b.identity(), { ...b.identity(), nodeId: 'x', publicKey: generateKeypair(w.rand).publicKey }]), /setPeers: peers\[1\]\.vtep 10.0.0.2 appears more than once/);
  throws(() => p.setPeers([b.identity(), { ...b.identity(), vtep: '10.0.0.5' }]), /setPeers: peers\[1\]\.publicKey appears more than once/);
  throws(() => p.setPeers([{ ...b.identity(), vnis: [VXLAN_VNI_MAX + 1] }]), /setPeers: peers\[0\]\.vnis: vni must be an integer in 0..16777215, got 16777216/);
  throws(() => p.setPeers([{ nodeId: 'z', publicKey: new Uint8Array(32), vtep: '10.0.0.7' }]), /setPeers: the publicKey of z \(10.0.0.7\) is a low-order X25519 point/);
  p.setPeers([a.identity(), b.identity()]); // ourselves: skipped
  throws(() => p.setNetworkKeys(VNI, [{ generation: -1, key: dataKey(1) }]), /setNetworkKeys: keys\[0\]\.generation must be an integer in 0..2\^32-1, got -1/);
  throws(() => p.setNetworkKeys(VNI, [{ generation: 1, key: dataKey(1) }, { generation: 1, key: dataKey(2) }]), /setNetworkKeys: generation 1 appears more than once/);
  throws(() => p.setNetworkKeys(VNI, [{ generation: 1, key: new Uint8Array(16) }]), /setNetworkKeys: keys\[0\]\.key must be 32 bytes/);
  throws(() => p.setNetworkKeys(-1, []), /setNetworkKeys: vni must be an integer in 0..16777215, got -1/);
  throws(() => p.status(1 << 24), /status: vni must be an integer/);
  const key = { privateKey: new Uint8Array(32).fill(1), publicKey: new Uint8Array(32) };
  throws(() => new (p.constructor as never as new (o: unknown) => unknown)({ staticKey: key, clock: w.clock, rand: w.rand, out: { send() {}, deliver() {} } }), /SecurePlane: staticKey.publicKey is not the public key of staticKey.privateKey/);
  throws(() => new (p.constructor as never as new (o: unknown) => unknown)({ staticKey: a.key, clock: w.clock, rand: w.rand, out: {} }), /SecurePlane: out must have send and deliver functions/);
  const caller = dataKey(3);
  p.setNetworkKeys(VNI, [{ generation: 3, key: caller }]);
  p.setNetworkKeys(VNI, []);
  equal(caller, dataKey(3), "the caller's key bytes are copied, never zeroed");
  w.close();
});

t.run();
