// Requests, answers and one-way notes over one 2377 SecureConn
// (control-wire.ts). Either side may call the other. A malformed message
// closes the channel (counted); a request nobody answers in time rejects
// with RemoteError EUNKNOWN; when the channel closes, pending calls reject
// with ChannelClosedError.
import type { Clock, Timer } from '../../shared/clock.js';
import type { SecureConn, SecurePeer } from '../cluster/channel/index.js';
import { ControlWireError, decodeControl, encodeControl, type RemoteCode, type RemoteErrorBody } from './control-wire.js';

/** An error a peer answered with. */
export class RemoteError extends Error {
  override name = 'RemoteError';
  constructor(
    readonly code: RemoteCode,
    message: string,
    readonly leader?: string,
  ) {
    super(message);
  }
  body(): RemoteErrorBody {
    return this.leader === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, leader: this.leader };
  }
}

/** The channel closed before the answer came. */
export class ChannelClosedError extends Error {
  override name = 'ChannelClosedError';
}

export interface RpcHandlers {
  /** Answer a request; throw RemoteError to answer with its code, anything else answers EINVAL with its message. */
  request?(method: string, args: unknown, rpc: Rpc): Promise<unknown> | unknown;
  notify?(kind: string, body: unknown, rpc: Rpc): void;
}

export interface RpcStats {
  malformed: number;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: Timer;
}

export class Rpc {
  readonly #conn: SecureConn;
  readonly #clock: Clock;
  readonly #pending = new Map<number, Pending>();
  readonly #closeCbs: ((err?: Error) => void)[] = [];
  #handlers: RpcHandlers;
  #nextId = 1;
  #closed = false;

  constructor(conn: SecureConn, clock: Clock, handlers: RpcHandlers, readonly stats: RpcStats = { malformed: 0 }) {
    this.#conn = conn;
    this.#clock = clock;
    this.#handlers = handlers;
    conn.onMessage((bytes) => this.#message(bytes));
    conn.onClose((err) => this.#onClose(err));
  }

  get peer(): SecurePeer {
    return this.#conn.peer;
  }
  get conn(): SecureConn {
    return this.#conn;
  }
  get closed(): boolean {
    return this.#closed;
  }

  setHandlers(h: RpcHandlers): void {
    this.#handlers = h;
  }

  call<T = unknown>(method: string, args: unknown, timeoutMs: number): Promise<T> {
    if (this.#closed) return Promise.reject(new ChannelClosedError(`the channel to ${this.#conn.peer.nodeId} is closed`));
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xffff_ffff ? 1 : this.#nextId + 1;
    return new Promise<T>((resolve, reject) => {
      const timer = this.#clock.after(timeoutMs, () => {
        this.#pending.delete(id);
        reject(new RemoteError('EUNKNOWN', `${method}: no answer from ${this.#conn.remote.host}:${this.#conn.remote.port} within ${timeoutMs} ms`));
      });
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        this.#conn.send(encodeControl({ t: 'request', id, method, args }));
      } catch (e) {
        // Too large, or not encodable: nothing was sent, so nothing is pending.
        timer.cancel();
        this.#pending.delete(id);
        reject(e as Error);
      }
    });
  }

  notify(kind: string, body: unknown): void {
    if (this.#closed) return;
    this.#conn.send(encodeControl({ t: 'notify', kind, body }));
  }

  onClose(cb: (err?: Error) => void): void {
    if (this.#closed) cb();
    else this.#closeCbs.push(cb);
  }

  close(): void {
    this.#conn.close();
  }

  #message(bytes: Uint8Array): void {
    let m;
    try {
      m = decodeControl(bytes);
    } catch (e) {
      if (!(e instanceof ControlWireError)) throw e;
      this.stats.malformed++;
      this.#conn.close();
      return;
    }
    if (m.t === 'response') {
      const p = this.#pending.get(m.id);
      if (!p) return; // late: its caller timed out
      this.#pending.delete(m.id);
      p.timer.cancel();
      if (m.ok) p.resolve(m.value);
      else p.reject(new RemoteError(m.error.code, m.error.message, m.error.leader));
      return;
    }
    if (m.t === 'notify') {
      this.#handlers.notify?.(m.kind, m.body, this);
      return;
    }
    const reqId = m.id;
    const method = m.method;
    const answer = (r: { ok: true; value: unknown } | { ok: false; error: RemoteErrorBody }): void => {
      if (this.#closed) return;
      try {
        this.#conn.send(encodeControl(r.ok ? { t: 'response', id: reqId, ok: true, value: r.value } : { t: 'response', id: reqId, ok: false, error: r.error }));
      } catch (e) {
        // An answer too large to send (or not encodable) is still answered, as an error.
        if (!r.ok) return;
        this.#conn.send(encodeControl({ t: 'response', id: reqId, ok: false, error: { code: 'EINVAL', message: `${method}: ${(e as Error).message}` } }));
      }
    };
    const handler = this.#handlers.request;
    if (!handler) return answer({ ok: false, error: { code: 'EINVAL', message: `${m.method}: not served here` } });
    Promise.resolve()
      .then(() => handler(m.method, m.args, this))
      .then(
        (value) => answer({ ok: true, value: value ?? null }),
        (e: unknown) => answer({ ok: false, error: e instanceof RemoteError ? e.body() : { code: 'EINVAL', message: e instanceof Error ? e.message : String(e) } }),
      );
  }

  #onClose(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [, p] of this.#pending) {
      p.timer.cancel();
      p.reject(new ChannelClosedError(`the channel to ${this.#conn.remote.host}:${this.#conn.remote.port} closed${err ? `: ${err.message}` : ''}`));
    }
    this.#pending.clear();
    for (const cb of this.#closeCbs.splice(0)) cb(err);
  }
}
