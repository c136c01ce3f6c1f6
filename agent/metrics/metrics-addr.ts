// `agent daemon --metrics-addr HOST:PORT` (issue 11; docker's dockerd flag,
// whose usual port is 9323). HOST is an IP address, so the server is bound to
// exactly the address given and never to a name that may resolve elsewhere;
// an IPv6 address is written in brackets ([::1]:9323).
import { isIP } from 'node:net';
import { UsageError } from '../../shared/errors.js';

export interface MetricsAddr {
  host: string;
  port: number;
}

/** HOST:PORT or [HOST]:PORT to an address; a UsageError in one line otherwise. */
export function parseMetricsAddr(text: string): MetricsAddr {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]+):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? '';
  const port = Number(m?.[2]);
  const v6 = text.startsWith('[');
  if (!m || isIP(host) !== (v6 ? 6 : 4) || port < 1 || port > 65535) {
    throw new UsageError(`--metrics-addr: expected HOST:PORT, got ${JSON.stringify(text)}`);
  }
  return { host, port };
}
