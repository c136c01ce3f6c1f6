// The /networks routes (docs/local-api.md): overlays live in the swarm's
// store (managers), bridge networks on this node (local-networks.ts); lists
// show both, as `docker network ls` shows local and swarm scopes together.
import { createHash } from 'node:crypto';
import { ApiError } from '../../shared/errors.js';
import type { ApiServer } from '../api/server.js';
import type { NetworkContainer, NetworkCreateRequest, NetworkInspect } from '../api/types.js';
import { encodeBase36 } from '../cluster/ca/base36.js';
import { GWBRIDGE, GWBRIDGE_GATEWAY, GWBRIDGE_SUBNET } from '../endpoint/endpoint-manager.js';
import type { EndpointNet } from '../endpoint/endpoint-state.js';
import { BRIDGE_NAME_OPTION, ICC_OPTION, MASQUERADE_OPTION, type LocalNetworks } from '../network/local-networks.js';
import { RemoteError } from '../swarm/rpc.js';
import type { SwarmNode } from '../swarm/swarm-node.js';
import { networkView } from '../swarm/views.js';
import { api, labelFilters } from './swarm-routes.js';

const NO_META = { version: 0, createdAtIndex: 0, updatedAtIndex: 0 };

/** What the routes need of this node's endpoints (endpoint-manager.ts). */
export interface LocalEndpoints {
  /** network inspect's Containers. */
  containersOn(network: { id: string } | 'gwbridge'): Record<string, NetworkContainer>;
  /** The overlays this node's endpoints are on (what a worker may list and inspect). */
  attachedNetworks(): { net: EndpointNet; ingress: boolean }[];
  attachedNetwork(ref: string): { net: EndpointNet; ingress: boolean } | undefined;
  /** Forget the gwbridge's addresses (its network was removed). */
  forgetGwbridge(): void;
}

/**
 * A worker's network inspect of an overlay its endpoints are on, as docker's
 * workers answer one: what the managers told this node when they attached
 * it. Its creation time, labels and other options are the managers' alone.
 */
export function attachedNetworkView(a: { net: EndpointNet; ingress: boolean }): NetworkInspect {
  const n = a.net;
  const encrypted = n.encrypted === true;
  return networkView({
    id: n.networkId,
    name: n.name,
    driver: 'overlay',
    vni: n.vni,
    ipam: { subnet: n.subnet, gateway: n.gateway },
    options: encrypted ? { encrypted: '' } : {},
    labels: {},
    attachable: false,
    ingress: a.ingress,
    internal: n.internal === true,
    encrypted,
    meta: NO_META,
  });
}

/**
 * The gwbridge the agent made itself (no bridge network of the user's under
 * its name), listed as docker lists docker_gwbridge: a local bridge with the
 * agent's defaults, shown while endpoints are on it. Its id is the same on
 * every node and every start (a hash of its name and subnet).
 */
export function agentGwbridgeView(): NetworkInspect {
  return networkView({
    id: encodeBase36(createHash('sha256').update(`${GWBRIDGE} ${GWBRIDGE_SUBNET}`).digest()).slice(0, 25),
    name: GWBRIDGE,
    driver: 'bridge',
    ipam: { subnet: GWBRIDGE_SUBNET, gateway: GWBRIDGE_GATEWAY },
    options: { [BRIDGE_NAME_OPTION]: GWBRIDGE, [ICC_OPTION]: 'false', [MASQUERADE_OPTION]: 'true' },
    labels: {},
    attachable: false,
    ingress: false,
    internal: false,
    encrypted: false,
    meta: NO_META,
  });
}

