// The transport seams (STYLE habit 2): one for datagrams (gossip, the data
// path) and one for byte streams (Raft, the local API, state pushes). Every
// protocol takes these interfaces, never node:dgram or node:net. Real
// implementations live in udp.ts and tcp.ts; memnet.ts is the in-memory fake
// with seeded faults. One contract suite (test/unit/shared/transport-contract.ts)
// runs against both so the fake cannot drift from the real thing.

/** An IPv4 socket address. */
export interface Addr {
  host: string;
  port: number;
}

/** "host:port", the key to index peers and sockets by. */
export function addrKey(a: Addr): string {
  return `${a.host}:${a.port}`;
}

/** Error codes the seams promise; callers branch on `err.code`, never on the message. */
export type TransportErrorCode = 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'ECONNREFUSED' | 'ETIMEDOUT' | 'ECONNRESET';

/** An Error with a stable `code`, shaped like Node's system errors so both sources look alike. */
export interface TransportError extends Error {
  code: string;
}

export function transportError(code: TransportErrorCode, message: string): TransportError {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

export interface DatagramTransport {
  /**
   * Bind a socket. Port 0 asks for an ephemeral port (read it from `local`).
   * Rejects with `code` 'EADDRINUSE' when the address is taken.
   */
  bind(addr: Addr): Promise<DatagramSocket>;
}

/**
 * An unconnected datagram socket.
 *
 * - `send` is fire-and-forget: datagrams may be lost, duplicated or reordered,
 *   and errors are never reported (the data path drops and counts, STYLE habit 8).
 * - Datagrams that arrive before any `onMessage` callback is registered are dropped.
 * - After `close()`: `send` is a silent no-op, no callback fires again, and
 *   calling `close()` again returns the same settled promise.
 */
export interface DatagramSocket {
  readonly local: Addr;
  send(data: Uint8Array, to: Addr): void;
  /** Add a receive callback; `data` is owned by the callee; `from` is valid during the call only (copy it to keep it). */
  onMessage(cb: (data: Uint8Array, from: Addr) => void): void;
  close(): Promise<void>;
}

export interface StreamTransport {
  /**
   * Accept connections on addr (port 0 = ephemeral). `onConn` gets each
   * accepted stream. Rejects with 'EADDRINUSE' when the address is taken.
   */
  listen(addr: Addr, onConn: (s: Stream) => void): Promise<StreamListener>;
  /**
   * Open a stream. Rejects with 'ECONNREFUSED' when nothing listens there and
   * with 'ETIMEDOUT' when no answer comes within `timeoutMs`.
   */
  connect(to: Addr, opts?: { timeoutMs?: number }): Promise<Stream>;
}

export interface StreamListener {
  readonly local: Addr;
  /** Stop accepting. Streams already accepted stay open. Idempotent. */
  close(): Promise<void>;
}

/**
 * A reliable, ordered byte stream. Chunk boundaries are NOT preserved: the
 * reader gets the same bytes in the same order, split and merged arbitrarily.
 *
 * Closing:
 * - `end()` is graceful: everything written so far is delivered, then the
 *   peer's `onClose()` fires with no error. Data the peer still sends may
 *   arrive until the peer's side closes, then our `onClose()` fires.
 * - `destroy(err?)` aborts: pending data is discarded, our `onClose(err)`
 *   fires at once (err may be undefined), and the peer sees `onClose(e)` with
 *   `e.code === 'ECONNRESET'`.
 * - Either side sees `onClose(e)` with 'ETIMEDOUT' when the path has been dead
 *   too long (memnet: a stall longer than its stall timeout).
 * - Exactly one `onClose` per side. After it: `write`/`end`/`destroy` are silent
 *   no-ops and no more data is delivered.
 *
 * Data that arrives before the first `onData` is registered is buffered and
 * handed to that first callback when it is registered; an `onClose` registered
 * after the stream closed is called at once.
 */
export interface Stream {
  readonly local: Addr;
  readonly remote: Addr;
  write(data: Uint8Array): void;
  onData(cb: (d: Uint8Array) => void): void;
  onClose(cb: (err?: Error) => void): void;
  end(): void;
  destroy(err?: Error): void;
}

/** Strict dotted-quad check, so a typo fails at the boundary with an exact message. */
export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

export function checkAddr(what: string, a: Addr): void {
  if (!isIPv4(a.host)) throw new TypeError(`${what}: host must be a dotted-quad IPv4 address, got ${JSON.stringify(a.host)}`);
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65_535) {
    throw new RangeError(`${what}: port must be an integer in 0..65535, got ${a.port}`);
  }
}
