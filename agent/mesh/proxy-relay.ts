// The TCP relay of a published port (issue 10, docs/routing-mesh.md), run by
// the agent in the host network namespace: it accepts what reaches the port
// holder, connects to the current target, writes a PROXY v2 header first
// (proxy-v2.ts) when the port asked for one (`proxy-protocol=v2`), then pipes
// both ways with backpressure. A thin driver: the only decisions it makes are
// where to connect (target()) and what to send first.
//
// Contract:
// - target() undefined (no backend): the client is destroyed at once.
// - Half-close is relayed: an end read on one side ends the other's write
//   side; a pair closes once both directions have ended.
// - An error on either side, or a side gone before the other was ended,
//   destroys both. Nothing escapes an event handler.
// - A failed upstream connect (error, or no connect within connectTimeoutMs)
//   is counted and warned about at most once per WARN_INTERVAL_MS; nothing is
//   logged per connection otherwise.
// - close() stops listening and destroys every live socket; it is idempotent.
import { createServer, Socket, type Server } from 'node:net';
import { encodeProxyV2 } from './proxy-v2.js';

export interface RelayTarget {
  host: string;
  port: number;
}

export interface RelayLog {
  warn(msg: string, fields?: Record<string, string | number | boolean | undefined>): void;
}

export interface ProxyRelayOptions {
  port: number;
  /** Where to listen (default every IPv4 address). */
  host?: string;
  /** Where an accepted connection goes now; undefined: nowhere, the client is closed. */
  target: () => RelayTarget | undefined;
  /** Whether a PROXY v2 header goes first (default true); the loopback relay of a plain port sends none. */
  proxyHeader?: boolean;
  log: RelayLog;
  /** How long an upstream connect may take (default 5000). */
  connectTimeoutMs?: number;
  /** The clock the warning rate limit reads, in ms (default performance.now). */
  nowMs?: () => number;
}

export interface RelayCounters {
  accepted: number;
  /** Closed at once: target() had nowhere to send them. */
  noTarget: number;
  /** The upstream connect failed or timed out. */
  upstreamFailed: number;
}

/** One warning per this many ms at most about failed upstream connects: a dead backend must not flood the log. */
export const WARN_INTERVAL_MS = 10_000;
/** Long enough for a loaded backend to accept, short enough that a client is not held on a dead one. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

export class ProxyRelay {
  readonly #o: ProxyRelayOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #counters: RelayCounters = { accepted: 0, noTarget: 0, upstreamFailed: 0 };
  #clients = 0;
  #lastWarnMs = -Infinity;
  #suppressed = 0;
  #closed: Promise<void> | undefined;

  private constructor(o: ProxyRelayOptions, server: Server) {
    this.#o = o;
    this.#server = server;
  }

  /** Listening, or rejected with the listen error (EADDRINUSE: the port is taken). */
  static listen(o: ProxyRelayOptions): Promise<ProxyRelay> {
    const server = createServer({ allowHalfOpen: true });
    const relay = new ProxyRelay(o, server);
    server.on('connection', (s: Socket) => relay.#accept(s));
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => reject(e);
      server.once('error', fail);
      server.listen({ port: o.port, host: o.host ?? '0.0.0.0' }, () => {
        server.off('error', fail);
        // After listening, a server error (e.g. EMFILE on accept) must not crash the daemon.
        server.on('error', () => {});
        resolve(relay);
      });
    });
  }

  /** The port listened on (the one the kernel chose, when asked for port 0). */
  get port(): number {
    const a = this.#server.address();
    return a !== null && typeof a === 'object' ? a.port : this.#o.port;
  }

  /** Client connections accepted and not yet closed. */
  get connections(): number {
    return this.#clients;
  }

  get counters(): Readonly<RelayCounters> {
    return { ...this.#counters };
  }

  /** Stop listening and destroy every live connection. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const s of this.#sockets) s.destroy();
    });
    return this.#closed;
  }

  #accept(client: Socket): void {
    this.#counters.accepted++;
    this.#clients++;
    this.#track(client);
    client.once('close', () => this.#clients--);
    let upstream: Socket | undefined;
    client.on('error', () => {
      client.destroy();
      upstream?.destroy();
    });
    if (this.#closed) return void client.destroy();
    let target: RelayTarget | undefined;
    let header: Uint8Array | undefined;
    try {
      target = this.#o.target();
      if (target && this.#o.proxyHeader !== false) {
        header = encodeProxyV2({
          source: { address: client.remoteAddress!, port: client.remotePort! },
          destination: { address: client.localAddress!, port: client.localPort! },
        });
      }
    } catch {
      // A throwing target() or a socket already gone (no addresses): treat as nowhere to go.
      target = undefined;
    }
    if (!target) {
      this.#counters.noTarget++;
      return void client.destroy();
    }
    upstream = this.#pair(client, target, header);
  }

  /** The upstream socket piped to client, or undefined (and client destroyed) if it cannot even be tried. */
  #pair(client: Socket, target: RelayTarget, header: Uint8Array | undefined): Socket | undefined {
    const upstream = new Socket({ allowHalfOpen: true });
    try {
      upstream.connect({ host: target.host, port: target.port });
    } catch (e) {
      // node:net throws at once on a bad port, with the handle already made: a bad target, counted like a refused one.
      upstream.destroy();
      this.#counters.upstreamFailed++;
      this.#warn(target, (e as Error).message);
      client.destroy();
      return undefined;
    }
    this.#track(upstream);
    let settled = false; // connected, or failed and counted
    const both = () => {
      client.destroy();
      upstream.destroy();
    };
    const failed = (why: string) => {
      if (settled) return;
      settled = true;
      this.#counters.upstreamFailed++;
      this.#warn(target, why);
    };
    const timer = setTimeout(() => {
      failed(`no connection within ${this.#o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS} ms`);
      both();
    }, this.#o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    upstream.once('connect', () => {
      settled = true;
      clearTimeout(timer);
    });
    upstream.on('error', (e) => {
      failed(e.message);
      both();
    });
    // A side gone by error, or before the other was ended (reset, destroyed), leaves nothing to relay to.
    client.once('close', (hadError: boolean) => {
      clearTimeout(timer);
      if (hadError || !upstream.writableEnded) upstream.destroy();
    });
    upstream.once('close', (hadError: boolean) => {
      clearTimeout(timer);
      if (hadError || !client.writableEnded) client.destroy();
    });
    // Writes before 'connect' are queued by the socket, the header ahead of the payload.
    if (header) upstream.write(header);
    client.pipe(upstream);
    upstream.pipe(client);
    return upstream;
  }

  #track(s: Socket): void {
    this.#sockets.add(s);
    s.once('close', () => this.#sockets.delete(s));
  }

  #warn(target: RelayTarget, error: string): void {
    const now = (this.#o.nowMs ?? (() => performance.now()))();
    if (now - this.#lastWarnMs < WARN_INTERVAL_MS) {
      this.#suppressed++;
      return;
    }
    this.#lastWarnMs = now;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    this.#o.log.warn('could not connect to the backend of a published port', {
      port: this.port,
      target: `${target.host}:${target.port}`,
      error,
      ...(suppressed > 0 ? { suppressed } : {}),
    });
  }
}
