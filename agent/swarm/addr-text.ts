// host:port text as stored in node records and the local state file.
import type { Addr } from '../../shared/transport/types.js';

/** "1.2.3.4:2377" or "[::1]:2377" to an Addr; throws on anything else. */
export function parseAddr(text: string): Addr {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`expected host:port, got ${JSON.stringify(text)}`);
  return { host: m[1]!, port };
}

export function formatAddr(a: Addr): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
