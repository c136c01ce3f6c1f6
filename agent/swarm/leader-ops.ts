// What only the leader does to the cluster store: bootstrap it, admit
// joiners (certificate + node record + Raft membership), renew
// certificates, and the node and swarm commands. Every write is a store
// command committed through Raft before it is answered; every read first
// passes a read barrier (thesis §6.4), so a deposed leader cannot answer
// from stale state. Followers forward these calls here (manager.ts).
import type { Clock } from '../../shared/clock.js';
import type { Rand } from '../../shared/rand.js';
import type { DatapathReport, NodeInspect, SwarmInspect } from '../api/types.js';
import { CertificateAuthority, DEFAULT_CERT_VALIDITY_MS } from '../cluster/ca/ca.js';
import { encodeCertificate, encodeTbs } from '../cluster/ca/certificate.js';
import { newJoinTokens, rotateJoinToken } from '../cluster/ca/join-token.js';
import { nodeIdOf } from '../cluster/ca/node-key.js';
import type { Replica } from '../cluster/replica.js';
import { ProposalDroppedError } from '../cluster/raft/index.js';
import { batch, create, encodeCommand, remove, update, type ApplyResult, type Command, type Store } from '../cluster/store/index.js';
import type { ClusterSettings, Node, NodeAvailability, NodeRole } from '../cluster/store/types.js';
import { conflict, denied, invalid, notFound } from './errors.js';
import { GOSSIP_KEY_BYTES, gossipKeyId } from './gossip-keys.js';
import { AttachOps } from './attach-ops.js';
import { nodeDataPath, nodeGossip } from './datapath-report.js';
import { NetworkOps } from './network-ops.js';
import { ServiceOps } from './service-ops.js';
import { CLUSTER_ID_KEY, TOKENS_ID } from './store-ids.js';

export { CLUSTER_ID_KEY, TOKENS_ID };
import { resolveNodeRef, nodeView, swarmView, type ManagerFacts } from './views.js';

/** How long a manager's admission to Raft may wait for an earlier membership change to commit. */
export const ADD_VOTER_WAIT_MS = 30_000;

export interface BootstrapRequest {
  nodeId: string;
  publicKey: Uint8Array;
  hostname: string;
  addr: string;
  dataAddr: string;
  engineVersion: string;
  /** The CA made at init, with the first certificate already issued from it. */
  ca: CertificateAuthority;
  cert: Uint8Array;
  defaultAddrPool: string[];
  subnetSize: number;
  dataPathPort: number;
  heartbeatMs: number;
  certExpiryMs: number;
  keyRotationMs: number;
}

export interface JoinRequest {
  nodeId: string;
  publicKey: Uint8Array;
  role: NodeRole;
  hostname: string;
  addr: string;
  dataAddr: string;
  engineVersion: string;
}

export interface JoinAnswer {
  clusterId: string;
  cert: Uint8Array;
  root: Uint8Array;
  managers: { id: string; addr: string }[];
  dataPathPort: number;
  heartbeatMs: number;
}

export interface NodeUpdate {
  version: number;
  role?: NodeRole;
  availability?: NodeAvailability;
  labels?: Record<string, string>;
}

export interface SwarmUpdate {
  version: number;
  heartbeatMs?: number;
  certExpiryMs?: number;
  keyRotationMs?: number;
  rotateWorkerToken?: boolean;
  rotateManagerToken?: boolean;
}

export interface LeaderOpsDeps {
  replica: Replica<ApplyResult>;
  store(): Store;
  clock: Clock;
  rand: Rand;
  /** Who the leader hears from now (dispatcher sessions and itself). */
  reachable(): ReadonlySet<string>;
  /** Close the sessions of a node that was removed. */
  evict(nodeId: string): void;
  /** The latest data path report of each node with a session (the dispatcher's, in memory); none when absent. */
  datapathReports?(): ReadonlyMap<string, DatapathReport>;
  /** Ask a node over its dispatcher session (service logs). */
  callNode?(nodeId: string, method: string, args: unknown, timeoutMs: number): Promise<unknown>;
}

