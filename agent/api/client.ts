// The CLI's only way to the daemon (STYLE habit 13): HTTP/1.1 + JSON over the
// Unix socket named by --host.
import { request as httpRequest } from 'node:http';
import { ApiError, DaemonUnreachableError } from '../../shared/errors.js';
import { socketPathOf } from './host.js';

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface ClientOptions {
  host: string;
  timeoutMs?: number;
}

export class ApiClient {
  readonly #socketPath: string;
  readonly #host: string;
  readonly #timeoutMs: number;

  constructor(opts: ClientOptions) {
    this.#host = opts.host;
    this.#socketPath = socketPathOf(opts.host);
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /** Plain text endpoints such as /_ping. */
  async text(path: string): Promise<string> {
    const { status, body } = await this.raw('GET', path);
    if (status !== 200) throw new ApiError(errorMessage(body, status), status);
    return body;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, body: text } = await this.raw(method, path, body);
    if (status < 200 || status >= 300) throw new ApiError(errorMessage(text, status), status);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** The status and body as they came, whatever the status (the test bed and the demo read errors themselves). */
  raw(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          socketPath: this.#socketPath,
          method,
          path,
          agent: false, // one connection per request: nothing lingers after it
          headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
          timeout: this.#timeoutMs,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new DaemonUnreachableError(`the agent daemon at ${this.#host} did not answer within ${this.#timeoutMs} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e instanceof DaemonUnreachableError) return reject(e);
        if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
          return reject(new DaemonUnreachableError(`cannot connect to the agent daemon at ${this.#host}: is the daemon running?`));
        }
        if (e.code === 'EACCES') return reject(new DaemonUnreachableError(`permission denied on ${this.#socketPath}: run as root or join its group`));
        reject(e);
      });
      req.end(payload);
    });
  }
}

function errorMessage(text: string, status: number): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === 'string' && m) return m;
  } catch {
    // not JSON: fall through
  }
  return `the daemon answered ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
}
