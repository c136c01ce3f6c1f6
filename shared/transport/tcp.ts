// The real StreamTransport over node:net (works on Node 20 and Deno 2).
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { realClock, type Clock } from '../clock.js';
import { StreamEvents } from './stream-events.js';
import { checkAddr, transportError, type Addr, type Stream, type StreamListener, type StreamTransport } from './types.js';

export interface TcpOptions {
  /** Times connect timeouts; the real clock unless a test injects one. */
  clock?: Clock;
}

export function tcpTransport(opts: TcpOptions = {}): StreamTransport {
  const clock = opts.clock ?? realClock();
  return {
    listen: (addr, onConn) => listenTcp(addr, onConn),
    connect: (to, o) => connectTcp(clock, to, o?.timeoutMs),
  };
}

function listenTcp(addr: Addr, onConn: (s: Stream) => void): Promise<StreamListener> {
  checkAddr('tcp listen', addr);
  return new Promise((resolve, reject) => {
    const server = createServer((sock) => onConn(new TcpStream(sock)));
    const onListenError = (err: Error) => {
      server.close();
      reject(err);
    };
    server.once('error', onListenError);
    server.listen({ host: addr.host, port: addr.port, exclusive: true }, () => {
      server.off('error', onListenError);
      server.on('error', () => {}); // accept errors (EMFILE) must not crash the daemon
      resolve(new TcpListener(server));
    });
  });
}

class TcpListener implements StreamListener {
  readonly local: Addr;
  #server: Server;
  #closing: Promise<void> | undefined;

  constructor(server: Server) {
    this.#server = server;
    const a = server.address();
    if (a === null || typeof a === 'string') throw new Error('tcp listen: server has no inet address');
    this.local = { host: a.address, port: a.port };
  }

  close(): Promise<void> {
    // server.close()'s callback waits for every accepted socket to end; the
    // contract only promises that accepting stops, which happens at once.
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close();
      setImmediate(resolve);
    });
    return this.#closing;
  }
}

function connectTcp(clock: Clock, to: Addr, timeoutMs: number | undefined): Promise<Stream> {
  checkAddr('tcp connect', to);
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host: to.host, port: to.port });
    const timer =
      timeoutMs === undefined
        ? undefined
        : clock.after(timeoutMs, () => {
            sock.destroy();
            reject(transportError('ETIMEDOUT', `connect to ${to.host}:${to.port} timed out after ${timeoutMs} ms`));
          });
    const onError = (err: Error) => {
      timer?.cancel();
      sock.destroy();
      reject(err);
    };
    sock.once('error', onError);
    sock.once('connect', () => {
      timer?.cancel();
      sock.off('error', onError);
      resolve(new TcpStream(sock));
    });
  });
}

class TcpStream implements Stream {
  readonly local: Addr;
  readonly remote: Addr;
  #sock: Socket;
  #ev = new StreamEvents();
  #err: Error | undefined;
  #writable = true;

  constructor(sock: Socket) {
    this.#sock = sock;
    // Small control messages (Raft heartbeats) must not wait on Nagle.
    sock.setNoDelay(true);
    this.local = { host: sock.localAddress ?? '', port: sock.localPort ?? 0 };
    this.remote = { host: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 };
    sock.on('data', (b: Buffer) => this.#ev.data(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
    // allowHalfOpen is off, so Node answers the peer's FIN with ours and then
    // emits 'close'; 'end' only tells us to stop writing.
    sock.on('end', () => (this.#writable = false));
    sock.on('error', (err) => (this.#err ??= err));
    sock.on('close', () => {
      this.#writable = false;
      this.#ev.close(this.#err);
    });
  }

  write(data: Uint8Array): void {
    if (!this.#writable || this.#ev.closed) return;
    this.#sock.write(data);
  }

  onData(cb: (d: Uint8Array) => void): void {
    this.#ev.onData(cb);
  }

  onClose(cb: (err?: Error) => void): void {
    this.#ev.onClose(cb);
  }

  end(): void {
    if (!this.#writable) return;
    this.#writable = false;
    this.#sock.end();
  }

  destroy(err?: Error): void {
    if (this.#ev.closed) return;
    this.#writable = false;
    // A plain destroy() sends FIN, which the peer could not tell from end();
    // an RST makes the abort visible as ECONNRESET.
    const s = this.#sock as Socket & { resetAndDestroy?: () => Socket };
    if (typeof s.resetAndDestroy === 'function' && !s.connecting) s.resetAndDestroy();
    else s.destroy();
    this.#ev.close(err);
  }
}
