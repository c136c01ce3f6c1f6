// The encrypted overlays' control plane end to end inside one process
// (issue 7): a real Manager (Raft on a MemDisk, its 2377 listener, the
// dispatcher, the key rotator) and real worker Sessions over a MemNet, under
// a ManualClock and a seeded Rand. What the workers receive: the data keys of
// the encrypted networks they have endpoints on and the peers they share one
// with, pushed on every change; what they report with their heartbeats shows
// in node inspect and network inspect.
import { suite, is, ok, equal } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import { seededRand, type Rand } from '../../../shared/rand.js';
import { MemNet } from '../../../shared/transport/memnet.js';
import type { DatapathReport } from '../../../agent/api/types.js';
import { CertificateAuthority } from '../../../agent/cluster/ca/ca.js';
import { generateNodeKey, type NodeKey } from '../../../agent/cluster/ca/node-key.js';
import { testRaftConfig } from '../../../agent/cluster/raft/index.js';
import { MemDisk } from '../../../agent/cluster/wal/mem-disk.js';
import type { Logger } from '../../../agent/daemon/log.js';
import type { LocalSwarmState } from '../../../agent/swarm/local-state.js';
import { Manager, type Assignment } from '../../../agent/swarm/manager.js';
import { Session } from '../../../agent/swarm/session.js';

const t = suite('swarm/manager-data');
const SEED = Number(process.env.TEST_SEED ?? 0x7e57);
const seedNote = `(seed ${SEED}; TEST_SEED=${SEED} to replay)`;
const M_IP = '10.0.0.1';
const HEARTBEAT_MS = 1_000;
const ROTATION_MS = 5_000;

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, with: () => quiet };

interface Worker {
  name: string;
  key: NodeKey;
  ip: string;
  session: Session;
  assignments: Assignment[];
  report: DatapathReport | undefined;
  removed: string | undefined;
  readonly last: Assignment | undefined;
}

class World {
  readonly clock = new ManualClock();
  readonly rand: Rand = seededRand(SEED);
  readonly net = new MemNet({ clock: this.clock, rand: this.rand.fork(), latencyMs: 1 });
  readonly ca = CertificateAuthority.create(this.rand.fork(), this.clock);
  readonly mkey = generateNodeKey(this.rand);
  manager!: Manager;
  readonly workers: Worker[] = [];
  #mstate!: LocalSwarmState;

  async pump(): Promise<void> {
    this.clock.runNext();
    await new Promise<void>((r) => setImmediate(r));
  }

  async until(cond: () => boolean, what: string, maxSteps = 200_000): Promise<void> {
    for (let i = 0; !cond(); i++) {
      if (i >= maxSteps) throw new Error(`gave up after ${maxSteps} steps waiting for ${what} ${seedNote}`);
      await this.pump();
    }
  }

  async settle<T>(p: Promise<T>, what = 'a call'): Promise<T> {
    let done = false;
    p.then(() => (done = true), () => (done = true));
    await this.until(() => done, what);
    return p;
  }

  /** Run the world for ms of clock time. */
  async run(ms: number): Promise<void> {
    const end = this.clock.nowMs() + ms;
    while ((this.clock.nextDueMs() ?? Infinity) <= end) await this.pump();
    this.clock.advanceTo(end);
  }

