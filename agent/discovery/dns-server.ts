// The embedded DNS server (issue 9, DESIGN §5): UDP and TCP on one address
// and port (the gwbridge IP, port 53), answering only this node's endpoints.
// A thin shell: what to answer is dns-answer.ts; here are sockets, framing,
// the upstream exchange and the clock. Nothing a client sends can throw out
// of a socket handler: a bad message is a counter, never a log line.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, isIP, isIPv6, type Server, type Socket } from 'node:net';
import type { Clock, Timer } from '../../shared/clock.js';
import type { Rand } from '../../shared/rand.js';
import type { Logger } from '../daemon/log.js';
import { answerMessage, judgeUpstream, rcodeReply, relayReply, upstreamQuery, RCODE, type Query, type Transport } from './dns-answer.js';
import type { Asker, DiscoveryView } from './records.js';

/** The whole budget of one forwarded query, shared out evenly among the upstreams (glibc's default is 5 s per try; clients give up sooner). */
export const DEFAULT_FORWARD_TIMEOUT_MS = 2000;
/** Forwarded queries in flight at once; beyond, SERVFAIL at once: memory and sockets stay bounded whatever clients do. */
export const MAX_FORWARDS_IN_FLIGHT = 256;
/** RFC 7766 §6.2.3: close TCP connections idle this long (a few seconds is the recommendation's order). */
export const TCP_IDLE_MS = 10_000;
/** TCP clients at once (node drops connections beyond). */
export const MAX_TCP_CONNECTIONS = 128;
/** Reply bytes a TCP client may leave unread before it is cut off. */
export const MAX_TCP_PENDING_BYTES = 256 * 1024;
/** Attempts at one ephemeral port free for both UDP and TCP (port 0, tests). */
const EPHEMERAL_ATTEMPTS = 8;
const LENGTH_BYTES = 2;

export interface DnsServerOptions {
  /** The address to listen on (the gwbridge IP). */
  address: string;
  /** The port for both UDP and TCP; 0 picks a free one (tests). */
  port: number;
  view: DiscoveryView;
  /** The local endpoint with this source address, or undefined: a stranger, REFUSED. */
  askerOf(ip: string): Asker | undefined;
  /** The host's resolvers, asked anew for every forwarded query. */
  upstreams(): readonly { host: string; port: number }[];
  rand: Rand;
  clock: Clock;
  log: Logger;
  /** DEFAULT_FORWARD_TIMEOUT_MS when absent. */
  timeoutMs?: number;
}

/**
 * Counters since start. Every query ends in exactly one of the outcomes, so
 * queries = answered + forwarded + refused + formerr + notimp + servfail +
 * dropped + the forwards still in flight. truncated counts replies sent with
 * TC (answered or forwarded ones), apart from that sum.
 */
export interface DnsStats {
  queries: number;
  /** Answered from our records (records, NOERROR without records, NXDOMAIN). */
  answered: number;
  /** Relayed from an upstream. */
  forwarded: number;
  refused: number;
  formerr: number;
  notimp: number;
  servfail: number;
  /** Not answered: shorter than a header, a response (QR set), cut off by close(), or a failure of ours (logged once). */
  dropped: number;
  truncated: number;
}

type Send = (bytes: Buffer) => void;

export class DnsServer {
  readonly local: { udp: number; tcp: number };
  readonly stats: DnsStats = { queries: 0, answered: 0, forwarded: 0, refused: 0, formerr: 0, notimp: 0, servfail: 0, dropped: 0, truncated: 0 };
  readonly #o: DnsServerOptions;
  readonly #timeoutMs: number;
  readonly #udp: UdpSocket;
  readonly #tcp: Server;
  readonly #conns = new Set<TcpConn>();
  readonly #aborts = new Set<() => void>();
  #forwarding = 0;
  #closing: Promise<void> | undefined;
  #warnedNoUpstream = false;
  #loggedFailure = false;

