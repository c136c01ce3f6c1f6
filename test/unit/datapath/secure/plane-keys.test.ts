// Data key rotation (DESIGN §4 "a data key rotation only changes the PSK of
// the next handshake: traffic never stops"; secure-plane.ts header): the
// managers' keep-last-3 rotation under a continuous stream without a single
// lost datagram, a node that learns the new key late, a node cut off by a
// removed key, and a network without keys.
import { suite, equal, is, ok } from '../../../harness.js';
import { Wire, VNI, balanced, dataKey, datagram, dropTotal, type Node } from './fixture.js';

const t = suite('secure plane data keys');

const g = (n: number): { generation: number; key: Uint8Array } => ({ generation: n, key: dataKey(n) });
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

function trio() {
  const w = new Wire();
  const a = w.add('a', '10.0.0.1');
  const b = w.add('b', '10.0.0.2');
  const c = w.add('c', '10.0.0.3');
  w.mesh([g(1)]);
  return { w, a, b, c, all: [a, b, c] };
}

/** Every node sends every other one datagram per everyMs, seq from `from`; events[atMs] run once the clock passes atMs. */
function stream(w: Wire, nodes: Node[], everyMs: number, untilMs: number, from: number, events: [number, () => void][] = []): number {
  let seq = from;
  const todo = [...events].sort((x, y) => x[0] - y[0]);
  while (w.clock.nowMs() < untilMs) {
    while (todo.length > 0 && todo[0]![0] <= w.clock.nowMs()) todo.shift()![1]();
    for (const s of nodes) for (const d of nodes) if (s !== d) s.plane.send(VNI, d.vtep, datagram(VNI, seq), 64);
    seq++;
    w.run(everyMs, 10);
  }
  return seq;
}

t('keep-last-3 rotation under a continuous stream: every session moves to the newest key, nothing is dropped', () => {
  const { w, all } = trio();
  const [a, b, c] = all as [Node, Node, Node];
  const setAll = (keys: { generation: number; key: Uint8Array }[]) => () => all.forEach((n) => n.plane.setNetworkKeys(VNI, keys));
  const n = stream(w, all, 100, 1_200_000, 0, [
    [200_000, setAll([g(1), g(2)])],
    [400_000, setAll([g(1), g(2), g(3)])],
    [600_000, setAll([g(2), g(3), g(4)])], // g1 goes: nobody has used it for 200 s
    [800_000, setAll([g(3), g(4), g(5)])],
  ]);
  for (const d of all) for (const s of all) if (s !== d) equal(d.seqs(VNI, s.vtep), range(0, n), `${s.name} -> ${d.name}`);
  for (const node of all) {
    const st = node.plane.stats();
    is(dropTotal(st.drops), 0, `${node.name}: no drop of any kind`);
    ok(balanced(st));
    for (const p of node.plane.status(VNI)) is(p.generation, 5, `${node.name} -> ${p.nodeId} runs on the newest key`);
  }
  ok(a.plane.stats().handshakesCompleted >= 10 && b.plane.stats().handshakesCompleted >= 10 && c.plane.stats().handshakesCompleted >= 10);
  w.close();
});

t('a new generation is used from the next rekey, not at once', () => {
  const { w, a, b } = trio();
  const n1 = stream(w, [a, b], 100, 10_000, 0);
  a.plane.setNetworkKeys(VNI, [g(1), g(2)]);
  b.plane.setNetworkKeys(VNI, [g(1), g(2)]);
  is(a.plane.status(VNI)[0]!.generation, 1);
  const n2 = stream(w, [a, b], 100, 119_000, n1);
  is(a.plane.status(VNI)[0]!.generation, 1, 'until the keypair is 120 s old');
  stream(w, [a, b], 100, 125_000, n2);
  is(a.plane.status(VNI)[0]!.generation, 2);
  is(dropTotal(a.plane.stats().drops) + dropTotal(b.plane.stats().drops), 0);
  w.close();
});