  async start(): Promise<void> {
    const cert = this.ca.issue({ nodeId: this.mkey.nodeId, role: 'manager', publicKey: this.mkey.publicKey });
    this.#mstate = {
      clusterId: this.ca.id, nodeId: this.mkey.nodeId, role: 'manager', root: this.ca.root.bytes, cert: cert.bytes,
      listenAddr: `${M_IP}:2377`, advertiseAddr: `${M_IP}:2377`, dataAddr: '', dataPathPort: 4789, managers: [{ id: this.mkey.nodeId, addr: `${M_IP}:2377` }],
    };
    this.manager = await this.settle(
      Manager.start({
        key: this.mkey, clock: this.clock, rand: this.rand.fork(), disk: new MemDisk(), raftDir: '/raft', transport: this.net.stream(M_IP),
        raftConfig: testRaftConfig(), state: () => this.#mstate, listen: { host: M_IP, port: 2377 }, bootstrap: true, log: quiet, requestTimeoutMs: 2_000,
      }),
      'the manager to start',
    );
    await this.settle(this.manager.whenLeader(5_000), 'leadership');
    await this.settle(
      this.manager.ops.bootstrap({
        nodeId: this.mkey.nodeId, publicKey: this.mkey.publicKey, hostname: 'm0', addr: `${M_IP}:2377`, dataAddr: '', engineVersion: 'test',
        ca: this.ca, cert: cert.bytes, defaultAddrPool: ['10.10.0.0/16'], subnetSize: 24, dataPathPort: 4789, heartbeatMs: HEARTBEAT_MS,
        certExpiryMs: 90 * 24 * 3_600_000, keyRotationMs: 12 * 3_600_000,
      }),
      'bootstrap',
    );
  }

  /** Admit a worker (as the join op does) and open its dispatcher session. */
  async worker(name: string, ip: string): Promise<Worker> {
    const key = generateNodeKey(this.rand);
    const a = await this.settle(
      this.manager.ops.join({ nodeId: key.nodeId, publicKey: key.publicKey, role: 'worker', hostname: name, addr: `${ip}:2377`, dataAddr: ip, engineVersion: 'test' }),
      `${name} to join`,
    );
    const st: LocalSwarmState = {
      clusterId: a.clusterId, nodeId: key.nodeId, role: 'worker', root: a.root, cert: a.cert, listenAddr: `${ip}:2377`, advertiseAddr: `${ip}:2377`,
      dataAddr: ip, dataPathPort: 4789, managers: a.managers,
    };
    const w = {
      name, key, ip, assignments: [] as Assignment[], report: undefined as DatapathReport | undefined, removed: undefined as string | undefined,
      get last() {
        return this.assignments.at(-1);
      },
    } as Omit<Worker, 'session'> & { session?: Session };
    w.session = new Session({
      key, clock: this.clock, rand: this.rand.fork(), transport: this.net.stream(ip), state: () => st,
      onAssignment: (x) => void w.assignments.push(x),
      onCertificate: () => {},
      onRemoved: (m) => (w.removed = m),
      datapathStatus: () => w.report,
      log: quiet,
    });
    w.session.start();
    const worker = w as Worker;
    this.workers.push(worker);
    await this.until(() => w.assignments.length > 0, `${name}'s first assignment`);
    return worker;
  }

  async attach(w: Worker, taskId: string, network: string): Promise<string> {
    const r = await this.settle(w.session.call<{ Address: string }>('attach', { taskId, name: '', network }), `${w.name} to attach`);
    return r.Address;
  }

  async close(): Promise<void> {
    await this.settle(Promise.all(this.workers.map((w) => w.session.close())), 'sessions to close');
    await this.settle(this.manager.close(), 'the manager to close');
  }
}

const keyGens = (a: Assignment | undefined): number[][] => (a?.dataKeys ?? []).map((d) => d.keys.map((k) => k.generation));
const peerIds = (a: Assignment | undefined): string[] => (a?.peers ?? []).map((p) => p.nodeId);

t('keys and peers reach exactly the nodes with endpoints on the encrypted network, and follow every change', async () => {
  const w = new World();
  try {
    await w.start();
    const w1 = await w.worker('w1', '10.0.0.11');
    const w2 = await w.worker('w2', '10.0.0.12');
    const w3 = await w.worker('w3', '10.0.0.13');
    equal(w1.last!.dataKeys, []);
    equal(w1.last!.peers, []);

    const sec = (await w.settle(w.manager.ops.networks.create({ Name: 'sec', Attachable: true, Options: { encrypted: '' } }))).Id;
    const plain = (await w.settle(w.manager.ops.networks.create({ Name: 'plain', Attachable: true }))).Id;
    const vni = w.manager.store.get('network', sec)!.vni!;

    await w.attach(w1, 'task1aaaaaaaaaaaa', 'sec');
    await w.until(() => keyGens(w1.last).length === 1, 'w1 to get the key');
    equal(w1.last!.dataKeys.map((d) => [d.networkId, d.vni]), [[sec, vni]]);
    equal(keyGens(w1.last), [[1]]);
    equal(w1.last!.peers, [], 'alone on sec');
    const k1 = w1.last!.dataKeys[0]!.keys[0]!.key;
    is(k1.length, 32);

    await w.attach(w2, 'task2bbbbbbbbbbbb', 'sec');
    await w.attach(w3, 'task3cccccccccccc', 'plain');
    await w.until(() => peerIds(w1.last).length === 1 && keyGens(w2.last).length === 1, 'w1 and w2 to see each other');
    equal(w1.last!.peers, [{ nodeId: w2.key.nodeId, publicKey: w2.key.publicKey, vtep: '10.0.0.12', networks: [sec] }]);
    equal(peerIds(w2.last), [w1.key.nodeId]);
    equal(w3.last!.dataKeys, [], 'w3 is only on the plain network');
    equal(w3.last!.peers, []);

    // Rotation every 5 s from now on: the next generation within 5 s + one check, to both nodes on sec.
    const sw = await w.settle(w.manager.ops.swarmInspect());
    await w.settle(w.manager.ops.swarmUpdate({ version: sw.Version.Index, keyRotationMs: ROTATION_MS }));
    await w.run(ROTATION_MS + 1_000);
    equal(keyGens(w1.last), [[1, 2]], seedNote);
    equal(keyGens(w2.last), [[1, 2]]);
    await w.run(3 * ROTATION_MS);
    equal(keyGens(w1.last), [[3, 4, 5]], 'the newest three');
    equal(w3.last!.dataKeys, []);

    // w2's endpoint goes: it loses the key and w1 loses the peer, at once.
    await w.settle(w2.session.call('detach', { taskId: 'task2bbbbbbbbbbbb' }));
    await w.until(() => keyGens(w2.last).length === 0 && peerIds(w1.last).length === 0, 'w2 to lose the key');

    // Back on, then removed from the swarm: gone from w1's peers, and its session ends.
    await w.attach(w2, 'task2bbbbbbbbbbbb', 'sec');
    await w.until(() => peerIds(w1.last).length === 1, 'w2 back');
    await w.settle(w.manager.ops.nodeRemove(w2.key.nodeId, true));
    await w.until(() => peerIds(w1.last).length === 0 && w2.removed !== undefined, 'w2 removed');
    ok(w1.assignments.length > 5);
  } finally {
    await w.close();
  }
});