  private constructor(o: DnsServerOptions, udp: UdpSocket, tcp: Server) {
    this.#o = o;
    this.#timeoutMs = o.timeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS;
    this.#udp = udp;
    this.#tcp = tcp;
    this.local = { udp: udp.address().port, tcp: (tcp.address() as { port: number }).port };
    udp.on('message', (msg, rinfo) => this.#serve(msg, rinfo.address, 'udp', (b) => this.#sendUdp(b, rinfo.port, rinfo.address)));
    // Late socket errors must not crash the daemon; the socket stays up.
    udp.on('error', (e) => o.log.warn('dns: udp socket error', { error: e.message }));
    tcp.on('error', (e) => o.log.warn('dns: tcp listener error', { error: e.message }));
    tcp.on('connection', (sock) => this.#accept(sock));
    tcp.maxConnections = MAX_TCP_CONNECTIONS;
  }

  /** Listen on UDP and TCP at address:port; rejects with one line naming what could not be bound. */
  static async start(o: DnsServerOptions): Promise<DnsServer> {
    if (isIP(o.address) === 0) throw new Error(`DnsServer.start: address must be an IP address, got ${JSON.stringify(o.address)}`);
    if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65_535) throw new Error(`DnsServer.start: port must be an integer in 0..65535, got ${o.port}`);
    if (o.timeoutMs !== undefined && !(Number.isInteger(o.timeoutMs) && o.timeoutMs > 0)) {
      throw new Error(`DnsServer.start: timeoutMs must be a positive integer, got ${o.timeoutMs}`);
    }
    for (let attempt = 1; ; attempt++) {
      const udp = await bindUdp(o.address, o.port);
      const port = udp.address().port;
      try {
        const tcp = await listenTcp(o.address, port);
        const server = new DnsServer(o, udp, tcp);
        o.log.info('dns: listening', { address: o.address, port });
        return server;
      } catch (e) {
        await new Promise<void>((r) => udp.close(() => r()));
        const inUse = (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (o.port !== 0 || !inUse || attempt >= EPHEMERAL_ATTEMPTS) {
          throw new Error(`dns: cannot listen on ${o.address}:${port}/tcp: ${(e as Error).message}`);
        }
      }
    }
  }

  /** Stop listening, cut TCP clients off and abandon forwards (counted dropped). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const abort of [...this.#aborts]) abort();
      for (const c of [...this.#conns]) c.destroy();
      await Promise.all([
        new Promise<void>((r) => this.#udp.close(() => r())),
        new Promise<void>((r) => this.#tcp.close(() => r())),
      ]);
    })();
    return this.#closing;
  }

  /** One query from ip: answer, refuse, drop or forward it. send gets at most one reply; false: it never will. */
  #serve(msg: Buffer, ip: string, transport: Transport, send: Send): boolean {
    if (this.#closing !== undefined) return false;
    this.stats.queries++;
    try {
      const asker = this.#o.askerOf(plainIp(ip));
      const step = answerMessage(msg, transport, asker, this.#o.view, this.#o.rand);
      if (step.kind === 'drop') {
        this.stats.dropped++;
        return false;
      }
      if (step.kind === 'reply') {
        this.stats[step.outcome]++;
        if (step.truncated) this.stats.truncated++;
        send(step.bytes);
        return true;
      }
      if (asker?.internal === true) {
        // No way out for it, names included: a forward would carry its data out through the host's resolvers.
        this.stats.servfail++;
        send(rcodeReply(step.query, RCODE.SERVFAIL));
        return true;
      }
      this.#forward(msg, step.query, send);
      return true;
    } catch (e) {
      // A bug of ours or a throwing seam: counted, logged once, and the daemon stays up.
      this.stats.dropped++;
      if (!this.#loggedFailure) {
        this.#loggedFailure = true;
        this.#o.log.error('dns: query failed; later failures are counted as dropped only', { error: (e as Error).message });
      }
      return false;
    }
  }

  /** Ask the upstreams in order, each within its share of the budget; the first answer wins, none is SERVFAIL. */
  #forward(msg: Buffer, q: Query, send: Send): void {
    const upstreams = this.#o.upstreams().filter((u) => !(u.host === this.#o.address && (u.port === this.local.udp || u.port === this.local.tcp)));
    if (upstreams.length === 0 || this.#forwarding >= MAX_FORWARDS_IN_FLIGHT) {
      if (upstreams.length === 0 && !this.#warnedNoUpstream) {
        this.#warnedNoUpstream = true;
        this.#o.log.warn('dns: no upstream resolver; names not ours get SERVFAIL');
      }
      this.stats.servfail++;
      send(rcodeReply(q, RCODE.SERVFAIL));
      return;
    }
    this.#forwarding++;
    const budgetMs = Math.max(1, Math.floor(this.#timeoutMs / upstreams.length));
    const run = async () => {
      for (const up of upstreams) {
        const id = this.#o.rand.int(0x1_0000);
        const m = await this.#exchange(up, upstreamQuery(msg, id), (x) => judgeUpstream(q, id, x), budgetMs);
        if (this.#closing !== undefined) return 'dropped';
        if (m !== undefined) {
          const { bytes, truncated } = relayReply(q, m);
          if (truncated) this.stats.truncated++;
          send(bytes);
          return 'forwarded';
        }
      }
      send(rcodeReply(q, RCODE.SERVFAIL));
      return 'servfail';
    };
    run().then(
      (outcome) => {
        this.#forwarding--;
        this.stats[outcome]++;
      },
      () => {
        this.#forwarding--;
        this.stats.servfail++;
      },
    );
  }

  /**
   * One upstream, within budgetMs: the query over UDP (a connected socket, so
   * an ICMP refusal ends the wait at once), again over TCP when the answer
   * came truncated. Resolves with the answer, or undefined (timeout, error,
   * SERVFAIL/REFUSED, close()). Never rejects.
   */
  #exchange(up: { host: string; port: number }, query: Buffer, judge: (m: Buffer) => ReturnType<typeof judgeUpstream>, budgetMs: number): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      let udp: UdpSocket | undefined;
      let tcp: Socket | undefined;
      let done = false;
      const finish = (m: Buffer | undefined) => {
        if (done) return;
        done = true;
        timer.cancel();
        this.#aborts.delete(abort);
        closeUdp();
        tcp?.destroy();
        resolve(m);
      };
      const abort = () => finish(undefined);
      const closeUdp = () => {
        const s = udp;
        udp = undefined;
        try {
          s?.close();
        } catch {
          // already closed
        }
      };
      const overTcp = () => {
        if (tcp !== undefined) return;
        closeUdp();
        let buf = Buffer.alloc(0);
        tcp = connect({ host: up.host, port: up.port });
        tcp.on('error', abort);
        tcp.on('close', abort);
        tcp.on('connect', () => tcp?.write(frame(query)));
        tcp.on('data', (chunk: Buffer) => {
          buf = Buffer.concat([buf, chunk]);
          if (buf.length < LENGTH_BYTES || buf.length < LENGTH_BYTES + buf.readUInt16BE(0)) return;
          const m = Buffer.from(buf.subarray(LENGTH_BYTES, LENGTH_BYTES + buf.readUInt16BE(0)));
          // One message per exchange: anything but an answer (TC again over TCP, a stray) fails this upstream.
          finish(judge(m) === 'answer' ? m : undefined);
        });
      };
      const timer: Timer = this.#o.clock.after(budgetMs, abort);
      this.#aborts.add(abort);
      try {
        udp = createSocket(isIPv6(up.host) ? 'udp6' : 'udp4');
        udp.on('error', abort);
        udp.on('message', (m) => {
          const v = judge(m);
          if (v === 'answer') finish(m);
          else if (v === 'next') finish(undefined);
          else if (v === 'truncated' && !done) overTcp();
          // 'ignore': a stray or spoofed datagram; keep waiting for ours.
        });
        // Node calls back with the error when the connect fails (no route to the upstream, say): this upstream is
        // then done. A send on the socket left unconnected would throw out of the callback and end the daemon.
        udp.connect(up.port, up.host, (err?: Error) => (err ? abort() : udp?.send(query)));
      } catch {
        abort();
      }
    });
  }

  #sendUdp(bytes: Buffer, port: number, address: string): void {
    if (this.#closing !== undefined) return;
    try {
      this.#udp.send(bytes, port, address, () => {
        // A failed send (the client vanished) is the client's loss; nothing to count twice.
      });
    } catch {
      // closed underneath us
    }
  }