t('a peer one rotation behind: the first attempt with the newest key is unanswered, the retry with the older one succeeds; no datagram lost', () => {
  const { w, a, b } = trio();
  a.plane.setNetworkKeys(VNI, [g(1), g(2)]);
  const n = stream(w, [a, b], 100, 300_000, 0, [[200_000, () => b.plane.setNetworkKeys(VNI, [g(1), g(2)])]]);
  equal(b.seqs(VNI, a.vtep), range(0, n));
  equal(a.seqs(VNI, b.vtep), range(0, n));
  ok(b.plane.stats().drops['unknown-key'] >= 1, "b lacked a's newest key");
  is(b.plane.stats().drops['unknown-key'], dropTotal(b.plane.stats().drops));
  is(dropTotal(a.plane.stats().drops), 0);
  is(a.plane.status(VNI)[0]!.generation, 2, 'on the newest once b has it');
  w.close();
});

t('a removed generation cuts its sessions at once; the node that lost the key is cut off until it gets the new one', () => {
  const { w, a, b, c } = trio();
  const n = stream(w, [a, b, c], 100, 5_000, 0);
  // The managers rotate and, say, a's key set is not updated (a left the network).
  b.plane.setNetworkKeys(VNI, [g(2)]);
  c.plane.setNetworkKeys(VNI, [g(2)]);
  equal(b.plane.status(VNI).map((s) => s.generation), [undefined, undefined], 'torn down at once: no current keys');
  stream(w, [a, b, c], 100, 60_000, n);
  const got = b.seqs(VNI, a.vtep);
  is(got.at(-1), n - 1, 'nothing from a after the removal');
  ok(b.plane.stats().drops['unknown-index'] > 0, "a's datagrams under the removed keys");
  ok(b.plane.stats().drops['unknown-key'] > 0, "a's handshakes with generation 1");
  const fromC = b.seqs(VNI, c.vtep);
  ok(fromC.length > 500, 'b and c rekeyed with generation 2 and go on');
  a.plane.setNetworkKeys(VNI, [g(2)]);
  const m = stream(w, [a, b], 100, 80_000, 100_000);
  ok(b.seqs(VNI, a.vtep).includes(m - 1), 'a is back once it holds generation 2');
  w.close();
});

t('no key for the network: sessions torn down, queued and new datagrams dropped as no-key, status no-key; keys back, traffic back', () => {
  const { w, a, b } = trio();
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 64);
  w.pump();
  w.filter = () => 'drop';
  b.plane.send(VNI, a.vtep, datagram(VNI, 2), 64); // sealed, lost
  a.plane.setNetworkKeys(VNI, [g(9)]); // generation 1 gone
  a.plane.send(VNI, b.vtep, datagram(VNI, 3), 64); // queued behind a handshake with 9
  is(a.plane.stats().queued, 1);
  a.plane.setNetworkKeys(VNI, []);
  is(a.plane.stats().drops['no-key'], 1, 'the queued one');
  a.plane.send(VNI, b.vtep, datagram(VNI, 4), 64);
  is(a.plane.stats().drops['no-key'], 2);
  const st = a.plane.status(VNI);
  equal(st.map((s) => s.state), ['no-key']);
  is(a.statuses.at(-1)!.s.state, 'no-key');
  w.filter = () => 'pass';
  a.plane.setNetworkKeys(VNI, [g(1)]);
  a.plane.send(VNI, b.vtep, datagram(VNI, 5), 64);
  w.run(100, 10);
  equal(b.seqs(), [1, 5]);
  ok(balanced(a.plane.stats()));
  w.close();
});

t('removeNetwork: sessions gone, timers cancelled, later traffic of that network dropped', () => {
  const { w, a, b } = trio();
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 64);
  w.pump();
  a.plane.removeNetwork(VNI);
  b.plane.removeNetwork(VNI);
  equal(a.plane.status(VNI), []);
  a.plane.send(VNI, b.vtep, datagram(VNI, 2), 64);
  is(a.plane.stats().drops['no-key'], 1);
  w.run(600_000, 10_000);
  is(w.clock.pending(), 0);
  w.close();
});

t.run();
