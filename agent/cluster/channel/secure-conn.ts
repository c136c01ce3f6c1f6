// An established 2377 channel (issue 4): application messages in and out of
// a TransportSession over a FramedStream. A frame that does not decode or
// authenticate closes the connection and is counted (stats.badFrames); it
// is never thrown at the caller.
import type { Certificate } from '../ca/certificate.js';
import type { NodeRole } from '../store/types.js';
import type { Addr } from '../../../shared/transport/types.js';
import { ChannelError } from './errors.js';
import type { FramedStream } from './framed-stream.js';
import type { ChannelStats } from './stats.js';
import type { TransportSession } from './transport-session.js';

/** Who is at the other end, as the handshake proved it. */
export interface SecurePeer {
  /** Node id of the peer's static key (keyId, ../ca/node-key.ts). */
  nodeId: string;
  /** From the certificate, or, for a joiner, the role its token grants. */
  role: NodeRole;
  /** True for a joiner that proved a join token and has no certificate yet. */
  joining: boolean;
  /** The peer's verified certificate; absent for a joiner. */
  cert?: Certificate;
  /** The X25519 static key the peer proved in the handshake. */
  publicKey: Uint8Array;
}

/**
 * A secure connection. Messages are delivered whole and in order.
 * - Messages that arrive before the first onMessage are held for it.
 * - Exactly one onClose per connection: with no error after close() or a
 *   graceful close by the peer, with an error otherwise. An onClose
 *   registered after that is called at once.
 * - After close, send() is a silent no-op.
 */
export interface SecureConn {
  readonly peer: SecurePeer;
  /** The role the responder accepted this side in (for a joiner: its new role). */
  readonly localRole: NodeRole;
  readonly local: Addr;
  readonly remote: Addr;
  /** Queue one message; throws RangeError when it is over the message limit. */
  send(msg: Uint8Array): void;
  onMessage(cb: (msg: Uint8Array) => void): void;
  onClose(cb: (err?: Error) => void): void;
  /** Graceful: what was sent is delivered, then the peer sees onClose(). Idempotent. */
  close(): void;
}

export class SecureChannel implements SecureConn {
  readonly local: Addr;
  readonly remote: Addr;
  readonly #framed: FramedStream;
  readonly #session: TransportSession;
  readonly #stats: ChannelStats;
  readonly #msgCbs: ((msg: Uint8Array) => void)[] = [];
  readonly #closeCbs: ((err?: Error) => void)[] = [];
  #held: Uint8Array[] | null = [];
  #closed = false;
  #closeErr: Error | undefined;

  constructor(framed: FramedStream, session: TransportSession, readonly peer: SecurePeer, readonly localRole: NodeRole, stats: ChannelStats) {
    this.#framed = framed;
    this.#session = session;
    this.#stats = stats;
    this.local = framed.stream.local;
    this.remote = framed.stream.remote;
    framed.handler = {
      frame: (body) => this.#frame(body),
      bad: (err) => this.#fail(err),
      closed: (err) => this.#finish(err),
    };
  }

  send(msg: Uint8Array): void {
    if (!(msg instanceof Uint8Array)) throw new TypeError(`send: msg must be a Uint8Array, got ${typeof msg}`);
    if (this.#closed) return;
    this.#framed.write(this.#session.seal(msg));
  }

  onMessage(cb: (msg: Uint8Array) => void): void {
    this.#msgCbs.push(cb);
    const held = this.#held;
    if (held === null) return;
    this.#held = null;
    for (const m of held) cb(m);
  }

  onClose(cb: (err?: Error) => void): void {
    if (this.#closed) cb(this.#closeErr);
    else this.#closeCbs.push(cb);
  }

  close(): void {
    if (this.#closed) return;
    this.#framed.end();
    this.#finish(undefined);
  }

  #frame(body: Uint8Array): void {
    if (this.#closed) return;
    let msg: Uint8Array | undefined;
    try {
      msg = this.#session.open(body);
    } catch (e) {
      this.#fail(e instanceof ChannelError ? e : new ChannelError('ECHAN_PROTOCOL', `channel: ${(e as Error).message}`));
      return;
    }
    if (msg === undefined) return;
    if (this.#held !== null) this.#held.push(msg);
    else for (const cb of this.#msgCbs) cb(msg);
  }

  #fail(err: ChannelError): void {
    if (this.#closed) return;
    this.#stats.badFrames++;
    this.#framed.destroy(err);
    this.#finish(err);
  }

  #finish(err: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeErr = err;
    this.#held = null;
    this.#session.wipe();
    const cbs = this.#closeCbs.splice(0);
    for (const cb of cbs) cb(err);
  }
}
