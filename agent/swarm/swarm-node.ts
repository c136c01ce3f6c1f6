// This node's membership of a swarm (issue 4): `swarm init`, `swarm join`,
// `swarm leave`, resuming after a restart without a token, and the role
// changes the dispatcher assigns (promote starts a manager here, demote
// stops it). Either a command completes or it leaves the node as it found
// it: nothing is written to the state dir before the cluster accepted us,
// and a failure after that rolls the local files back.
import { rmSync } from 'node:fs';
import type { Clock } from '../../shared/clock.js';
import { UsageError } from '../../shared/errors.js';
import type { Rand } from '../../shared/rand.js';
import type { StreamTransport } from '../../shared/transport/types.js';
import type { AttachAnswer, DatapathReport, GossipReport, NetworkInspect, NodeInspect, SwarmInfo, SwarmInitRequest, SwarmInspect, SwarmJoinRequest, SwarmSpecInput, NodeUpdateRequest } from '../api/types.js';
import { CertificateAuthority, DEFAULT_CERT_VALIDITY_MS } from '../cluster/ca/ca.js';
import { decodeCertificate, encodeCertificate, encodeTbs } from '../cluster/ca/certificate.js';
import { parseJoinToken } from '../cluster/ca/join-token.js';
import { loadOrCreateNodeKey, nodeIdOf, nodeKeyPath, type NodeKey } from '../cluster/ca/node-key.js';
import type { SecretFileIo } from '../cluster/ca/secret-file.js';
import { ChannelError, secureConnect } from '../cluster/channel/index.js';
import type { RaftConfig } from '../cluster/raft/index.js';
import type { Disk } from '../cluster/wal/disk.js';
import type { Logger } from '../daemon/log.js';
import { VERSION } from '../version.js';
import { parseAddr } from './addr-text.js';
import {
  DEFAULT_DATA_PATH_PORT, formatHostPort, parseRemoteAddr, resolveAdvertiseAddr, resolveDataPathAddr, resolveListenAddr,
  validateAddrPools, validateDataPathPort, type Interfaces,
} from './addr.js';
import { NOT_IN_SWARM_MESSAGE, WORKER_MESSAGE } from './errors.js';
import type { JoinAnswer } from './leader-ops.js';
import { loadSwarmState, raftDir, saveSwarmState, swarmStatePath, type LocalSwarmState } from './local-state.js';
import type { OpName, OPS } from './ops-table.js';
import { Manager, type Assignment } from './manager.js';
import { RemoteError, Rpc } from './rpc.js';
import { Session } from './session.js';
import type { GossipNode } from '../gossip/gossip-node.js';
import type { SwimConfig } from '../gossip/swim/index.js';
import type { NetworkDbConfig } from '../gossip/networkdb/index.js';
import { NodeGossip } from './node-gossip.js';
import type { DatagramTransport } from '../../shared/transport/types.js';

/** swarmkit's defaults (REFERENCE): heartbeat 5 s, key rotation 12 h. */
export const DEFAULT_HEARTBEAT_MS = 5_000;
export const DEFAULT_KEY_ROTATION_MS = 12 * 60 * 60 * 1000;

export interface SwarmNodeOptions {
  stateDir: string;
  clock: Clock;
  rand: Rand;
  transport: StreamTransport;
  disk: Disk;
  io: SecretFileIo;
  ifaces: Interfaces;
  hostname: string;
  raftConfig: RaftConfig;
  log: Logger;
  /** Per remote call and dial. */
  timeoutMs?: number;
  /** Gossip on 7946 (issue 5): UDP beside the stream transport, and the cores' presets. */
  udp: DatagramTransport;
  gossip: { swim: SwimConfig; networkDb: NetworkDbConfig; port?: number };
  /** The encrypted data path's state, reported to the leader with every heartbeat (issue 7). */
  datapathStatus?: () => DatapathReport | undefined;
  /**
   * Each assignment as it arrives (data keys and peers of the encrypted
   * overlays, DESIGN §2), and undefined once this node left the swarm or was
   * removed from it. A throw is logged and does not stop the assignment.
   */
  onAssignment?: (a: Assignment | undefined) => void;
  /** Requests the leader makes of this node over its session (`logs` of its tasks). */
  onRequest?: (method: string, args: unknown) => Promise<unknown> | unknown;
}

type LocalState = 'inactive' | 'pending' | 'active' | 'error';

