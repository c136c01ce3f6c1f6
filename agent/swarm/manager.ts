// A manager (DESIGN §1-2): the Raft replica of the cluster store, the 2377
// listener every node dials, the leader's dispatcher and operations, and
// forwarding of those operations from a follower to the leader (swarmkit's
// raft proxy). Raft messages travel as 'raft' notes on the secure channel;
// one is accepted only from a manager whose certificate names the message's
// sender, so a member cannot speak for another.
import type { Clock } from '../../shared/clock.js';
import type { Rand } from '../../shared/rand.js';
import type { Addr, StreamTransport } from '../../shared/transport/types.js';
import { decodeCaRoot, type CaRoot } from '../cluster/ca/ca-root.js';
import { CertificateAuthority } from '../cluster/ca/ca.js';
import { JoinRateLimiter } from '../cluster/ca/join-rate-limiter.js';
import type { JoinTokens } from '../cluster/ca/join-token.js';
import type { NodeKey } from '../cluster/ca/node-key.js';
import { secureConnect, secureListen, type SecureConn, type SecureListener } from '../cluster/channel/index.js';
import { decodeRaftMessage, encodeRaftMessage, RaftWireError } from '../cluster/raft-wire.js';
import { NotLeaderError, type RaftConfig, type RaftMessage } from '../cluster/raft/index.js';
import { Replica, type RaftPeers } from '../cluster/replica.js';
import { StoreMachine } from '../cluster/store-machine.js';
import type { ApplyResult, Store } from '../cluster/store/index.js';
import { encodeCommand, update } from '../cluster/store/index.js';
import type { Disk } from '../cluster/wal/disk.js';
import type { Logger } from '../daemon/log.js';
import { Dispatcher } from './dispatcher.js';
import { GOSSIP_KEY_SCHEDULE, gossipKeys } from './gossip-keys.js';
import { DATA_KEY_SCHEDULE, dataAssignment, type DataPeer, type NetworkDataKeys } from './data-keys.js';
import { KeyRotator } from './key-rotator.js';
import { OrchestratorLoop } from './orchestrator-loop.js';
import { assignedTasks, ingressAssignment, type AssignedTask, type IngressAssignment } from './service-views.js';
import { denied, NO_LEADER_MESSAGE, noLeader } from './errors.js';
import { CLUSTER_ID_KEY, LeaderOps, LeadershipMovedError, TOKENS_ID } from './leader-ops.js';
import type { LocalSwarmState } from './local-state.js';
import { PeerPool } from './peer-pool.js';
import { RemoteError, Rpc } from './rpc.js';
import { parseAddr } from './addr-text.js';
import { callOp, OPS, type OpName } from './ops-table.js';

/** What a node holds from the dispatcher (pushed on every change). */
export interface Assignment {
  role: 'manager' | 'worker';
  availability: 'active' | 'pause' | 'drain';
  managers: { id: string; addr: string }[];
  /** Revoked certificate serials, so members refuse removed nodes too. */
  revoked: string[];
  heartbeatMs: number;
  certExpiryMs: number;
  /** The gossip keyring, oldest first (agent/gossip/keyring.ts picks the one to send with). */
  gossipKeys: { generation: number; key: Uint8Array }[];
  /**
   * The data keys (PSKs) of each encrypted overlay this node has endpoints
   * on, by network id, keys oldest first (data-keys.ts). Absent from an
   * older leader's assignment: read as [].
   */
  dataKeys: NetworkDataKeys[];
  /** The other nodes with endpoints on one of those networks, by node id: whom to hold sessions with. */
  peers: DataPeer[];
  /** The service tasks this node should run now (service-views.ts); absent from an older leader's: read as []. */
  tasks: AssignedTask[];
  /** The routing mesh on this node (issue 10): absent while there is no ingress network or no address for it. */
  ingress?: IngressAssignment;
}

export interface ManagerOptions {
  key: NodeKey;
  clock: Clock;
  rand: Rand;
  disk: Disk;
  raftDir: string;
  transport: StreamTransport;
  raftConfig: RaftConfig;
  /** The node's membership as it is now (the certificate may be renewed while running). */
  state(): LocalSwarmState;
  listen: Addr;
  /** First manager of a new cluster. */
  bootstrap?: boolean;
  forceNewCluster?: boolean;
  log: Logger;
  requestTimeoutMs?: number;
}

