// The host-facing surface of SwimNode: validation at the boundary with exact
// messages (STYLE habit 9), bad packets dropped and counted (habit 8), the
// sans-IO timer contract, piggyback budgets and broadcast retransmit limits.
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { SwimNode, encodedSize, lanConfig, pushPullIntervalFor, retransmitLimit, testConfig, validateSwimConfig } from '../../../../agent/gossip/swim/index.js';
import { encodePacket } from '../../../../agent/gossip/swim/packet-wire.js';
import { seededRand } from '../../../../shared/rand.js';
import { cluster, parts, type Wire } from './swim-net.js';

const t = suite('swim node api');
const mk = (over: Partial<ConstructorParameters<typeof SwimNode>[0]> = {}) =>
  new SwimNode({ id: 'n1', addr: '10.0.0.1:7946', config: lanConfig(), rand: seededRand(1), ...over });

t('constructor and join validate their arguments with exact messages', () => {
  throws(() => mk({ id: '' }), /SwimNode: id must be 1..32 bytes of UTF-8, got ""/);
  throws(() => mk({ id: 'x'.repeat(33) }), /SwimNode: id must be 1..32 bytes of UTF-8/);
  throws(() => mk({ addr: '10.0.0.1' }), /SwimNode: addr must be host:port, got "10.0.0.1"/);
  throws(() => mk({ config: { ...lanConfig(), probeTimeoutMs: 1_000 } }), /SwimConfig.probeTimeoutMs: expected less than probeIntervalMs \(1000\), got 1000/);
  throws(() => mk().join(['nowhere'], 0), /SwimNode.join: seed addresses must be host:port, got "nowhere"/);
  const n = mk();
  n.leave(0);
  throws(() => n.join([], 1), /SwimNode.join: this node has left; make a new SwimNode to come back/);
});

t('config validation names the first bad field', () => {
  throws(() => validateSwimConfig({ ...lanConfig(), gossipIntervalMs: 0 }), /SwimConfig.gossipIntervalMs: expected an integer >= 1, got 0/);
  throws(() => validateSwimConfig({ ...lanConfig(), udpPacketBytes: 100 }), /SwimConfig.udpPacketBytes: expected an integer >= 548, got 100/);
  throws(() => validateSwimConfig({ ...lanConfig(), hostOverheadBytes: 1_000 }), /SwimConfig.hostOverheadBytes: expected to leave at least 512 of udpPacketBytes \(1400\), got 1000/);
  validateSwimConfig(lanConfig());
  validateSwimConfig(testConfig());
});

t('presets: memberlist DefaultLANConfig numbers; testConfig ten times faster', () => {
  const l = lanConfig();
  equal(
    [l.probeIntervalMs, l.probeTimeoutMs, l.indirectChecks, l.suspicionMult, l.suspicionMaxTimeoutMult, l.awarenessMaxMultiplier, l.retransmitMult, l.gossipIntervalMs, l.gossipNodes, l.pushPullIntervalMs, l.udpPacketBytes, l.gossipToTheDeadMs],
    [1_000, 500, 3, 4, 6, 8, 4, 200, 3, 30_000, 1_400, 30_000],
  );
  const tc = testConfig();
  equal([tc.probeIntervalMs, tc.probeTimeoutMs, tc.gossipIntervalMs, tc.pushPullIntervalMs], [100, 50, 20, 3_000]);
});

t('sans-IO timers: nothing is due before join; after join every timer is within its first period', () => {
  const n = mk();
  is(n.nextDueMs(), Infinity);
  n.tick(5_000);
  equal(n.drain(), { packets: [], pushPulls: [], events: [], userMessages: [] });
  n.join([], 1_000);
  const due = n.nextDueMs();
  ok(due >= 1_000 && due < 1_200, `first due ${due}`);
  // Ticking early does nothing harmful and nothing at all.
  n.tick(due - 1);
  is(n.nextDueMs(), due);
});

t('push-pull period grows beyond 32 members (memberlist pushPullScale)', () => {
  equal([1, 32, 33, 64, 65, 1_000].map((n) => pushPullIntervalFor(30_000, n)), [30_000, 30_000, 60_000, 60_000, 90_000, 180_000]);
});

