// What the network subcommands share: naming a network in a path, docker's
// short ids, and docker's `--filter name=value` flags.
import { UsageError } from '../../shared/errors.js';
import { listOf } from './swarm-flags.js';

/** The API path of a network: an id, a unique id prefix or a name, encoded as one segment. */
export function networkPath(ref: string): string {
  if (ref === '') throw new UsageError('NETWORK: expected a network id, id prefix or name, got ""');
  return `/networks/${encodeURIComponent(ref)}`;
}

/** docker's stringid.TruncateID: ids are shown by their first 12 characters unless --no-trunc. */
export const SHORT_ID_LENGTH = 12;

export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}

/**
 * --filter values as docker's FilterOpt reads them: name=value, the name
 * trimmed and lowercased, the value trimmed; an empty flag is ignored. Values
 * are kept per name in the order given. Only names in `accepted` pass.
 */
export function parseFilters(v: unknown, accepted: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of listOf(v)) {
    if (f === '') continue;
    const eq = f.indexOf('=');
    if (eq < 0) throw new UsageError(`--filter: expected name=value, got "${f}"`);
    const name = f.slice(0, eq).trim().toLowerCase();
    if (!accepted.includes(name)) {
      const names = accepted.length === 1 ? accepted[0]! : `${accepted.slice(0, -1).join(', ')} or ${accepted[accepted.length - 1]!}`;
      throw new UsageError(`--filter: expected a filter on ${names}, got "${f}"`);
    }
    out.set(name, [...(out.get(name) ?? []), f.slice(eq + 1).trim()]);
  }
  return out;
}
