// The daemon's side of the local API: a tiny router over node:http bound to a
// Unix socket (mode 0660). Handlers return a value (sent as JSON) or throw:
// ApiError carries its status, UsageError is a 400, anything else a 500. The
// response to an error is always `{ "message": "..." }` with one line.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmodSync, existsSync, unlinkSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect } from 'node:net';
import { ApiError, UsageError, oneLine } from '../../shared/errors.js';

export interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  /** Values of the route's `:name` segments. */
  params: Record<string, string>;
}

export type Handler = (req: Request) => unknown | Promise<unknown>;

/** A raw text reply (e.g. /_ping's "OK") instead of JSON. */
export class Text {
  constructor(readonly text: string) {}
}

const MAX_BODY_BYTES = 1 << 20;

export class ApiServer {
  #routes = new Map<string, Handler>();
  // Routes with `:name` segments, tried in the order they were added.
  #patterns: { method: string; parts: string[]; handler: Handler }[] = [];
  #server: Server | undefined;
  #path: string | undefined;

  /** Route method and path to handler; a segment `:name` matches any one non-empty segment (req.params.name). */
  route(method: string, path: string, handler: Handler): this {
    if (path.includes('/:')) this.#patterns.push({ method, parts: path.split('/'), handler });
    else this.#routes.set(`${method} ${path}`, handler);
    return this;
  }

  #match(method: string, path: string): { handler: Handler; params: Record<string, string> } | undefined {
    const exact = this.#routes.get(`${method} ${path}`);
    if (exact) return { handler: exact, params: {} };
    const parts = path.split('/');
    for (const r of this.#patterns) {
      if (r.method !== method || r.parts.length !== parts.length) continue;
      const params: Record<string, string> = {};
      if (r.parts.every((p, i) => (p.startsWith(':') ? parts[i] !== '' && ((params[p.slice(1)] = decodeSegment(parts[i]!)), true) : p === parts[i]))) {
        return { handler: r.handler, params };
      }
    }
    return undefined;
  }

  /** Listen on the socket path; a stale socket file left by a dead daemon is replaced, a live one is refused. */
  async listen(socketPath: string): Promise<void> {
    mkdirSync(dirname(socketPath), { recursive: true, mode: 0o755 });
    if (existsSync(socketPath)) {
      if (await answers(socketPath)) throw new Error(`another agent daemon is already listening on ${socketPath}`);
      unlinkSync(socketPath);
    }
    const server = createServer((req, res) => void this.#serve(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(socketPath, 0o660);
    this.#server = server;
    this.#path = socketPath;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.#path && existsSync(this.#path)) unlinkSync(this.#path);
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://agent');
      const route = this.#match(req.method ?? 'GET', url.pathname);
      if (!route) throw new ApiError(`page not found: ${req.method} ${url.pathname}`, 404);
      const body = await readJson(req);
      const out = await route.handler({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body, params: route.params });
      if (out instanceof Text) {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(out.text);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out ?? {}));
      }
    } catch (e) {
      const status = e instanceof ApiError ? e.status : e instanceof UsageError ? 400 : 500;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message: oneLine(e) }));
    }
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new UsageError(`malformed path segment ${JSON.stringify(s)}`);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(`request body larger than ${MAX_BODY_BYTES} bytes`, 413);
    chunks.push(c as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new UsageError('request body is not valid JSON');
  }
}

/** Whether something accepts connections on the socket path. */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