export class SwarmNode {
  readonly #o: SwarmNodeOptions;
  #state: LocalSwarmState | undefined;
  #key: NodeKey | undefined;
  #manager: Manager | undefined;
  #session: Session | undefined;
  readonly #gossip: NodeGossip;
  #status: LocalState = 'inactive';
  #assignment: Assignment | undefined;
  #error = '';
  /** One membership change at a time (init, join, leave, promotion, demotion). */
  #busy: Promise<unknown> = Promise.resolve();

  constructor(o: SwarmNodeOptions) {
    this.#o = o;
    this.#gossip = new NodeGossip({ udp: o.udp, tcp: o.transport, clock: o.clock, rand: o.rand, log: o.log, ...o.gossip });
  }

  /** Resume the membership the state dir records, if any (a restart rejoins without a token). */
  async open(): Promise<void> {
    const st = loadSwarmState(this.#o.stateDir, this.#o.io);
    if (!st) return;
    this.#key = loadOrCreateNodeKey(this.#o.stateDir, this.#o.rand, this.#o.io).key;
    this.#state = st;
    this.#status = 'pending';
    if (st.role === 'manager') await this.#startManager({});
    this.#startSession();
    this.#o.log.info('resumed swarm membership', { node: st.nodeId, role: st.role });
  }

  async close(): Promise<void> {
    await this.#session?.close();
    this.#session = undefined;
    await this.#gossip.stop();
    await this.#manager?.close();
    this.#manager = undefined;
  }

  /** What the heartbeats say of the gossip plane (issue 11), once it runs. */
  gossipReport(): GossipReport | undefined {
    return this.#gossip.report();
  }

  /** The gossip plane, once the first assignment brought a keyring. */
  get gossip(): GossipNode | undefined {
    return this.#gossip.node;
  }

  get manager(): Manager | undefined {
    return this.#manager;
  }

  /** The last assignment from the dispatcher, while in a swarm. */
  /** This node's static X25519 key (its identity in the data path's handshakes), while in a swarm. */
  get staticKey(): { privateKey: Uint8Array; publicKey: Uint8Array } | undefined {
    return this.#state ? this.#key : undefined;
  }

  get assignment(): Assignment | undefined {
    return this.#assignment;
  }

  /** What the data plane needs of this node's membership, while in a swarm. */
  get membership(): { nodeId: string; vtep: string; dataPathPort: number } | undefined {
    const st = this.#state;
    if (!st) return undefined;
    return { nodeId: st.nodeId, vtep: st.dataAddr !== '' ? st.dataAddr : parseAddr(st.advertiseAddr).host, dataPathPort: st.dataPathPort };
  }

  /** An address for one of this node's endpoints on an overlay, from the leader (idempotent per endpoint and network). */
  attach(req: { taskId: string; name: string; network: string; ip?: string }): Promise<AttachAnswer> {
    if (!this.#session) throw new RemoteError('EDENIED', NOT_IN_SWARM_MESSAGE);
    return this.#session.call<AttachAnswer>('attach', req);
  }

  /** Tell the leader what became of one of this node's tasks (idempotent: a report never moves a task back). */
  reportTask(r: { taskId: string; state: string; message: string; err?: string; exitCode?: number; timestampMs: number }): Promise<void> {
    if (!this.#session) throw new RemoteError('EDENIED', NOT_IN_SWARM_MESSAGE);
    return this.#session.call<void>('taskStatus', r);
  }

  /** Give back an endpoint's address on one network, or on all of them (idempotent). */
  detach(req: { taskId: string; network?: string }): Promise<void> {
    if (!this.#session) throw new RemoteError('EDENIED', NOT_IN_SWARM_MESSAGE);
    return this.#session.call<void>('detach', req);
  }

  info(): SwarmInfo {
    const st = this.#state;
    if (!st) return { LocalNodeState: 'inactive', NodeID: '', NodeAddr: '', ControlAvailable: false, Error: '', RemoteManagers: [], Nodes: 0, Managers: 0 };
    const m = this.#manager;
    const store = m?.store;
    const info: SwarmInfo = {
      LocalNodeState: this.#status === 'pending' && this.#session?.manager ? 'active' : this.#status,
      NodeID: st.nodeId,
      NodeAddr: parseAddr(st.advertiseAddr).host,
      ControlAvailable: m !== undefined,
      Error: this.#error,
      RemoteManagers: st.managers.map((x) => ({ NodeID: x.id, Addr: x.addr })),
      Nodes: store ? store.count('node') : 0,
      Managers: m ? m.replica.status().voters.length : 0,
    };
    const gossip = this.#gossip.info();
    if (gossip) info.Gossip = gossip;
    if (m) {
      const r = m.replica.status();
      info.Cluster = { ID: st.clusterId };
      info.Raft = { Term: r.term, Commit: r.commit, Applied: m.replica.applied, LeaderID: r.leaderId ?? '', Voters: [...r.voters] };
    }
    return info;
  }

  // ---- init / join / leave -------------------------------------------------------------

  init(req: SwarmInitRequest): Promise<string> {
    return this.#exclusive(() => this.#init(req));
  }

  async #init(req: SwarmInitRequest): Promise<string> {
    if (req.ForceNewCluster && this.#state?.role === 'manager') return this.#forceNewCluster();
    this.#notInSwarm();
    const ifaces = this.#o.ifaces;
    const listen = resolveListenAddr(req.ListenAddr, ifaces);
    const advertise = resolveAdvertiseAddr(req.AdvertiseAddr, listen, ifaces);
    const dataAddr = resolveDataPathAddr(req.DataPathAddr, advertise.host, ifaces);
    const dataPathPort = validateDataPathPort(req.DataPathPort);
    const pools = validateAddrPools(req.DefaultAddrPool, req.SubnetSize);
    const heartbeatMs = positive('--dispatcher-heartbeat', req.Spec?.Dispatcher?.HeartbeatPeriodMs) ?? DEFAULT_HEARTBEAT_MS;
    const certExpiryMs = positive('--cert-expiry', req.Spec?.CAConfig?.NodeCertExpiryMs) ?? DEFAULT_CERT_VALIDITY_MS;
    const keyRotationMs = positive('--key-rotation', req.Spec?.EncryptionConfig?.KeyRotationMs) ?? DEFAULT_KEY_ROTATION_MS;

    await this.#checkListen(listen);
    const key = loadOrCreateNodeKey(this.#o.stateDir, this.#o.rand, this.#o.io).key;
    const nodeId = this.#nodeId(key);
    const ca = CertificateAuthority.create(this.#o.rand, this.#o.clock);
    const c = ca.issue({ nodeId, role: 'manager', publicKey: key.publicKey, validityMs: certExpiryMs });
    const cert = encodeCertificate(encodeTbs(c), c.signature);
    const st: LocalSwarmState = {
      clusterId: ca.id,
      nodeId,
      role: 'manager',
      root: ca.root.bytes,
      cert,
      listenAddr: formatHostPort(listen),
      advertiseAddr: formatHostPort(advertise),
      dataAddr,
      dataPathPort,
      managers: [{ id: nodeId, addr: formatHostPort(advertise) }],
    };
    this.#key = key;
    this.#state = st;
    // Not in a swarm, so a Raft log here is a leftover (a crash mid-init): it must not seed the new cluster.
    rmSync(raftDir(this.#o.stateDir), { recursive: true, force: true });
    try {
      await this.#startManager({ bootstrap: true });
      const m = this.#manager!;
      await m.whenLeader(this.#timeout() * 3);
      await m.ops.bootstrap({
        nodeId, publicKey: key.publicKey, hostname: this.#o.hostname, addr: st.advertiseAddr, dataAddr, engineVersion: VERSION,
        ca, cert, defaultAddrPool: pools.pools, subnetSize: pools.maskLength, dataPathPort, heartbeatMs, certExpiryMs, keyRotationMs,
      });
      // docker's swarm init makes the routing mesh's network, 10.0.0.0/24 from the default pool.
      await m.ops.networks.create({ Name: 'ingress', Ingress: true });
      saveSwarmState(this.#o.stateDir, st, this.#o.io);
    } catch (e) {
      await this.#wipe(false);
      throw e;
    }
    this.#status = 'active';
    this.#startSession();
    this.#o.log.info('swarm initialized', { node: nodeId, listen: st.listenAddr, advertise: st.advertiseAddr });
    return nodeId;
  }

  async #forceNewCluster(): Promise<string> {
    const st = this.#state!;
    await this.close();
    await this.#startManager({ forceNewCluster: true });
    this.#status = 'active';
    this.#error = '';
    this.#startSession();
    this.#o.log.warn('forced a new cluster from this manager\'s state', { node: st.nodeId });
    return st.nodeId;
  }

  join(req: SwarmJoinRequest): Promise<{ Role: string }> {
    return this.#exclusive(() => this.#join(req));
  }

  async #join(req: SwarmJoinRequest): Promise<{ Role: string }> {
    this.#notInSwarm();
    if (typeof req.JoinToken !== 'string' || req.JoinToken.trim() === '') throw new UsageError('--token: a join token is required');
    try {
      parseJoinToken(req.JoinToken);
    } catch (e) {
      throw new UsageError(`--token: ${(e as Error).message}`);
    }
    if (!Array.isArray(req.RemoteAddrs) || req.RemoteAddrs.length === 0) throw new UsageError('a manager address to join is required (HOST[:PORT])');
    const remotes = req.RemoteAddrs.map((r) => parseRemoteAddr(r));
    const ifaces = this.#o.ifaces;
    const listen = resolveListenAddr(req.ListenAddr, ifaces);
    const advertise = resolveAdvertiseAddr(req.AdvertiseAddr, listen, ifaces);
    const dataAddr = resolveDataPathAddr(req.DataPathAddr, advertise.host, ifaces);
    const key = loadOrCreateNodeKey(this.#o.stateDir, this.#o.rand, this.#o.io).key;

    let lastErr: Error | undefined;
    for (const remote of remotes) {
      let rpc: Rpc | undefined;
      try {
        const conn = await secureConnect(this.#o.transport, remote, {
          key,
          trust: { kind: 'join', token: req.JoinToken },
          clock: this.#o.clock,
          rand: this.#o.rand,
          timeoutMs: this.#timeout(),
        });
        rpc = new Rpc(conn, this.#o.clock, {});
        // A manager will listen on 2377: find out now that the port is free, before the cluster counts on us.
        if (conn.localRole === 'manager') await this.#checkListen(listen);
        const a = await rpc.call<JoinAnswer>('join', { hostname: this.#o.hostname, addr: formatHostPort(advertise), dataAddr, engineVersion: VERSION }, this.#timeout() * 2);
        rpc.close();
        const role = decodeCertificate(a.cert).role;
        this.#key = key;
        this.#state = {
          clusterId: a.clusterId,
          nodeId: this.#nodeId(key),
          role,
          root: new Uint8Array(a.root),
          cert: new Uint8Array(a.cert),
          listenAddr: formatHostPort(listen),
          advertiseAddr: formatHostPort(advertise),
          dataAddr,
          dataPathPort: a.dataPathPort ?? DEFAULT_DATA_PATH_PORT,
          managers: a.managers,
        };
        try {
          rmSync(raftDir(this.#o.stateDir), { recursive: true, force: true });
          saveSwarmState(this.#o.stateDir, this.#state, this.#o.io);
          if (role === 'manager') await this.#startManager({});
        } catch (e) {
          await this.#wipe(false);
          throw e;
        }
        this.#status = 'pending';
        this.#startSession();
        this.#o.log.info('joined swarm', { node: this.#state.nodeId, role, manager: formatHostPort(remote) });
        return { Role: role };
      } catch (e) {
        rpc?.close();
        lastErr = joinError(e, formatHostPort(remote));
        if (e instanceof ChannelError && (e.code === 'ECHAN_REFUSED' || e.code === 'ECHAN_UNTRUSTED')) break;
      }
    }
    throw lastErr ?? new Error('join failed');
  }

  leave(force: boolean): Promise<void> {
    return this.#exclusive(() => this.#leave(force));
  }

  async #leave(force: boolean): Promise<void> {
    const st = this.#state;
    if (!st) throw new RemoteError('EINVAL', 'This node is not part of a swarm');
    const m = this.#manager;
    if (m && !force) {
      const voters = m.replica.status().voters;
      if (voters.length <= 1) {
        throw new RemoteError('EINVAL', 'You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message.');
      }
      try {
        await m.leaderOp('managerLeave', { nodeId: st.nodeId });
      } catch (e) {
        throw new RemoteError(
          e instanceof RemoteError ? e.code : 'EINVAL',
          `You are attempting to leave the swarm on a node that is participating as a manager: ${(e as Error).message}. Use \`--force\` to leave anyway (the remaining managers may lose quorum).`,
        );
      }
    }
    await this.#wipe(true);
    this.#o.log.info('left the swarm', { node: st.nodeId });
  }

  // ---- cluster commands (managers) -------------------------------------------------------

  #mgr(): Manager {
    if (!this.#state) throw new RemoteError('EDENIED', NOT_IN_SWARM_MESSAGE);
    if (!this.#manager) throw new RemoteError('EDENIED', WORKER_MESSAGE);
    return this.#manager;
  }

  nodeList(): Promise<NodeInspect[]> {
    return this.#mgr().leaderOp('nodeList', {});
  }
  nodeInspect(ref: string): Promise<NodeInspect> {
    return this.#mgr().leaderOp('nodeInspect', { ref: this.#self(ref) });
  }
  nodeUpdate(ref: string, version: number, u: NodeUpdateRequest): Promise<void> {
    return this.#mgr().leaderOp('nodeUpdate', {
      ref: this.#self(ref),
      update: { version, ...(u.Role ? { role: u.Role } : {}), ...(u.Availability ? { availability: u.Availability } : {}), ...(u.Labels ? { labels: u.Labels } : {}) },
    });
  }
  nodeRemove(ref: string, force: boolean): Promise<void> {
    return this.#mgr().leaderOp('nodeRemove', { ref: this.#self(ref), force });
  }
  swarmInspect(): Promise<SwarmInspect> {
    return this.#mgr().leaderOp('swarmInspect', {});
  }
  swarmUpdate(version: number, spec: SwarmSpecInput, rotateWorkerToken: boolean, rotateManagerToken: boolean): Promise<void> {
    return this.#mgr().leaderOp('swarmUpdate', {
      version,
      ...(spec.Dispatcher?.HeartbeatPeriodMs !== undefined ? { heartbeatMs: spec.Dispatcher.HeartbeatPeriodMs } : {}),
      ...(spec.CAConfig?.NodeCertExpiryMs !== undefined ? { certExpiryMs: spec.CAConfig.NodeCertExpiryMs } : {}),
      ...(spec.EncryptionConfig?.KeyRotationMs !== undefined ? { keyRotationMs: spec.EncryptionConfig.KeyRotationMs } : {}),
      rotateWorkerToken,
      rotateManagerToken,
    });
  }

  networkCreate(req: unknown): Promise<{ Id: string; Warning: string }> {
    return this.#mgr().leaderOp('networkCreate', (req ?? {}) as object);
  }
  networkList(): Promise<NetworkInspect[]> {
    return this.#mgr().leaderOp('networkList', {});
  }
  networkInspect(ref: string): Promise<NetworkInspect> {
    return this.#mgr().leaderOp('networkInspect', { ref });
  }
  networkRemove(ref: string): Promise<void> {
    return this.#mgr().leaderOp('networkRemove', { ref });
  }
  networkPrune(labels: string[]): Promise<{ NetworksDeleted: string[] }> {
    return this.#mgr().leaderOp('networkPrune', { labels });
  }

  /** A leader operation by name (services, tasks), from a manager; workers are refused as docker refuses them. */
  op<N extends OpName>(name: N, args: object): Promise<Awaited<ReturnType<(typeof OPS)[N]>>> {
    return this.#mgr().leaderOp(name, args);
  }

  /** `self` names this node, as in docker. */
  #self(ref: string): string {
    return ref === 'self' && this.#state ? this.#state.nodeId : ref;
  }

  // ---- plumbing --------------------------------------------------------------------------

  #exclusive<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(f, f);
    this.#busy = run.catch(() => {});
    return run;
  }

  #notInSwarm(): void {
    if (this.#state) throw new RemoteError('EINVAL', 'This node is already part of a swarm. Use "agent swarm leave" to leave this swarm and join another one.');
  }

  #nodeId(key: NodeKey): string {
    return nodeIdOf(key.publicKey);
  }

  #timeout(): number {
    return this.#o.timeoutMs ?? 5_000;
  }

  async #checkListen(listen: { host: string; port: number }): Promise<void> {
    let l;
    try {
      l = await this.#o.transport.listen(listen, (s) => s.destroy());
    } catch (e) {
      throw new UsageError(`--listen-addr: cannot listen on ${formatHostPort(listen)}: ${(e as Error).message}`);
    }
    await l.close();
  }

  async #startManager(mode: { bootstrap?: boolean; forceNewCluster?: boolean }): Promise<void> {
    const st = this.#state!;
    this.#manager = await Manager.start({
      key: this.#key!,
      clock: this.#o.clock,
      rand: this.#o.rand,
      disk: this.#o.disk,
      raftDir: raftDir(this.#o.stateDir),
      transport: this.#o.transport,
      raftConfig: this.#o.raftConfig,
      state: () => this.#state!,
      listen: parseAddr(st.listenAddr),
      log: this.#o.log,
      ...mode,
    });
  }

  #startSession(): void {
    this.#session = new Session({
      key: this.#key!,
      clock: this.#o.clock,
      rand: this.#o.rand,
      transport: this.#o.transport,
      state: () => this.#state!,
      onAssignment: (a) => this.#assigned(a),
      onCertificate: (cert) => this.#update({ cert }),
      onRemoved: (message) => {
        this.#setAssignment(undefined);
        this.#status = 'error';
        this.#error = `this node was removed from the swarm: ${message}`;
        void this.#exclusive(async () => {
          await this.#gossip.stop();
          await this.#manager?.close();
          this.#manager = undefined;
        });
      },
      ...(this.#o.datapathStatus ? { datapathStatus: this.#o.datapathStatus } : {}),
      ...(this.#o.onRequest ? { onRequest: this.#o.onRequest } : {}),
      log: this.#o.log,
    });
    this.#session.start();
  }

  #update(change: Partial<LocalSwarmState>): void {
    if (!this.#state) return;
    this.#state = { ...this.#state, ...change };
    saveSwarmState(this.#o.stateDir, this.#state, this.#o.io);
  }

  #setAssignment(a: Assignment | undefined): void {
    if (a === undefined && this.#assignment === undefined) return;
    this.#assignment = a;
    try {
      this.#o.onAssignment?.(a);
    } catch (e) {
      this.#o.log.warn('the data path did not take the assignment', { error: (e as Error).message });
    }
  }

  async #assigned(raw: Assignment): Promise<void> {
    if (!this.#state) return;
    // An older leader's assignment has no data path fields.
    const a: Assignment = { ...raw, dataKeys: raw.dataKeys ?? [], peers: raw.peers ?? [] };
    this.#status = 'active';
    this.#error = '';
    this.#setAssignment(a);
    const same = JSON.stringify(a.managers) === JSON.stringify(this.#state.managers);
    if (!same && a.managers.length > 0) this.#update({ managers: a.managers });
    await this.#gossip.sync(this.#state, a);
    const certRole = decodeCertificate(this.#state.cert).role;
    // The session renews the certificate first; act on a role only once the certificate names it.
    if (certRole !== a.role) return;
    if (a.role !== this.#state.role) this.#update({ role: a.role });
    if (a.role === 'manager' && !this.#manager) {
      await this.#exclusive(async () => {
        if (this.#state?.role === 'manager' && !this.#manager) await this.#startManager({});
      });
      this.#o.log.info('promoted: manager started');
    } else if (a.role === 'worker' && this.#manager) {
      await this.#exclusive(async () => {
        await this.#manager?.close();
        this.#manager = undefined;
        rmSync(raftDir(this.#o.stateDir), { recursive: true, force: true });
      });
      this.#o.log.info('demoted: manager stopped');
    }
  }

  /** Stop everything and forget the swarm; with forgetKey a later join gets a new node id (as docker's). */
  async #wipe(forgetKey: boolean): Promise<void> {
    await this.close();
    rmSync(swarmStatePath(this.#o.stateDir), { force: true });
    rmSync(raftDir(this.#o.stateDir), { recursive: true, force: true });
    if (forgetKey) rmSync(nodeKeyPath(this.#o.stateDir), { force: true });
    this.#state = undefined;
    this.#key = undefined;
    this.#setAssignment(undefined);
    this.#status = 'inactive';
    this.#error = '';
  }
}

function positive(flag: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v <= 0) throw new UsageError(`${flag}: expected a positive duration, got ${v} ms`);
  return v;
}

/** A join failure as one line naming the manager. */
function joinError(e: unknown, where: string): Error {
  if (e instanceof ChannelError) {
    if (e.code === 'ECHAN_REFUSED' && e.reason === 'bad-token') return new RemoteError('EDENIED', `${where} refused the join: invalid join token`);
    if (e.code === 'ECHAN_REFUSED') return new RemoteError('EDENIED', e.message);
    if (e.code === 'ECHAN_UNTRUSTED') return new RemoteError('EDENIED', e.message);
    return new Error(`could not join through ${where}: ${e.message}`);
  }
  if (e instanceof RemoteError || e instanceof UsageError) return e;
  const code = (e as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new Error(`could not connect to a manager at ${where}: ${(e as Error).message}`);
  }
  return new Error(`could not join through ${where}: ${(e as Error).message}`);
}
