// The /networks routes (docs/local-api.md): overlays live in the swarm's
// store (managers), bridge networks on this node (local-networks.ts); lists
// show both, as `docker network ls` shows local and swarm scopes together.
import type { ApiServer } from '../api/server.js';
import type { NetworkCreateRequest, NetworkInspect } from '../api/types.js';
import type { LocalNetworks } from '../network/local-networks.js';
import { RemoteError } from '../swarm/rpc.js';
import type { SwarmNode } from '../swarm/swarm-node.js';
import { networkView } from '../swarm/views.js';
import { api, labelFilters } from './swarm-routes.js';

const NO_META = { version: 0, createdAtIndex: 0, updatedAtIndex: 0 };

export function mountNetworkRoutes(server: ApiServer, swarm: () => SwarmNode, local: () => LocalNetworks, inUse: (bridge: string) => string | undefined): void {
  const localViews = (): NetworkInspect[] => local().list().map((b) => networkView({ ...b.network, meta: NO_META }));
  server
    .route('POST', '/networks/create', (req) => {
      const r = (req.body ?? {}) as NetworkCreateRequest;
      return api(() => (r.Driver === 'bridge' ? local().create(r) : swarm().networkCreate(r)));
    })
    .route('GET', '/networks', () =>
      api(async () => {
        let swarmNets: NetworkInspect[] = [];
        try {
          swarmNets = await swarm().networkList();
        } catch (e) {
          // Not a manager: this node's own networks still list, as docker's do.
          if (!(e instanceof RemoteError && e.code === 'EDENIED') || local().list().length === 0) throw e;
        }
        return [...localViews(), ...swarmNets];
      }),
    )
    .route('POST', '/networks/prune', (req) => api(() => swarm().networkPrune(labelFilters(req))))
    .route('GET', '/networks/:id', (req) =>
      api(async () => {
        const b = local().find(req.params['id']!);
        return b ? networkView({ ...b.network, meta: NO_META }) : swarm().networkInspect(req.params['id']!);
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