  #accept(sock: Socket): void {
    if (this.#closing !== undefined) {
      sock.destroy();
      return;
    }
    const ip = sock.remoteAddress ?? '';
    const conn = new TcpConn(sock, this.#o.clock, (msg, send) => this.#serve(msg, ip, 'tcp', send), () => this.#conns.delete(conn));
    this.#conns.add(conn);
  }
}

/**
 * One TCP client (RFC 7766): two-byte length framing, several queries per
 * connection answered as they complete, closed when idle, when it stops
 * reading our replies, or after its half-close once every reply is out.
 */
class TcpConn {
  readonly #sock: Socket;
  readonly #clock: Clock;
  #buf: Buffer = Buffer.alloc(0);
  #pending = 0;
  #readEnded = false;
  #idle: Timer | undefined;

  constructor(sock: Socket, clock: Clock, serve: (msg: Buffer, send: Send) => boolean, onClose: () => void) {
    this.#sock = sock;
    this.#clock = clock;
    this.#armIdle();
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      this.#idle?.cancel();
      onClose();
    });
    sock.on('end', () => {
      this.#readEnded = true;
      this.#maybeEnd();
    });
    sock.on('data', (chunk: Buffer) => {
      this.#armIdle();
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      // At most one partial message (< 2 + 65,535 bytes) stays buffered between chunks.
      while (!sock.destroyed && this.#buf.length >= LENGTH_BYTES) {
        const len = this.#buf.readUInt16BE(0);
        if (this.#buf.length < LENGTH_BYTES + len) break;
        const msg = Buffer.from(this.#buf.subarray(LENGTH_BYTES, LENGTH_BYTES + len));
        this.#buf = this.#buf.subarray(LENGTH_BYTES + len);
        this.#pending++;
        if (!serve(msg, (bytes) => this.#reply(bytes))) this.#pending--;
      }
    });
  }

  destroy(): void {
    this.#sock.destroy();
  }

  #reply(bytes: Buffer): void {
    this.#pending--;
    const sock = this.#sock;
    if (sock.destroyed) return;
    sock.write(frame(bytes));
    if (sock.writableLength > MAX_TCP_PENDING_BYTES) sock.destroy();
    else this.#maybeEnd();
  }

  #maybeEnd(): void {
    if (this.#readEnded && this.#pending === 0 && !this.#sock.destroyed) this.#sock.end();
  }

  #armIdle(): void {
    this.#idle?.cancel();
    this.#idle = this.#clock.after(TCP_IDLE_MS, () => {
      if (this.#pending > 0) this.#armIdle();
      else this.#sock.destroy();
    });
  }
}

function frame(bytes: Buffer): Buffer {
  const len = Buffer.alloc(LENGTH_BYTES);
  len.writeUInt16BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** An IPv4 client seen through a dual-stack socket arrives as ::ffff:a.b.c.d. */
function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice('::ffff:'.length) : ip;
}

function bindUdp(address: string, port: number): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    const onError = (e: Error) => {
      sock.close();
      reject(new Error(`dns: cannot listen on ${address}:${port}/udp: ${e.message}`));
    };
    sock.once('error', onError);
    sock.bind(port, address, () => {
      sock.off('error', onError);
      resolve(sock);
    });
  });
}

function listenTcp(address: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: a client may send its queries and half-close; it still gets every reply.
    const server = createServer({ allowHalfOpen: true });
    server.once('error', reject);
    server.listen({ host: address, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
