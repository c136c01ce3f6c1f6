// Loopback helpers of the routing mesh's socket tests (port-holder.test.ts,
// proxy-relay.test.ts): real sockets on 127.0.0.1, ephemeral ports only,
// every wait bounded.
import { connect, createServer, type Server, type Socket } from 'node:net';

export const HOST = '127.0.0.1';
export const DEADLINE_MS = 5000;

/** p, or a rejection after ms; the timer never outlives the test. */
export async function within<T>(p: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Listen on HOST (port 0: an ephemeral one); the port it got. */
export function listenTcp(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: HOST }, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/**
 * A TCP server for a test's backends: half-open allowed, its sockets kept
 * while open (to end them from the test), one that errs destroyed; serve
 * does the rest of each connection.
 */
export function tcpServer(serve: (s: Socket) => void): { server: Server; sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    serve(s);
  });
  return { server, sockets };
}

export const closeTcp = (s: Server) => new Promise<void>((r) => (s.listening ? s.close(() => r()) : r()));

/** Connect, send payload (then end), collect everything until the peer closes us; with the client's local port. */
export function roundTrip(port: number, payload: Buffer | string): Promise<{ reply: Buffer; localPort: number }> {
  return new Promise((resolve, reject) => {
    const c = connect({ host: HOST, port });
    const chunks: Buffer[] = [];
    let localPort = 0; // read while connected: a closed socket has none
    c.on('connect', () => {
      localPort = c.localPort ?? 0;
      c.end(payload);
    });
    c.on('data', (d: Buffer) => chunks.push(d));
    c.on('error', reject);
    c.on('close', () => resolve({ reply: Buffer.concat(chunks), localPort }));
  });
}