t('heartbeats carry the data path report: node inspect DataPath and network inspect Peers show it', async () => {
  const w = new World();
  try {
    await w.start();
    const w1 = await w.worker('w1', '10.0.0.11');
    const w2 = await w.worker('w2', '10.0.0.12');
    const sec = (await w.settle(w.manager.ops.networks.create({ Name: 'sec', Attachable: true, Options: { encrypted: '' } }))).Id;
    await w.attach(w1, 'task1aaaaaaaaaaaa', 'sec');
    await w.attach(w2, 'task2bbbbbbbbbbbb', 'sec');

    // Nothing reported yet: both rows unknown, no DataPath.
    let peers = (await w.settle(w.manager.ops.networks.inspect('sec'))).Peers!;
    equal(peers.map((p) => [p.Hostname, p.State]), [['w1', 'unknown'], ['w2', 'unknown']]);
    ok(!('DataPath' in (await w.settle(w.manager.ops.nodeInspect('w1')))));

    const hs = w.clock.wallMs();
    w1.report = { networks: [{ networkId: sec, peers: [{ nodeId: w2.key.nodeId, state: 'up', reason: '', lastHandshakeWallMs: hs, txBytes: 10, rxBytes: 20 }] }] };
    w2.report = { networks: [{ networkId: sec, peers: [{ nodeId: w1.key.nodeId, state: 'failed', reason: 'handshake timed out', lastHandshakeWallMs: null, txBytes: 0, rxBytes: 0 }] }] };
    await w.run(2 * HEARTBEAT_MS);
    peers = (await w.settle(w.manager.ops.networks.inspect('sec'))).Peers!;
    equal(peers.map((p) => [p.NodeID, p.Hostname, p.State, p.Reason, p.LastHandshake, p.TxBytes, p.RxBytes]), [
      [w1.key.nodeId, 'w1', 'up', '', new Date(hs).toISOString(), 10, 20],
      [w2.key.nodeId, 'w2', 'failed', 'w1: handshake timed out', null, 0, 0],
    ]);
    const n1 = await w.settle(w.manager.ops.nodeInspect('w1'));
    equal(n1.DataPath, {
      Networks: [{ NetworkID: sec, Name: 'sec', Peers: [{ NodeID: w2.key.nodeId, Hostname: 'w2', State: 'up', Reason: '', LastHandshake: new Date(hs).toISOString(), TxBytes: 10, RxBytes: 20 }] }],
    });
    // The list carries it too.
    ok((await w.settle(w.manager.ops.nodeList())).some((n) => n.DataPath !== undefined));

    // A node whose data path stops reporting: its report goes with the next heartbeat.
    w1.report = undefined;
    await w.run(2 * HEARTBEAT_MS);
    ok(!('DataPath' in (await w.settle(w.manager.ops.nodeInspect('w1')))));
    peers = (await w.settle(w.manager.ops.networks.inspect('sec'))).Peers!;
    equal(peers.map((p) => [p.Hostname, p.State]), [['w1', 'unknown'], ['w2', 'failed']]);

    // A datapathStatus that throws is reported as an error, and the session lives on.
    w1.report = undefined;
    const before = w1.assignments.length;
    Object.defineProperty(w1, 'report', { get: () => { throw new Error('boom'); } });
    await w.run(2 * HEARTBEAT_MS);
    const dp = (await w.settle(w.manager.ops.nodeInspect('w1'))).DataPath;
    equal(dp, { Networks: [], Error: 'the data path status could not be read: boom' });
    is(w1.removed, undefined);
    is(w1.assignments.length, before, 'no new session, no new assignment');
  } finally {
    await w.close();
  }
});

t.run();