export class Manager {
  readonly replica: Replica<ApplyResult>;
  readonly ops: LeaderOps;
  readonly #o: ManagerOptions;
  readonly #sm: StoreMachine;
  readonly #pool: PeerPool;
  readonly #inbound = new Set<Rpc>();
  readonly #adopted = new WeakSet<Rpc>();
  #listener: SecureListener | undefined;
  #dispatcher: Dispatcher | undefined;
  #raftCb: ((m: RaftMessage) => void) | undefined;
  #pushQueued = false;
  #rotator: KeyRotator | undefined;
  #orchestrator: OrchestratorLoop | undefined;
  #closed = false;
  #caCache: { version: number; ca: CertificateAuthority } | undefined;
  readonly stats = { raftRejected: 0 };

  private constructor(o: ManagerOptions, sm: StoreMachine, pool: PeerPool, replica: Replica<ApplyResult>) {
    this.#o = o;
    this.#sm = sm;
    this.#pool = pool;
    this.replica = replica;
    this.ops = new LeaderOps({
      replica,
      store: () => this.#sm.store,
      clock: o.clock,
      rand: o.rand,
      reachable: () => this.reachable(),
      datapathReports: () => this.#dispatcher?.reports() ?? new Map(),
      callNode: (id, method, args, timeoutMs) => this.#dispatcher?.call(id, method, args, timeoutMs) ?? Promise.reject(new Error('not the leader')),
      evict: (id) => {
        this.#dispatcher?.evict(id);
        this.#pool.drop(id);
      },
    });
  }