export class LeaderOps {
  readonly #d: LeaderOpsDeps;
  /** Network objects and their IPAM (network-ops.ts). */
  readonly networks: NetworkOps;
  readonly attachments: AttachOps;
  readonly services: ServiceOps;
  #caCache: { version: number; ca: CertificateAuthority } | undefined;

  constructor(d: LeaderOpsDeps) {
    this.#d = d;
    this.networks = new NetworkOps(this, d.rand, d.clock, () => this.datapathReports());
    this.attachments = new AttachOps(this, d.clock);
    this.services = new ServiceOps({ leader: this, rand: d.rand, clock: d.clock, callNode: (id, m, a, t) => (d.callNode ? d.callNode(id, m, a, t) : Promise.reject(new Error('no sessions here'))) });
  }

  // ---- store plumbing ---------------------------------------------------------

  /** Propose a store command and wait for it to apply; a store refusal becomes a RemoteError with its code. */
  async commit(cmd: Command): Promise<void> {
    const r = await this.#d.replica.propose(encodeCommand(cmd));
    if (!r.ok) {
      const e = r.error;
      if (e.code === 'STORE_STALE_VERSION') throw conflict(`update out of sequence: ${e.message}; read the object again and retry`);
      if (e.code === 'STORE_NOT_FOUND') throw notFound(e.message);
      if (e.code === 'STORE_CONFLICT') throw conflict(e.message);
      throw invalid(e.message);
    }
  }

  /** Latest data path reports (dispatcher.ts), by node id. */
  datapathReports(): ReadonlyMap<string, DatapathReport> {
    return this.#d.datapathReports?.() ?? new Map();
  }

  /** The store, once a read barrier confirmed this leader is current (thesis §6.4). */
  async read(): Promise<Store> {
    await this.#d.replica.readBarrier();
    return this.#d.store();
  }