t('malformed datagrams are dropped and counted, never thrown (20,000 seeded inputs)', () => {
  const net = cluster(['a', 'b']);
  const b = net.node('b');
  const r = seededRand(77);
  const good = encodePacket({ type: 'compound', parts: [{ type: 'ping', seq: 3, target: 'b' }, { type: 'alive', incarnation: 1, node: 'q', addr: '10.9.9.9:7946' }] });
  let malformed = 0;
  for (let i = 0; i < 20_000; i++) {
    const buf = r.int(2) === 0 ? r.bytes(r.int(60)) : Uint8Array.from(good).map((x) => (r.int(8) === 0 ? r.int(256) : x));
    const before = b.stats().malformed;
    b.receivePacket('10.0.0.66:7946', buf, i);
    malformed += b.stats().malformed - before;
  }
  ok(malformed > 10_000, `only ${malformed} counted malformed`);
  is(b.stats().malformed, malformed);
  // A nested compound handed over as an object is refused part by part the same way.
  b.receivePacket('10.0.0.66:7946', { type: 'compound', parts: [{ type: 'compound', parts: [] } as never] }, 0);
  is(b.stats().malformed, malformed + 1);
});

t('broadcast: sent exactly retransmitMult·ceil(log10(N + 1)) times (11 members: 8), then never again', () => {
  const names = 'abcdefghijk'.split('');
  const net = cluster(names);
  const a = net.node('a');
  is(retransmitLimit(4, 11), 8);
  const payload = Uint8Array.from([0xca, 0xfe]);
  a.broadcast(payload);
  let sends = 0;
  const count = (w: Wire) => {
    if (w.from === a.addr) sends += parts(w).filter((m) => m.type === 'user' && m.payload[0] === 0xca).length;
    return true;
  };
  net.run(20_000, { tick: ['a'], keep: count });
  is(sends, 8);
  is(a.queuedBroadcasts, 0);
});

t('broadcast: a key replaces the queued payload with the same key; too large a payload is refused', () => {
  const net = cluster(['a', 'b']);
  const a = net.node('a');
  a.broadcast(Uint8Array.from([1]), 'peer/10.0.0.5');
  const queued = a.queuedBroadcasts;
  a.broadcast(Uint8Array.from([2]), 'peer/10.0.0.5');
  is(a.queuedBroadcasts, queued);
  const got: number[] = [];
  net.run(3_000, { tick: ['a'], keep: (w) => (parts(w).forEach((m) => m.type === 'user' && got.push(m.payload[0]!)), true) });
  ok(got.length > 0 && got.every((x) => x === 2), `sent ${got}`);
  // 1400 - 33 (sealing) - 2 (compound header) - 2 (part length) - 1 (type) = 1362 bytes of payload at most.
  a.broadcast(new Uint8Array(1_362));
  throws(() => a.broadcast(new Uint8Array(1_363)), /SwimNode.broadcast: payload must be at most 1362 bytes, got 1363/);
  throws(() => a.broadcast(new Uint8Array(0)), /SwimNode.broadcast: payload must be a non-empty Uint8Array/);
});

t('every datagram fits udpPacketBytes - hostOverheadBytes, however full the queue', () => {
  const net = cluster(['a', 'b', 'c', 'd']);
  const a = net.node('a');
  const r = seededRand(3);
  for (let i = 0; i < 500; i++) a.broadcast(r.bytes(1 + r.int(300)));
  const budget = lanConfig().udpPacketBytes - lanConfig().hostOverheadBytes;
  let n = 0;
  let full = 0;
  net.run(5_000, {
    keep: (w) => {
      const size = encodedSize(w.msg);
      ok(size <= budget, `${size} > ${budget}`);
      is(encodePacket(w.msg).length, size);
      n++;
      if (size > budget - 300) full++;
      return true;
    },
  });
  ok(n > 50 && full > 10, `${n} datagrams, ${full} nearly full`);
});

t.run();
