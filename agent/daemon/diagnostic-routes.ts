// The NetworkDB diagnostic API, as libnetwork's diagnostic server offers
// (joinnetwork, createentry, gettable, ...): drive and read this node's
// gossip tables by hand, before and beside the overlay driver that writes
// them in normal use. On the same Unix socket as everything else (0660).
//
//   POST   /diagnostic/networkdb/join      {Network, Endpoint}   attach an endpoint (the first joins the group)
//   POST   /diagnostic/networkdb/leave     {Network, Endpoint}   detach it (the last leaves the group)
//   POST   /diagnostic/networkdb/entry     {Network, Table, Key, Value}   create or update (Value: UTF-8 text)
//   DELETE /diagnostic/networkdb/entry?network=N&table=T&key=K
//   GET    /diagnostic/networkdb/table?network=N&table=T   [{Key, Value, Owner, LamportTime}]
//   GET    /diagnostic/datapath    the forwarder's counters, per VNI its counters, peer table and secure sessions,
//                                   the secure plane's counters, and the data key generations this node holds
import { ApiError, UsageError } from '../../shared/errors.js';
import type { ApiServer, Request } from '../api/server.js';
import { body } from './request-body.js';
import { nonEmpty, obj, str } from '../cluster/store/validate.js';
import { NetworkDbError } from '../gossip/networkdb/index.js';
import type { GossipNode } from '../gossip/gossip-node.js';
import type { DataPlane } from '../datapath/data-plane.js';

const attachment = obj({ Network: nonEmpty, Endpoint: nonEmpty });
const entry = obj({ Network: nonEmpty, Table: nonEmpty, Key: nonEmpty, Value: str });

function param(req: Request, name: string): string {
  const v = req.query.get(name);
  if (!v) throw new UsageError(`query parameter ${name}: required`);
  return v;
}

/** NetworkDB's own refusals (not a member, unknown entry) and bad arguments are the caller's to fix: 400. */
function db<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof NetworkDbError || e instanceof RangeError) throw new ApiError(e.message, 400);
    throw e;
  }
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** keys: the data keys this node holds (from its assignment), by network. */
export function mountDiagnosticRoutes(
  server: ApiServer,
  gossip: () => GossipNode | undefined,
  data: () => DataPlane,
  keys: () => { networkId: string; vni: number; keys: { generation: number }[] }[] = () => [],
): void {
  const g = (): GossipNode => {
    const x = gossip();
    if (!x) throw new ApiError('gossip is not running on this node: it starts once the node is in a swarm and has its keyring', 503);
    return x;
  };
  server
    .route('POST', '/diagnostic/networkdb/join', (req) => {
      const b = body(attachment, req);
      return { Joined: db(() => g().attach(b.Network, b.Endpoint)) };
    })
    .route('POST', '/diagnostic/networkdb/leave', (req) => {
      const b = body(attachment, req);
      return { Left: db(() => g().detach(b.Network, b.Endpoint)) };
    })
    .route('POST', '/diagnostic/networkdb/entry', (req) => {
      const b = body(entry, req);
      db(() => g().put(b.Network, b.Table, b.Key, utf8.encode(b.Value)));
      return {};
    })
    .route('DELETE', '/diagnostic/networkdb/entry', (req) => {
      const [n, t, k] = [param(req, 'network'), param(req, 'table'), param(req, 'key')];
      db(() => g().remove(n, t, k));
      return {};
    })
    .route('GET', '/diagnostic/networkdb/table', (req) => {
      const [n, t] = [param(req, 'network'), param(req, 'table')];
      return db(() => g().entries(n, t)).map((e) => ({ Key: e.key, Value: text.decode(e.value), Owner: e.owner, LamportTime: e.ltime }));
    })
    .route('GET', '/diagnostic/datapath', () => {
      const f = data().forwarder;
      return {
        Running: data().running,
        BadRecords: data().badRecords,
        Stats: f.stats(),
        Unsealable: data().unsealable,
        Networks: f.vnis().map((vni) => ({ VNI: vni, Stats: f.networkStats(vni), Peers: f.peers(vni), Sessions: data().secure?.status(vni) ?? [] })),
        Secure: data().secure?.stats(),
        DataKeys: keys().map((k) => ({ NetworkID: k.networkId, VNI: k.vni, Generations: k.keys.map((x) => x.generation) })),
      };
    });
}