  #cluster(store: Store): ClusterSettings {
    const c = store.get('cluster', CLUSTER_ID_KEY);
    if (!c) throw invalid('the swarm is not initialized yet');
    return c;
  }

  /** The CA as the store holds it (key and revocations), rebuilt only when the cluster object changed. */
  #ca(c: ClusterSettings): CertificateAuthority {
    if (this.#caCache?.version === c.meta.version) return this.#caCache.ca;
    if (!c.rootCa?.key) throw invalid('this cluster has no CA key: it cannot issue certificates');
    const ca = CertificateAuthority.restore(c.rootCa.key, this.#d.rand, this.#d.clock);
    this.#caCache = { version: c.meta.version, ca };
    return ca;
  }

  #facts(): ManagerFacts {
    const st = this.#d.replica.status();
    return { leaderId: st.leaderId, voters: st.voters, reachable: this.#d.reachable() };
  }

  /** The node a reference names (id, hostname, unique id prefix). */
  nodeRef(store: Store, ref: string): Node {
    return this.#node(store, ref);
  }

  #node(store: Store, ref: string): Node {
    const r = resolveNodeRef(store.list('node'), ref);
    if ('error' in r) throw r.error === 'not-found' ? notFound(r.message) : invalid(r.message);
    return r;
  }

  managers(store: Store): { id: string; addr: string }[] {
    const voters = new Set(this.#d.replica.status().voters);
    return store
      .list('node', (n) => voters.has(n.id))
      .map((n) => ({ id: n.id, addr: n.addr }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  // ---- bootstrap and joins ------------------------------------------------------

  /** The first writes of a new cluster, by the node that ran `swarm init`. */
  async bootstrap(r: BootstrapRequest): Promise<void> {
    const now = Math.floor(this.#d.clock.wallMs());
    const digest = r.ca.digest();
    const tokens = newJoinTokens(digest, this.#d.rand);
    await this.commit(
      batch(
        create('cluster', {
          id: CLUSTER_ID_KEY,
          name: 'default',
          defaultAddrPool: r.defaultAddrPool,
          subnetSize: r.subnetSize,
          keyRotationMs: r.keyRotationMs,
          heartbeatMs: r.heartbeatMs,
          dataPathPort: r.dataPathPort,
          rootCa: { certificate: r.ca.root.bytes, key: r.ca.serialize() },
          certExpiryMs: r.certExpiryMs,
          createdAtMs: now,
          updatedAtMs: now,
        }),
        create('token', { id: TOKENS_ID, worker: tokens.worker, manager: tokens.manager }),
        create('key', { id: gossipKeyId(1), kind: 'gossip', generation: 1, key: this.#d.rand.bytes(GOSSIP_KEY_BYTES), createdAtMs: now }),
        create('node', {
          id: r.nodeId,
          role: 'manager',
          availability: 'active',
          hostname: r.hostname,
          addr: r.addr,
          dataAddr: r.dataAddr,
          publicKey: r.publicKey,
          certificate: r.cert,
          labels: {},
          status: { state: 'ready', message: '' },
          joinedAtMs: now,
          engineVersion: r.engineVersion,
        }),
      ),
    );
  }

  /** Admit a node that proved a join token: issue its certificate, record it, and for a manager add it to Raft. */
  async join(r: JoinRequest): Promise<JoinAnswer> {
    if (nodeIdOf(r.publicKey) !== r.nodeId) throw denied('join: the node id does not match the key the handshake proved');
    const store = await this.read();
    const c = this.#cluster(store);
    const ca = this.#ca(c);
    const cert = ca.issue({ nodeId: r.nodeId, role: r.role, publicKey: r.publicKey, validityMs: c.certExpiryMs ?? DEFAULT_CERT_VALIDITY_MS });
    const certBytes = encodeCertificate(encodeTbs(cert), cert.signature);
    const now = Math.floor(this.#d.clock.wallMs());
    const draft = {
      id: r.nodeId,
      role: r.role,
      availability: 'active' as const,
      hostname: r.hostname,
      addr: r.addr,
      dataAddr: r.dataAddr,
      publicKey: r.publicKey,
      certificate: certBytes,
      labels: {},
      status: { state: 'unknown' as const, message: 'joined, no session yet' },
      joinedAtMs: now,
      engineVersion: r.engineVersion,
    };
    const prev = store.get('node', r.nodeId);
    await this.commit(prev ? update('node', { ...draft, labels: prev.labels }, prev.meta.version) : create('node', draft));
    // Not awaited: with the new voter counted from the moment the entry is
    // appended (thesis §4.1), it commits only once the joiner runs its
    // replica, which it does after this answer.
    if (r.role === 'manager') void this.#addVoter(r.nodeId);
    const after = this.#d.store();
    return {
      clusterId: c.id,
      cert: certBytes,
      root: c.rootCa!.certificate,
      managers: this.managers(after).concat(r.role === 'manager' && !this.managers(after).some((m) => m.id === r.nodeId) ? [{ id: r.nodeId, addr: r.addr }] : []),
      dataPathPort: c.dataPathPort,
      heartbeatMs: c.heartbeatMs,
    };
  }

  /**
   * A new certificate for a member, with the role the store gives it now
   * (renewal, promotion, demotion). Answered before the store records it:
   * a promoted node is already a voter it must not wait for, as it starts its
   * replica only with this certificate. The record follows when it commits.
   */
  async renew(nodeId: string, publicKey: Uint8Array): Promise<Uint8Array> {
    const store = this.#d.store();
    const n = store.get('node', nodeId);
    if (!n) throw denied(`node ${nodeId} is not part of this swarm (it was removed)`);
    if (nodeIdOf(publicKey) !== nodeId) throw denied('renew: the node id does not match the key the handshake proved');
    const c = this.#cluster(store);
    const cert = this.#ca(c).issue({ nodeId, role: n.role, publicKey, validityMs: c.certExpiryMs ?? DEFAULT_CERT_VALIDITY_MS });
    const bytes = encodeCertificate(encodeTbs(cert), cert.signature);
    void this.#recordCertificate(nodeId, bytes);
    return bytes;
  }

  /** Keep the node's record on its newest certificate (node rm revokes that one); retried over concurrent updates. */
  async #recordCertificate(nodeId: string, cert: Uint8Array): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const n = this.#d.store().get('node', nodeId);
      if (!n) return;
      try {
        await this.commit(update('node', { ...n, certificate: cert }, n.meta.version));
        return;
      } catch {
        await new Promise<void>((r) => this.#d.clock.after(200, r));
      }
    }
  }

  // ---- reads ---------------------------------------------------------------------

  async nodeList(): Promise<NodeInspect[]> {
    const store = await this.read();
    const f = this.#facts();
    return store.list('node').map((n) => this.#nodeView(store, n, f));
  }

  async nodeInspect(ref: string): Promise<NodeInspect> {
    const store = await this.read();
    return this.#nodeView(store, this.#node(store, ref), this.#facts());
  }

  /** The node as the API shows it, with its latest data path report when it sent one. */
  #nodeView(store: Store, n: Node, f: ManagerFacts): NodeInspect {
    const v = nodeView(n, f);
    const r = this.datapathReports().get(n.id);
    if (r) v.DataPath = nodeDataPath(store, r);
    if (r?.gossip) v.Gossip = nodeGossip(r.gossip);
    return v;
  }

  async swarmInspect(): Promise<SwarmInspect> {
    const store = await this.read();
    return swarmView(this.#cluster(store), store.get('token', TOKENS_ID));
  }

  // ---- node commands -----------------------------------------------------------

  async nodeUpdate(ref: string, u: NodeUpdate): Promise<void> {
    const store = await this.read();
    const n = this.#node(store, ref);
    if (n.meta.version !== u.version) throw conflict(`update out of sequence: node ${n.id} is at version ${n.meta.version}, the update read version ${u.version}`);
    const role = u.role ?? n.role;
    const voters = this.#d.replica.status().voters;
    // Demotion leaves Raft first, while the remaining managers can still commit without it.
    if (role === 'worker' && voters.includes(n.id)) {
      if (voters.length === 1) throw invalid(`node ${n.id} is the last manager of the swarm and cannot be demoted`);
      this.#quorumAfterRemoving(n.id, 'demote');
      await this.#removeVoter(n.id);
    }
    const fresh = this.#d.store().get('node', n.id)!;
    await this.commit(update('node', { ...fresh, role, availability: u.availability ?? fresh.availability, labels: u.labels ?? fresh.labels }, fresh.meta.version));
    // Promotion joins Raft last and is not awaited: counted from the moment it
    // is appended (thesis §4.1), the new voter commits only once the node has
    // seen its new role, taken a manager certificate and started its replica.
    // Only an update that asks for the role adds a voter: after
    // --force-new-cluster the lost managers are still managers in the store,
    // and a label change on one must not make it a voter that never answers.
    if (u.role === 'manager') void this.#addVoter(n.id);
  }

  /**
   * Add a voter as soon as Raft takes the change: one membership change is
   * in flight at a time, so two managers joining back to back wait their
   * turn (up to ADD_VOTER_WAIT_MS), rather than the second being dropped.
   */
  async #addVoter(id: string): Promise<void> {
    const until = this.#d.clock.nowMs() + ADD_VOTER_WAIT_MS;
    for (;;) {
      const r = this.#d.replica;
      if (r.role !== 'leader' || r.status().voters.includes(id) || !this.#d.store().get('node', id)) return;
      try {
        await r.proposeConfChange({ type: 'add', id });
        return;
      } catch (e) {
        const pending = e instanceof ProposalDroppedError && e.reason === 'conf-change-pending';
        if (!pending || this.#d.clock.nowMs() >= until) return;
        await new Promise<void>((done) => this.#d.clock.after(100, done));
      }
    }
  }

  /** Refuse a change that leaves fewer reachable managers than a majority of those left. */
  #quorumAfterRemoving(id: string, what: string): void {
    const voters = this.#d.replica.status().voters.filter((v) => v !== id);
    const reachable = voters.filter((v) => this.#d.reachable().has(v)).length;
    if (reachable <= voters.length / 2) {
      throw invalid(`can't ${what} node ${id}: it would leave ${reachable} reachable managers out of ${voters.length}, which is not a majority (quorum would be lost)`);
    }
  }

  async #removeVoter(id: string): Promise<void> {
    const r = this.#d.replica;
    if (id === r.id) {
      // A leader does not remove itself: it hands leadership over first and
      // the new leader removes it (thesis §4.2.2). Answer only when that is done.
      const others = r.status().voters.filter((v) => v !== id && this.#d.reachable().has(v));
      if (others.length === 0) throw invalid('no other reachable manager to take over leadership');
      r.transferLeadership(others[0]!);
      throw new LeadershipMovedError(`leadership is moving to ${others[0]} so that this manager can be removed; retry`);
    }
    await r.proposeConfChange({ type: 'remove', id });
  }

  async nodeRemove(ref: string, force: boolean): Promise<void> {
    const store = await this.read();
    const n = this.#node(store, ref);
    if (this.#d.replica.status().voters.includes(n.id) || n.role === 'manager') {
      throw invalid(`node ${n.id} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`);
    }
    if (!force && n.status.state !== 'down') {
      throw invalid(`node ${n.id} is not down and can't be removed (use --force to remove it anyway)`);
    }
    const c = this.#cluster(store);
    const ca = CertificateAuthority.restore(c.rootCa!.key!, this.#d.rand, this.#d.clock);
    if (n.certificate) {
      const cert = ca.verify(n.certificate);
      if (cert.ok) ca.revoke({ serial: cert.cert.serial, notAfterMs: cert.cert.notAfterMs });
    }
    ca.pruneRevocations();
    const now = Math.floor(this.#d.clock.wallMs());
    await this.commit(
      batch(remove('node', n.id, n.meta.version), update('cluster', { ...c, rootCa: { certificate: c.rootCa!.certificate, key: ca.serialize() }, updatedAtMs: now }, c.meta.version)),
    );
    this.#d.evict(n.id);
    // Its endpoints' addresses go back to the pools (docker removes a removed node's tasks too).
    for (const t of this.#d.store().tasks({ nodeId: n.id })) {
      if (t.serviceId === undefined) await this.attachments.detach({ nodeId: n.id, taskId: t.id });
    }
  }

  /** A manager leaving on its own (`swarm leave` without --force): leave Raft, stay listed as a down worker. */
  async managerLeave(nodeId: string): Promise<void> {
    const store = await this.read();
    const n = store.get('node', nodeId);
    if (!n) return;
    const voters = this.#d.replica.status().voters;
    if (voters.includes(nodeId)) {
      if (voters.length === 1) throw invalid('this node is the last manager: leaving would erase the swarm state; use --force to leave anyway');
      this.#quorumAfterRemoving(nodeId, 'remove');
      await this.#removeVoter(nodeId);
    }
    const fresh = this.#d.store().get('node', nodeId)!;
    await this.commit(update('node', { ...fresh, role: 'worker', status: { state: 'down', message: 'node left the swarm' } }, fresh.meta.version));
  }

  // ---- swarm commands ----------------------------------------------------------

  async swarmUpdate(u: SwarmUpdate): Promise<void> {
    const store = await this.read();
    const c = this.#cluster(store);
    if (c.meta.version !== u.version) throw conflict(`update out of sequence: the swarm is at version ${c.meta.version}, the update read version ${u.version}`);
    const changes = [];
    const now = Math.floor(this.#d.clock.wallMs());
    changes.push(
      update(
        'cluster',
        {
          ...c,
          heartbeatMs: u.heartbeatMs ?? c.heartbeatMs,
          certExpiryMs: u.certExpiryMs ?? c.certExpiryMs,
          keyRotationMs: u.keyRotationMs ?? c.keyRotationMs,
          updatedAtMs: now,
        },
        c.meta.version,
      ),
    );
    if (u.rotateWorkerToken || u.rotateManagerToken) {
      const t = store.get('token', TOKENS_ID);
      if (!t) throw invalid('the swarm has no join tokens');
      let tokens = { worker: t.worker, manager: t.manager };
      if (u.rotateWorkerToken) tokens = rotateJoinToken(tokens, 'worker', this.#d.rand);
      if (u.rotateManagerToken) tokens = rotateJoinToken(tokens, 'manager', this.#d.rand);
      changes.push(update('token', { ...t, ...tokens }, t.meta.version));
    }
    await this.commit(batch(...changes));
  }
}

/** The leader handed leadership over before removing itself; the caller retries against the new leader. */
export class LeadershipMovedError extends Error {
  readonly code = 'ELEADERMOVED';
  override name = 'LeadershipMovedError';
}
