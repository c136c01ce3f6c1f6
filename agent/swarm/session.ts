// A node's session with the dispatcher (DESIGN §2): one channel to the
// leader, found by trying the managers this node knows and following
// "not the leader" answers; a heartbeat every period; assignments pushed
// down on every change; certificate renewal before expiry or when the role
// changed. A manager that refuses our certificate, or a leader that says we
// were removed, ends the session for good (onRemoved).
import type { Clock, Timer } from '../../shared/clock.js';
import type { Rand } from '../../shared/rand.js';
import type { StreamTransport } from '../../shared/transport/types.js';
import type { DatapathReport } from '../api/types.js';
import { decodeCaRoot } from '../cluster/ca/ca-root.js';
import { shouldRenew } from '../cluster/ca/ca.js';
import { decodeCertificate } from '../cluster/ca/certificate.js';
import type { NodeKey } from '../cluster/ca/node-key.js';
import { ChannelError, secureConnect } from '../cluster/channel/index.js';
import type { Logger } from '../daemon/log.js';
import { parseAddr } from './addr-text.js';
import type { LocalSwarmState } from './local-state.js';
import type { Assignment } from './manager.js';
import { ChannelClosedError, RemoteError, Rpc } from './rpc.js';

export interface SessionOptions {
  key: NodeKey;
  clock: Clock;
  rand: Rand;
  transport: StreamTransport;
  state(): LocalSwarmState;
  onAssignment(a: Assignment): void | Promise<void>;
  /** A new certificate (renewed, or for a new role). */
  onCertificate(cert: Uint8Array): void;
  onRemoved(message: string): void;
  /** The data path's state, sent with every heartbeat (issue 7); undefined: nothing to say. */
  datapathStatus?: () => DatapathReport | undefined;
  /** Requests from the leader on the session (a task's logs); none: refused. */
  onRequest?: (method: string, args: unknown) => Promise<unknown> | unknown;
  log: Logger;
  /** Per call and per dial. */
  timeoutMs?: number;
}

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5_000;

export class Session {
  readonly #o: SessionOptions;
  #rpc: Rpc | undefined;
  #leaderHint: string | undefined;
  #timer: Timer | undefined;
  #wake: (() => void) | undefined;
  #closed = false;
  #loop: Promise<void> | undefined;
  #periodMs = 5_000;
  #renewing = false;
  #role: 'manager' | 'worker' | undefined;

  constructor(o: SessionOptions) {
    this.#o = o;
  }