export function mountNetworkRoutes(server: ApiServer, swarm: () => SwarmNode, local: () => LocalNetworks, endpoints: LocalEndpoints): void {
  /** Who is on the gwbridge, the node's mesh sandbox included (docker names its ingress-sbox too): it cannot go from under them. */
  const gwbridgeUsers = (): string[] => Object.values(endpoints.containersOn('gwbridge')).map((c) => c.Name);
  const inUse = (name: string): string | undefined => {
    const users = name === GWBRIDGE ? gwbridgeUsers() : [];
    return users.length > 0 ? users.join(', ') : undefined;
  };
  /** The agent's own gwbridge, while endpoints are on it and the user made none under its name. */
  const agentGwbridge = (): NetworkInspect | undefined =>
    local().byName(GWBRIDGE) === undefined && gwbridgeUsers().length > 0 ? agentGwbridgeView() : undefined;
  const isAgentGwbridge = (ref: string): NetworkInspect | undefined => {
    const g = agentGwbridge();
    return g && (ref === g.Name || ref === g.Id || (ref.length > 0 && g.Id.startsWith(ref))) ? g : undefined;
  };
  const localViews = (): NetworkInspect[] => [...local().list().map((b) => networkView({ ...b.network, meta: NO_META })), ...[agentGwbridge()].filter((g) => g !== undefined)];
  /** The swarm's networks when this node may read them (a manager), else none. */
  const swarmNames = async (): Promise<string[]> => {
    try {
      return (await swarm().networkList()).map((n) => n.Name);
    } catch (e) {
      if (e instanceof RemoteError && e.code === 'EDENIED') return [];
      throw e;
    }
  };
  server
    .route('POST', '/networks/create', (req) => {
      const r = (req.body ?? {}) as NetworkCreateRequest;
      return api(async () => {
        // One name, one network, whichever the scope (docker's rule).
        const taken = agentGwbridge()?.Name === r.Name || (r.Driver === 'bridge' ? (await swarmNames()).includes(r.Name) : local().byName(r.Name) !== undefined);
        if (taken) throw new ApiError(`network with name ${r.Name} already exists`, 409);
        return r.Driver === 'bridge' ? local().create(r) : swarm().networkCreate(r);
      });
    })
    .route('GET', '/networks', () =>
      api(async () => {
        let swarmNets: NetworkInspect[] = [];
        try {
          swarmNets = await swarm().networkList();
        } catch (e) {
          // Not a manager (or in no swarm): this node's own networks still list, and the overlays it is on, as docker's do.
          if (!(e instanceof RemoteError && e.code === 'EDENIED')) throw e;
          swarmNets = endpoints.attachedNetworks().map(attachedNetworkView);
        }
        return [...localViews(), ...swarmNets];
      }),
    )
    .route('POST', '/networks/prune', (req) => api(() => swarm().networkPrune(labelFilters(req))))
    .route('GET', '/networks/:id', (req) =>
      api(async () => {
        const b = local().find(req.params['id']!);
        if (b) return { ...networkView({ ...b.network, meta: NO_META }), Containers: b.network.name === GWBRIDGE ? endpoints.containersOn('gwbridge') : {} };
        const ref = req.params['id']!;
        const g = isAgentGwbridge(ref);
        if (g) return { ...g, Containers: endpoints.containersOn('gwbridge') };
        let n: NetworkInspect;
        try {
          n = await swarm().networkInspect(ref);
        } catch (e) {
          // A worker inspects the overlays it is on, as docker's do.
          const mine = e instanceof RemoteError && e.code === 'EDENIED' ? endpoints.attachedNetwork(ref) : undefined;
          if (!mine) throw e;
          n = attachedNetworkView(mine);
        }
        return { ...n, Containers: endpoints.containersOn({ id: n.Id }) };
      }),
    )
    .route('DELETE', '/networks/:id', (req) =>
      api(async () => {
        const b = local().find(req.params['id']!);
        const g = b ? undefined : isAgentGwbridge(req.params['id']!);
        if (b) {
          await local().remove(b, inUse(b.network.name));
          endpoints.forgetGwbridge();
        }
        // Listed only while endpoints are on it: docker's refusal, naming them.
        else if (g) throw new ApiError(`error while removing network: network ${g.Name} id ${g.Id} has active endpoints (${inUse(GWBRIDGE)})`, 409);
        else await swarm().networkRemove(req.params['id']!);
        return {};
      }),
    );
}
