// The gossip host (agent/gossip/gossip-node.ts) on MemNet under a
// ManualClock: nodes join through a seed and see each other, a NetworkDB
// entry crosses to a member, keys rotate without a break, and packets under
// a key nobody gave us are dropped and counted, never thrown.
import { suite, is, ok, equal } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import { seededRand, type Rand } from '../../../shared/rand.js';
import { MemNet } from '../../../shared/transport/memnet.js';
import { createLogger } from '../../../agent/daemon/log.js';
import { GossipNode } from '../../../agent/gossip/gossip-node.js';
import type { GossipKey } from '../../../agent/gossip/keyring.js';
import { testConfig as swimTest } from '../../../agent/gossip/swim/index.js';
import { testConfig as dbTest } from '../../../agent/gossip/networkdb/index.js';

const t = suite('gossip node');
const quiet = createLogger({ level: 'error', format: 'text', write: () => {}, nowIso: () => '' });

function key(generation: number, fill: number): GossipKey {
  return { generation, key: new Uint8Array(32).fill(fill) };
}

class World {
  readonly clock = new ManualClock();
  readonly rand: Rand;
  readonly net: MemNet;
  readonly nodes: GossipNode[] = [];
  /** The network's stream events (accept, fin, reset), in order. */
  readonly streamEvents: string[] = [];

  constructor(seed: number) {
    this.rand = seededRand(seed);
    const trace = (line: string) => void (/^t=\S+ (accept|fin|reset) /.test(line) && this.streamEvents.push(line.replace(/^t=\S+ /, '')));
    this.net = new MemNet({ clock: this.clock, rand: this.rand.fork(), latencyMs: 1, trace });
  }

  async add(i: number, keys: GossipKey[], seeds: string[]): Promise<GossipNode> {
    const ip = `10.0.0.${i + 1}`;
    const g = await this.settle(
      GossipNode.start(
        {
          nodeId: `node-${i}`,
          advertiseHost: ip,
          bindHost: ip,
          udp: this.net.datagram(ip),
          tcp: this.net.stream(ip),
          clock: this.clock,
          rand: this.rand.fork(),
          keys,
          swim: swimTest(),
          networkDb: dbTest(),
          log: quiet,
        },
        seeds,
      ),
    );
    this.nodes.push(g);
    return g;
  }

  async run(ms: number): Promise<void> {
    const end = this.clock.nowMs() + ms;
    while (this.clock.nextDueMs() !== undefined && this.clock.nextDueMs()! <= end) {
      this.clock.runNext();
      await new Promise<void>((r) => setImmediate(r));
    }
    this.clock.advanceTo(end);
  }

  async settle<T>(p: Promise<T>): Promise<T> {
    let done = false;
    p.then(() => (done = true), () => (done = true));
    for (let i = 0; !done && i < 10_000; i++) {
      if (this.clock.nextDueMs() !== undefined) this.clock.runNext();
      await new Promise<void>((r) => setImmediate(r));
    }
    return p;
  }

  async close(): Promise<void> {
    await this.settle(Promise.all(this.nodes.map((n) => n.close(200))));
  }
}

function alive(g: GossipNode): number {
  return g.members().filter((m) => m.state === 'alive').length;
}

t('three nodes join through one seed, see each other alive, and a NetworkDB entry reaches the other member', async () => {
  const w = new World(1);
  const ring = [key(1, 7)];
  const a = await w.add(0, ring, []);
  const b = await w.add(1, ring, [a.addr]);
  const c = await w.add(2, ring, [a.addr]);
  await w.run(5_000);
  equal([a, b, c].map(alive), [3, 3, 3]);
  // The joins' push-pulls closed with FINs both ways, never a reset.
  const accepts = w.streamEvents.filter((l) => l.startsWith('accept')).length;
  ok(accepts >= 2, `push-pulls on streams: ${accepts}`);
  equal(w.streamEvents.filter((l) => l.startsWith('reset')), []);
  is(w.streamEvents.filter((l) => l.startsWith('fin')).length, 2 * accepts);
  a.attach('net1', 'ep-a');
  c.attach('net1', 'ep-c');
  await w.run(2_000);
  a.put('net1', 'peers', '10.0.1.2', new TextEncoder().encode('vtep 10.0.0.1'));
  await w.run(2_000);
  equal(c.entries('net1', 'peers').map((e) => [e.key, new TextDecoder().decode(e.value), e.owner]), [['10.0.1.2', 'vtep 10.0.0.1', 'node-0']]);
  // b is not in net1: it never holds the entry.
  equal(b.db.entries('net1', 'peers'), []);
  is(a.ring.drops.unknownKey + b.ring.drops.unknownKey + c.ring.drops.unknownKey, 0);
  await w.close();
});

t('rotation: [g1] -> [g1,g2] -> [g1,g2,g3] -> [g2,g3,g4], one node a step behind each time, and nobody is declared dead', async () => {
  const w = new World(2);
  const g = [key(1, 1), key(2, 2), key(3, 3), key(4, 4)];
  const a = await w.add(0, [g[0]!], []);
  const b = await w.add(1, [g[0]!], [a.addr]);
  const c = await w.add(2, [g[0]!], [a.addr]);
  await w.run(3_000);
  const rings = [[g[0]!, g[1]!], [g[0]!, g[1]!, g[2]!], [g[1]!, g[2]!, g[3]!]];
  for (const ring of rings) {
    a.setKeys(ring);
    b.setKeys(ring);
    await w.run(1_000);
    c.setKeys(ring); // c catches up a second later
    await w.run(2_000);
    equal([a, b, c].map(alive), [3, 3, 3], `after ring ${ring.map((k) => k.generation).join(',')}`);
  }
  is(a.ring.drops.unknownKey + b.ring.drops.unknownKey + c.ring.drops.unknownKey, 0);
  await w.close();
});

t('a node under a foreign key is not let in: its packets are dropped and counted, nobody sees it', async () => {
  const w = new World(3);
  const a = await w.add(0, [key(1, 9)], []);
  const b = await w.add(1, [key(1, 9)], [a.addr]);
  const x = await w.add(2, [key(1, 66)], [a.addr]);
  await w.run(5_000);
  equal([alive(a), alive(b)], [2, 2]);
  ok(!a.members().some((m) => m.id === 'node-2'), 'the outsider is not a member');
  ok(a.ring.drops.badTag > 0, `drops counted: ${JSON.stringify(a.ring.drops)}`);
  is(alive(x), 1);
  await w.close();
});

t.run();
