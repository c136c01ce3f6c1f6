// The metrics endpoint (issue 11): `GET /metrics` on the address of
// --metrics-addr answers the exposition of collect(); anything else is 404.
// Bound to that address only, started by the daemon when the flag is set and
// closed when it stops (open connections included, so a scraper's keep-alive
// cannot hold the daemon up). No log line per request: a failing collect is
// said once per distinct error and answered 500.
import { Buffer } from 'node:buffer';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { oneLine } from '../../shared/errors.js';
import type { Logger } from '../daemon/log.js';
import { EXPOSITION_CONTENT_TYPE } from './exposition.js';
import type { MetricsAddr } from './metrics-addr.js';

export interface MetricsServerOptions {
  /** Where to listen; port 0 picks a free one (tests). */
  addr: MetricsAddr;
  /** The exposition text of this scrape. */
  collect(): Promise<string>;
  log: Logger;
}

export class MetricsServer {
  readonly #o: MetricsServerOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #lastError = '';
  #listening = false;

  constructor(o: MetricsServerOptions) {
    this.#o = o;
    this.#server = createServer((req, res) => void this.#serve(req, res));
    this.#server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
  }

  /** Listen on the address; rejects with one line naming it (e.g. in use, or not this host's). */
  async listen(): Promise<void> {
    const { host, port } = this.#o.addr;
    await new Promise<void>((resolve, reject) => {
      const fail = (e: NodeJS.ErrnoException) => reject(new Error(`--metrics-addr ${show(host, port)}: ${e.code ?? e.message}`));
      this.#server.once('error', fail);
      this.#server.listen({ host, port }, () => {
        this.#server.off('error', fail);
        resolve();
      });
    });
    this.#listening = true;
    this.#o.log.info('metrics listening', { addr: show(host, this.port) });
  }

  /** The port listened on (the chosen one when addr.port was 0). */
  get port(): number {
    const a = this.#server.address();
    return a !== null && typeof a === 'object' ? a.port : this.#o.addr.port;
  }

  /** Stop listening and end every open connection. Idempotent. */
  async close(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') return void text(res, 404, '404 page not found\n');
    let body: string;
    try {
      body = await this.#o.collect();
    } catch (e) {
      const msg = oneLine(e);
      if (msg !== this.#lastError) this.#o.log.error('metrics not collected', { error: msg });
      this.#lastError = msg;
      return void text(res, 500, `${msg}\n`);
    }
    this.#lastError = '';
    res.writeHead(200, { 'Content-Type': EXPOSITION_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const show = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
