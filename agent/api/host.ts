import { UsageError } from '../../shared/errors.js';

/**
 * Parse a --host value into the Unix socket path it names. Accepts
 * `unix:///path/to.sock` (docker's form) or a bare absolute path.
 */
export function socketPathOf(host: string): string {
  if (host.startsWith('unix://')) {
    const path = host.slice('unix://'.length);
    if (!path.startsWith('/')) throw new UsageError(`--host: expected unix:///absolute/path, got "${host}"`);
    return path;
  }
  if (host.startsWith('/')) return host;
  throw new UsageError(`--host: only unix sockets are supported (unix:///path), got "${host}"`);
}
