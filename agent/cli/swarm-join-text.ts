// The join instructions `swarm init` and `swarm join-token` print, in
// docker's words: the token from GET /swarm, the address this manager is
// reached at from GET /info.
import type { ApiClient } from '../api/client.js';
import type { SwarmInspect, SystemInfo } from '../api/types.js';

export type JoinRole = 'worker' | 'manager';

/** The manager address (host:port) of this node, as /info lists it among the managers. */
export async function ownManagerAddr(client: ApiClient): Promise<string> {
  const info = await client.get<SystemInfo>('/info');
  const id = info.Swarm.NodeID;
  const own = (info.Swarm.RemoteManagers ?? []).find((m) => m.NodeID === id);
  if (!id || !own) throw new Error(`this node${id ? ` (${id})` : ''} is not among the swarm's managers in /info: no address to join`);
  return own.Addr;
}

export function joinText(role: JoinRole, sw: SwarmInspect, addr: string): string {
  const token = role === 'worker' ? sw.JoinTokens.Worker : sw.JoinTokens.Manager;
  return `To add a ${role} to this swarm, run the following command:\n\n    agent swarm join --token ${token} ${addr}\n\n`;
}
