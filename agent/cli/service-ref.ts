// What the service subcommands share: naming a service in a path, docker's
// "no such service" for inspect and ps, docker's way with several SERVICE
// arguments (go on past a failure, report every failure at the end), and
// reading a service's mode and command.
import type { ApiClient } from '../api/client.js';
import type { ServiceInspect, ServiceModeSpec, TaskInspect } from '../api/types.js';
import { ApiError, UsageError } from '../../shared/errors.js';
import { eachNode } from './node-ref.js';
import { quoteCommand } from './container-ref.js';

/** The API path of a service: its name, id or unique id prefix, encoded as one segment. */
export function servicePath(ref: string, tail = ''): string {
  if (ref === '') throw new UsageError('SERVICE: expected a service name, id or id prefix, got ""');
  return `/services/${encodeURIComponent(ref)}${tail}`;
}

/** SERVICE arguments as given (yargs may hand numbers), each checked before any request. */
export function serviceRefs(refs: readonly (string | number)[]): string[] {
  const out = refs.map(String);
  for (const r of out) servicePath(r);
  return out;
}

export function getService(client: ApiClient, ref: string): Promise<ServiceInspect> {
  return client.get<ServiceInspect>(servicePath(ref));
}

/** GET /tasks?service=ID: every task of the service the daemon keeps, old ones included. */
export function getTasks(client: ApiClient, serviceId: string): Promise<TaskInspect[]> {
  return client.get<TaskInspect[]>(`/tasks?service=${encodeURIComponent(serviceId)}`);
}

/**
 * As getService, undefined when the daemon does not know the service (a 404;
 * not the server's own "page not found", which says the route is missing).
 */
export async function lookupService(client: ApiClient, ref: string): Promise<ServiceInspect | undefined> {
  try {
    return await getService(client, ref);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && !e.message.startsWith('page not found')) return undefined;
    throw e;
  }
}

/**
 * docker's words for a service the daemon does not know, in `docker service
 * inspect` and `docker service ps` (docker's inspect adds an "Error: " that
 * the one catch here does not need).
 */
export const noSuchService = (ref: string): string => `no such service: ${ref}`;

/** fn for each service ref in turn, failures gathered into one line (node-ref.ts's eachNode: the same rule). */
export const eachService = eachNode;

export function isGlobal(mode: ServiceModeSpec): mode is { Global: Record<string, never> } {
  return 'Global' in mode;
}

/** The replica count of a replicated service; undefined for a global one. */
export function replicasOf(mode: ServiceModeSpec): number | undefined {
  return 'Replicated' in mode ? mode.Replicated.Replicas : undefined;
}

/** docker's MODE column. */
export function modeName(mode: ServiceModeSpec): 'replicated' | 'global' {
  return isGlobal(mode) ? 'global' : 'replicated';
}

/** How wide the COMMAND cell may be unless --no-trunc: as `agent ps` cuts its own. */
export const COMMAND_WIDTH = 20;

/**
 * A service's command where docker's tables show the image: its words
 * joined by spaces (quoted where a word needs it), cut to COMMAND_WIDTH with
 * an ellipsis as docker's formatter.Ellipsis cuts.
 */
export function commandCell(s: ServiceInspect, trunc: boolean): string {
  return ellipsis(quoteCommand(s.Spec.TaskTemplate.ContainerSpec.Command), trunc ? COMMAND_WIDTH : Infinity);
}

/** docker's formatter.Ellipsis: at most `width` characters, the last an ellipsis when cut. */
export function ellipsis(s: string, width: number): string {
  const chars = [...s];
  return chars.length <= width ? s : chars.slice(0, width - 1).join('') + '…';
}
