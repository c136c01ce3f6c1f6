// What the node subcommands share: naming a node in a path, `self`, and
// docker's way with several NODE arguments (go on past a failure, report
// every failure at the end).
import type { ApiClient } from '../api/client.js';
import type { NodeInspect, SystemInfo } from '../api/types.js';
import { DaemonUnreachableError, UsageError, oneLine } from '../../shared/errors.js';

/** The API path of a node: an id, a unique id prefix or a hostname, encoded as one segment. */
export function nodePath(ref: string): string {
  return `/nodes/${encodeURIComponent(ref)}`;
}

export function getNode(client: ApiClient, ref: string): Promise<NodeInspect> {
  return client.get<NodeInspect>(nodePath(ref));
}

/** docker's node reference: `self` is this node, by the id /info gives. */
export async function resolveSelf(client: ApiClient, ref: string): Promise<string> {
  if (ref !== 'self') return ref;
  const info = await client.get<SystemInfo>('/info');
  if (info.Swarm.NodeID) return info.Swarm.NodeID;
  // No id: most likely not a manager. The node list says why in the daemon's words.
  await client.get('/nodes');
  throw new Error('node ID not found in /info');
}

/**
 * fn for each ref in turn. A failure is kept and the next ref tried, as docker
 * does; at the end one Error carries every failure, joined by "; ". An
 * unreachable daemon or bad usage stops at once (the rest would fail alike).
 */
export async function eachNode(refs: readonly string[], fn: (ref: string) => Promise<void>): Promise<void> {
  const failures: string[] = [];
  for (const ref of refs) {
    try {
      await fn(ref);
    } catch (e) {
      if (e instanceof DaemonUnreachableError || e instanceof UsageError) throw e;
      failures.push(oneLine(e));
    }
  }
  if (failures.length > 0) throw new Error(failures.join('; '));
}

/** docker's PrettyPrint: the first letter capitalized. */
export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