  /** host:port of the manager the session is open with, if any. */
  get manager(): string | undefined {
    const r = this.#rpc;
    return r && !r.closed ? `${r.conn.remote.host}:${r.conn.remote.port}` : undefined;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Ask the leader on this session (attach, detach), waiting up to timeoutMs
   * for an open session and riding out a leader change. Only for requests
   * that are safe to repeat: one may have been done when its answer was lost.
   */
  async call<T>(method: string, args: unknown, timeoutMs = 20_000): Promise<T> {
    const clock = this.#o.clock;
    const deadline = clock.nowMs() + timeoutMs;
    let last: Error | undefined;
    for (;;) {
      const rpc = this.#rpc;
      const left = deadline - clock.nowMs();
      if (rpc && !rpc.closed && left > 0) {
        try {
          return await rpc.call<T>(method, args, left);
        } catch (e) {
          const again = e instanceof ChannelClosedError || (e instanceof RemoteError && (e.code === 'ENOTLEADER' || e.code === 'ENOQUORUM'));
          if (!again) throw e;
          last = e as Error;
        }
      }
      if (this.#closed) throw new Error(`${method}: this node's session with the managers is closed`);
      if (clock.nowMs() >= deadline) throw new Error(`${method}: no answer from the managers within ${timeoutMs} ms${last ? ` (${last.message})` : ''}`);
      await new Promise<void>((r) => clock.after(RETRY_MIN_MS, r));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#timer?.cancel();
    this.#wake?.();
    this.#rpc?.close();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let backoff = 0;
    while (!this.#closed) {
      const ok = await this.#once();
      if (this.#closed) return;
      backoff = ok ? 0 : Math.min(RETRY_MAX_MS, backoff === 0 ? RETRY_MIN_MS : backoff * 2);
      await this.#sleep(backoff + Math.floor(this.#o.rand.float() * Math.max(1, backoff / 4)));
    }
  }

  /** One session: connect, open, heartbeat until it breaks. True if it got as far as opening. */
  async #once(): Promise<boolean> {
    const rpc = await this.#connect();
    if (!rpc) return false;
    this.#rpc = rpc;
    const closed = new Promise<void>((r) => rpc.onClose(() => r()));
    while (!this.#closed && !rpc.closed) {
      await Promise.race([this.#sleep(this.#periodMs), closed]);
      if (this.#closed || rpc.closed) break;
      try {
        const r = await rpc.call<{ periodMs: number }>('heartbeat', this.#heartbeatBody(), this.#timeout());
        if (typeof r?.periodMs === 'number' && r.periodMs > 0) this.#periodMs = r.periodMs;
        await this.#maybeRenew(rpc);
      } catch (e) {
        if (e instanceof RemoteError && e.code === 'EDENIED') {
          this.#removed(e.message);
          return true;
        }
        this.#o.log.info('dispatcher session lost', { manager: `${rpc.conn.remote.host}:${rpc.conn.remote.port}`, error: (e as Error).message });
        rpc.close();
      }
    }
    rpc.close();
    return true;
  }

  /** `{datapath}` when the data path has something to say, else null (what older leaders expect). */
  #heartbeatBody(): { datapath: DatapathReport } | null {
    let report: DatapathReport | undefined;
    try {
      report = this.#o.datapathStatus?.();
    } catch (e) {
      report = { networks: [], error: `the data path status could not be read: ${(e as Error).message}` };
    }
    return report ? { datapath: report } : null;
  }

  #timeout(): number {
    return this.#o.timeoutMs ?? Math.max(2_000, this.#periodMs * 2);
  }

  /** Try the leader hint, then every known manager; follow redirects. */
  async #connect(): Promise<Rpc | undefined> {
    const tried = new Set<string>();
    let redirects = 0;
    const queue = () => {
      const all = this.#o.state().managers.map((m) => m.addr);
      return [...(this.#leaderHint ? [this.#leaderHint] : []), ...all].filter((a) => !tried.has(a));
    };
    for (let next = queue()[0]; next !== undefined && !this.#closed; next = queue()[0]) {
      tried.add(next);
      let rpc: Rpc | undefined;
      try {
        const st = this.#o.state();
        const conn = await secureConnect(this.#o.transport, parseAddr(next), {
          key: this.#o.key,
          trust: { kind: 'member', root: decodeCaRoot(st.root), revoked: () => new Set(this.#revoked), cert: st.cert, wantRole: 'manager' },
          clock: this.#o.clock,
          rand: this.#o.rand,
          timeoutMs: this.#timeout(),
        });
        if (this.#closed) {
          conn.close();
          return undefined;
        }
        const onRequest = this.#o.onRequest;
        rpc = new Rpc(conn, this.#o.clock, {
          notify: (kind, body) => kind === 'assign' && void this.#assigned(body as Assignment, rpc!),
          request: (method, args, from) => {
            // Only the manager this session is open with asks (the channel is that manager's, by certificate).
            if (!onRequest || from.peer.role !== 'manager') throw new RemoteError('EDENIED', `${method}: not served here`);
            return onRequest(method, args);
          },
        });
        const a = await rpc.call<Assignment>('session.open', null, this.#timeout());
        this.#leaderHint = next;
        this.#o.log.info('dispatcher session open', { manager: next });
        await this.#assigned(a, rpc);
        return rpc;
      } catch (e) {
        rpc?.close();
        if (e instanceof RemoteError && e.code === 'ENOTLEADER' && e.leader) {
          this.#leaderHint = e.leader;
          tried.delete(e.leader);
          if (++redirects > 5) return undefined;
          continue;
        }
        if (e instanceof RemoteError && e.code === 'EDENIED') {
          this.#removed(e.message);
          return undefined;
        }
        if (e instanceof ChannelError && e.code === 'ECHAN_REFUSED' && e.reason === 'untrusted-cert') {
          this.#removed(`a manager refused this node's certificate: ${e.message}`);
          return undefined;
        }
        this.#o.log.debug('manager not reachable', { manager: next, error: (e as Error).message });
      }
    }
    this.#leaderHint = undefined;
    return undefined;
  }

  #revoked: string[] = [];

  async #assigned(a: Assignment | null, rpc: Rpc): Promise<void> {
    if (!a || this.#closed) return;
    if (a.heartbeatMs > 0) this.#periodMs = a.heartbeatMs;
    this.#revoked = a.revoked;
    this.#role = a.role;
    await this.#maybeRenew(rpc);
    try {
      await this.#o.onAssignment(a);
    } catch (e) {
      // E.g. a promotion whose manager cannot start here: said once per assignment, retried on the next.
      this.#o.log.warn('applying the assignment failed', { error: (e as Error).message });
    }
  }

  async #maybeRenew(rpc: Rpc): Promise<void> {
    if (this.#renewing || this.#closed) return;
    const cert = decodeCertificate(this.#o.state().cert);
    const roleChanged = this.#role !== undefined && cert.role !== this.#role;
    if (!roleChanged && !shouldRenew(cert, this.#o.clock.wallMs())) return;
    this.#renewing = true;
    try {
      const fresh = await rpc.call<Uint8Array>('renew', null, this.#timeout());
      if (fresh instanceof Uint8Array) {
        this.#o.onCertificate(new Uint8Array(fresh));
        this.#o.log.info('certificate renewed', { role: decodeCertificate(fresh).role, reason: roleChanged ? 'role change' : 'expiry' });
      }
    } catch (e) {
      this.#o.log.warn('certificate renewal failed', { error: (e as Error).message });
    } finally {
      this.#renewing = false;
    }
  }

  #removed(message: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.log.warn('removed from the swarm', { message });
    this.#o.onRemoved(message);
  }

  #sleep(ms: number): Promise<void> {
    this.#timer?.cancel();
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#timer = this.#o.clock.after(ms, () => resolve());
    });
  }
}