  static async start(o: ManagerOptions): Promise<Manager> {
    const sm = new StoreMachine();
    let self: Manager | undefined;
    // Replica.open registers its Raft handler before this manager exists.
    let pendingCb: ((m: RaftMessage) => void) | undefined;
    const pool = new PeerPool({
      clock: o.clock,
      dial: (id, addr) =>
        self
          ? self.#dial(id, addr).catch((e: unknown) => {
              o.log.debug('manager dial failed', { peer: id, addr: `${addr.host}:${addr.port}`, error: (e as Error).message });
              throw e;
            })
          : Promise.reject(new Error('the manager is starting')),
      addrOf: (id) => self?.addrOf(id),
    });
    const peers: RaftPeers = {
      send: (m) => pool.notify(m.to, 'raft', encodeRaftMessage(m)),
      onMessage: (cb) => {
        if (self) self.#raftCb = cb;
        else pendingCb = cb;
      },
      close: async () => {},
    };
    // Apply hook: the dispatcher pushes assignments after each committed write.
    const machine = {
      apply: (i: number, d: Uint8Array) => {
        const r = sm.apply(i, d);
        self?.storeChanged();
        return r;
      },
      skip: (i: number) => sm.skip(i),
      snapshot: () => sm.snapshot(),
      restore: (d: Uint8Array) => {
        sm.restore(d);
        self?.storeChanged();
      },
    };
    const replica = await Replica.open<ApplyResult>({
      id: o.state().nodeId,
      config: o.raftConfig,
      clock: o.clock,
      rand: o.rand,
      disk: o.disk,
      dir: o.raftDir,
      peers,
      sm: machine,
      ...(o.bootstrap ? { bootstrap: [o.state().nodeId] } : {}),
      ...(o.forceNewCluster ? { forceNewCluster: true } : {}),
      requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
      onRoleChange: (role, leader, term) => self?.roleChanged(role, leader, term),
    });
    self = new Manager(o, sm, pool, replica);
    self.#raftCb = pendingCb;
    try {
      self.#listener = await secureListen(o.transport, o.listen, {
        key: o.key,
        get cert() {
          return o.state().cert;
        },
        root: decodeCaRoot(o.state().root),
        revoked: () => self!.#revoked(),
        tokens: () => self!.#tokens(),
        limiter: new JoinRateLimiter(o.clock),
        clock: o.clock,
        rand: o.rand,
        onConn: (conn) => self!.#accept(conn),
      });
    } catch (e) {
      await replica.close();
      pool.close();
      throw e;
    }
    if (replica.role === 'leader') self.roleChanged('leader', replica.id, replica.term);
    return self;
  }

  get store(): Store {
    return this.#sm.store;
  }
  get isLeader(): boolean {
    return this.replica.role === 'leader';
  }
  get local(): Addr {
    return this.#listener!.local;
  }

  /** Where manager id listens on 2377: the store's record, else the hints this node was given when it joined. */
  addrOf(id: string): Addr | undefined {
    const n = this.#sm.store.get('node', id);
    const text = n?.addr ?? this.#o.state().managers.find((m) => m.id === id)?.addr;
    return text ? parseAddr(text) : undefined;
  }

  /** Managers the leader hears from: itself and every node with a live dispatcher session. */
  reachable(): ReadonlySet<string> {
    const s = this.#dispatcher?.live() ?? new Set<string>();
    s.add(this.replica.id);
    return s;
  }

  /** Resolves once this manager leads (a new cluster's first manager); rejects after timeoutMs. */
  whenLeader(timeoutMs: number): Promise<void> {
    const deadline = this.#o.clock.nowMs() + timeoutMs;
    return new Promise<void>((resolve, reject) => {
      const poll = (): void => {
        if (this.#closed) return reject(new Error('the manager is shutting down'));
        if (this.isLeader) return resolve();
        if (this.#o.clock.nowMs() >= deadline) return reject(new Error(`this manager did not become leader within ${timeoutMs} ms`));
        this.#o.clock.after(Math.min(50, this.#o.raftConfig.tickMs), poll);
      };
      poll();
    });
  }

  /**
   * Run a leader operation here when leading, else on the leader. While
   * leadership moves (an election, a transfer, a leader that stopped
   * answering) it retries for up to two election timeouts, and only where
   * the operation cannot have run: a refusal, or a leader it could not reach.
   */
  async leaderOp<N extends OpName>(name: N, args: object): Promise<Awaited<ReturnType<(typeof OPS)[N]>>> {
    type Out = Awaited<ReturnType<(typeof OPS)[N]>>;
    const cfg = this.#o.raftConfig;
    const deadline = this.#o.clock.nowMs() + 2 * cfg.electionTicks * cfg.tickMs;
    for (;;) {
      let unreachable: Error | undefined;
      try {
        if (this.isLeader) return (await callOp(this.ops, name, args)) as Out;
        const leader = this.replica.leaderId;
        if (leader === undefined) throw noLeader();
        let rpc: Rpc;
        try {
          rpc = await this.#pool.channel(leader);
        } catch (e) {
          unreachable = e as Error;
          throw e;
        }
        return (await rpc.call('op', { name, args }, (this.#o.requestTimeoutMs ?? 10_000) + 2_000)) as Out;
      } catch (e) {
        const retry =
          unreachable !== undefined ||
          e instanceof NotLeaderError ||
          e instanceof LeadershipMovedError ||
          (e instanceof RemoteError && (e.code === 'ENOTLEADER' || e.code === 'ENOQUORUM'));
        if (!retry) throw e;
        if (this.#o.clock.nowMs() >= deadline || this.#closed) {
          if (this.replica.leaderId === undefined || !unreachable) throw noLeader();
          throw new RemoteError('ENOQUORUM', `the leader (${this.replica.leaderId}) is not reachable: ${unreachable.message}; ${NO_LEADER_MESSAGE}`);
        }
        await new Promise<void>((r) => this.#o.clock.after(cfg.tickMs * 2, r));
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#dispatcher?.stop();
    this.#dispatcher = undefined;
    this.#rotator?.stop();
    this.#orchestrator?.stop();
    await this.#listener?.close();
    for (const r of this.#inbound) r.close();
    this.#pool.close();
    await this.replica.close();
  }

  // ---- trust material from the store ----------------------------------------------

  #ca(): CertificateAuthority | undefined {
    const c = this.#sm.store.get('cluster', CLUSTER_ID_KEY);
    if (!c?.rootCa?.key) return undefined;
    if (this.#caCache?.version !== c.meta.version) {
      this.#caCache = { version: c.meta.version, ca: CertificateAuthority.restore(c.rootCa.key, this.#o.rand, this.#o.clock) };
    }
    return this.#caCache.ca;
  }

  #revoked(): ReadonlySet<string> {
    return this.#ca()?.revokedSerials() ?? new Set();
  }

  #tokens(): JoinTokens | undefined {
    const t = this.#sm.store.get('token', TOKENS_ID);
    return t ? { worker: t.worker, manager: t.manager } : undefined;
  }

  assignment(nodeId: string): Assignment | undefined {
    const store = this.#sm.store;
    const n = store.get('node', nodeId);
    const c = store.get('cluster', CLUSTER_ID_KEY);
    if (!n || !c) return undefined;
    const ingress = ingressAssignment(store, nodeId);
    return {
      role: n.role,
      availability: n.availability,
      managers: this.ops.managers(store),
      revoked: [...this.#revoked()].sort(),
      heartbeatMs: c.heartbeatMs,
      certExpiryMs: c.certExpiryMs ?? 0,
      gossipKeys: gossipKeys(store).map((k) => ({ generation: k.generation, key: k.key })),
      ...dataAssignment(store, nodeId),
      tasks: assignedTasks(store, nodeId),
      ...(ingress ? { ingress } : {}),
    };
  }

  // ---- channels --------------------------------------------------------------------

  async #dial(id: string, addr: Addr): Promise<Rpc> {
    const st = this.#o.state();
    const root: CaRoot = decodeCaRoot(st.root);
    const conn = await secureConnect(this.#o.transport, addr, {
      key: this.#o.key,
      trust: { kind: 'member', root, revoked: () => this.#revoked(), cert: st.cert, wantRole: 'manager' },
      clock: this.#o.clock,
      rand: this.#o.rand,
    });
    if (conn.peer.nodeId !== id) {
      conn.close();
      throw new Error(`${addr.host}:${addr.port} is manager ${conn.peer.nodeId}, not ${id}`);
    }
    return new Rpc(conn, this.#o.clock, this.#handlers());
  }

  #accept(conn: SecureConn): void {
    if (this.#closed) return conn.close();
    const rpc = new Rpc(conn, this.#o.clock, this.#handlers());
    this.#inbound.add(rpc);
    rpc.onClose(() => this.#inbound.delete(rpc));
  }

  #handlers() {
    return {
      request: (method: string, args: unknown, rpc: Rpc) => this.#request(method, args, rpc),
      notify: (kind: string, body: unknown, rpc: Rpc) => this.#notify(kind, body, rpc),
    };
  }

  #notify(kind: string, body: unknown, rpc: Rpc): void {
    if (kind !== 'raft') return;
    const p = rpc.peer;
    if (p.joining || p.role !== 'manager' || !(body instanceof Uint8Array)) {
      this.stats.raftRejected++;
      return;
    }
    let m: RaftMessage;
    try {
      m = decodeRaftMessage(body);
    } catch (e) {
      if (!(e instanceof RaftWireError)) throw e;
      this.stats.raftRejected++;
      return;
    }
    // A manager speaks only for itself, and only while it is a voter: a
    // demoted manager's certificate stays valid until it expires, its Raft
    // membership does not. (A replica that is not a voter yet is still
    // catching up and takes what the leader sends.)
    const voters = this.replica.voters();
    if (m.from !== p.nodeId || m.to !== this.replica.id || (voters.includes(this.replica.id) && !voters.includes(m.from))) {
      this.stats.raftRejected++;
      return;
    }
    // A manager that speaks Raft to us on a channel it dialled is answered on
    // it too (a new manager may not know our address yet). Only Raft channels:
    // a manager's dispatcher session to us must not carry our Raft replies.
    if (!this.#adopted.has(rpc)) {
      this.#adopted.add(rpc);
      this.#pool.adopt(rpc);
    }
    this.#raftCb?.(m);
  }

  async #request(method: string, args: unknown, rpc: Rpc): Promise<unknown> {
    const p = rpc.peer;
    if (method === 'join') {
      if (!p.joining) throw denied('join: this node is already a member');
      const a = (args ?? {}) as Record<string, unknown>;
      return this.leaderOp('join', {
        nodeId: p.nodeId,
        publicKey: p.publicKey,
        role: p.role,
        hostname: str(a['hostname']),
        addr: str(a['addr']),
        dataAddr: str(a['dataAddr']),
        engineVersion: str(a['engineVersion']),
      });
    }
    if (p.joining) throw denied(`${method}: finish joining first`);
    if (method === 'op') {
      // The store, not the certificate, says who is a manager now (a demoted one still holds a manager certificate).
      if (p.role !== 'manager' || this.#sm.store.get('node', p.nodeId)?.role !== 'manager') throw denied('op: only managers forward operations');
      if (!this.isLeader) throw new RemoteError('ENOTLEADER', 'not the leader', this.#leaderAddr());
      const a = (args ?? {}) as { name?: unknown; args?: unknown };
      if (typeof a.name !== 'string' || !Object.hasOwn(OPS, a.name)) throw denied(`op: unknown operation ${JSON.stringify(a.name)}`);
      try {
        return await callOp(this.ops, a.name as OpName, a.args as never);
      } catch (e) {
        // Not done here, and safe to retry on whoever leads next.
        if (e instanceof LeadershipMovedError || e instanceof NotLeaderError) throw new RemoteError('ENOTLEADER', e.message, this.#leaderAddr());
        throw e;
      }
    }
    if (method === 'renew') return this.leaderOp('renew', { nodeId: p.nodeId, publicKey: p.publicKey });
    // Any member, for its own endpoints only: the node id is the certificate's.
    if (method === 'attach' || method === 'detach') {
      if (!this.#sm.store.get('node', p.nodeId)) throw denied(`node ${p.nodeId} is not part of this swarm (it was removed)`);
      return this.leaderOp(method, { ...((args ?? {}) as object), nodeId: p.nodeId });
    }
    if (method === 'taskStatus') {
      if (!this.#sm.store.get('node', p.nodeId)) throw denied(`node ${p.nodeId} is not part of this swarm (it was removed)`);
      return this.leaderOp('taskStatus', { ...((args ?? {}) as object), nodeId: p.nodeId });
    }
    if (method === 'session.open' || method === 'heartbeat') {
      const d = this.#dispatcher;
      if (!d || !this.isLeader) {
        const leader = this.#leaderAddr();
        if (leader === undefined) throw noLeader();
        throw new RemoteError('ENOTLEADER', 'not the leader', leader);
      }
      if (!this.#sm.store.get('node', p.nodeId)) throw denied(`node ${p.nodeId} is not part of this swarm (it was removed)`);
      return method === 'session.open' ? d.open(p.nodeId, rpc) : d.heartbeat(p.nodeId, rpc, args);
    }
    throw denied(`${method}: unknown method`);
  }

  #leaderAddr(): string | undefined {
    const id = this.replica.leaderId;
    if (id === undefined) return undefined;
    const a = this.addrOf(id);
    return a ? `${a.host}:${a.port}` : undefined;
  }

  // ---- leadership and store changes ---------------------------------------------------

  /** Told by the replica (internal). */
  roleChanged(role: string, leader: string | undefined, term: number): void {
    this.#o.log.info('raft role changed', { role, leader: leader ?? '', term });
    if (role === 'leader' && !this.#dispatcher && !this.#closed) {
      this.#dispatcher = new Dispatcher({
        clock: this.#o.clock,
        nodes: () => this.#sm.store.list('node'),
        periodMs: () => this.#sm.store.get('cluster', CLUSTER_ID_KEY)?.heartbeatMs ?? 5_000,
        assignment: (id) => this.assignment(id) ?? null,
        setStatus: (id, state, message) => void this.#setStatus(id, state, message),
      });
      this.#rotator = new KeyRotator({
        clock: this.#o.clock,
        rand: this.#o.rand,
        store: () => this.#sm.store,
        leading: () => !this.#closed && this.isLeader,
        propose: (cmd) => this.ops.commit(cmd),
        exclusive: (f) => this.ops.networks.exclusive(f),
        schedules: [GOSSIP_KEY_SCHEDULE, DATA_KEY_SCHEDULE],
        log: this.#o.log,
      });
      this.#orchestrator = new OrchestratorLoop({
        clock: this.#o.clock,
        rand: this.#o.rand,
        store: () => this.#sm.store,
        leading: () => !this.#closed && this.isLeader,
        commit: (cmd) => this.ops.commit(cmd),
        exclusive: (f) => this.ops.networks.exclusive(f),
        log: this.#o.log,
      });
    } else if (role !== 'leader' && this.#dispatcher) {
      this.#dispatcher.stop();
      this.#dispatcher = undefined;
      this.#rotator?.stop();
      this.#rotator = undefined;
      this.#orchestrator?.stop();
      this.#orchestrator = undefined;
    }
  }

  async #setStatus(id: string, state: 'ready' | 'down', message: string): Promise<void> {
    const n = this.#sm.store.get('node', id);
    if (!n || (n.status.state === state && n.status.message === message) || !this.isLeader) return;
    try {
      await this.replica.propose(encodeCommand(update('node', { ...n, status: { state, message } }, n.meta.version)));
      this.#o.log.info('node status', { node: id, state, message });
    } catch (e) {
      this.#o.log.debug('node status not recorded', { node: id, error: (e as Error).message });
    }
  }

  /** Told after each apply (internal). */
  storeChanged(): void {
    if (this.#pushQueued) return;
    this.#pushQueued = true;
    queueMicrotask(() => {
      this.#pushQueued = false;
      this.#dispatcher?.push();
      this.#orchestrator?.kick();
    });
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
