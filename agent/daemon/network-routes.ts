// The /networks routes (docs/local-api.md): overlays live in the swarm's
// store (managers), bridge networks on this node (local-networks.ts); lists
// show both, as `docker network ls` shows local and swarm scopes together.
import type { ApiServer } from '../api/server.js';
import { ApiError } from '../../shared/errors.js';
import type { NetworkContainer, NetworkCreateRequest, NetworkInspect } from '../api/types.js';
import { GWBRIDGE } from '../endpoint/endpoint-manager.js';
import type { EndpointNet } from '../endpoint/endpoint-state.js';
import type { LocalNetworks } from '../network/local-networks.js';
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
}

/**
 * A worker's network inspect of an overlay its endpoints are on, as docker's
 * workers answer one: what the managers told this node when they attached
 * it. Its creation time, labels and other options are the managers' alone.
 */
export function attachedNetworkView(a: { net: EndpointNet; ingress: boolean }): NetworkInspect {
  const n = a.net;
  return {
    Name: n.name,
    Id: n.networkId,
    Created: '0001-01-01T00:00:00Z',
    Scope: 'swarm',
    Driver: 'overlay',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
    Internal: n.internal === true,
    Attachable: false,
    Ingress: a.ingress,
    ConfigOnly: false,
    Options: n.encrypted ? { encrypted: '' } : {},
    Labels: {},
    VNI: n.vni,
  };
}

/** inUse: a bridge's users, if it cannot go (the gwbridge while endpoints use it). */
export function mountNetworkRoutes(server: ApiServer, swarm: () => SwarmNode, local: () => LocalNetworks, endpoints: LocalEndpoints, inUse: (bridge: string) => string | undefined): void {
  const localViews = (): NetworkInspect[] => local().list().map((b) => networkView({ ...b.network, meta: NO_META }));
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
        const taken = r.Driver === 'bridge' ? (await swarmNames()).includes(r.Name) : local().byName(r.Name) !== undefined;
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
          // Not a manager: this node's own networks still list, and the overlays it is on, as docker's do.
          const mine = endpoints.attachedNetworks();
          if (!(e instanceof RemoteError && e.code === 'EDENIED') || local().list().length + mine.length === 0) throw e;
          swarmNets = mine.map(attachedNetworkView);
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
        if (b) await local().remove(b, inUse(b.device));
        else await swarm().networkRemove(req.params['id']!);
        return {};
      }),
    );
}
