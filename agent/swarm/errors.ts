// Errors of the control plane the API maps to statuses and the CLI prints as
// one line. Remote peers carry them as RemoteError codes (control-wire.ts).
import { RemoteError } from './rpc.js';

/** docker's words for a cluster without a leader (moby daemon/cluster/errors.go). */
export const NO_LEADER_MESSAGE =
  "the swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

export const NOT_IN_SWARM_MESSAGE = 'This node is not a swarm manager. Use "agent swarm init" or "agent swarm join" to connect this node to swarm and try again.';
export const WORKER_MESSAGE =
  'This node is not a swarm manager. Worker nodes can\'t be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.';

export function noLeader(): RemoteError {
  return new RemoteError('ENOQUORUM', NO_LEADER_MESSAGE);
}

export function invalid(message: string): RemoteError {
  return new RemoteError('EINVAL', message);
}

export function notFound(message: string): RemoteError {
  return new RemoteError('ENOTFOUND', message);
}

export function conflict(message: string): RemoteError {
  return new RemoteError('ECONFLICT', message);
}

export function denied(message: string): RemoteError {
  return new RemoteError('EDENIED', message);
}

/** The HTTP status of the local API for a remote code. */
export function statusOf(code: RemoteError['code']): number {
  switch (code) {
    case 'EINVAL':
      return 400;
    case 'EDENIED':
      return 403;
    case 'ENOTFOUND':
      return 404;
    case 'ECONFLICT':
      return 409;
    default:
      return 503;
  }
}
