// The propagation experiment of issue 5: "a NetworkDB entry reaches every
// member of its group within 2 simulated seconds at 1,000 nodes". A world of
// `nodes` nodes; `groupSize` of them put an endpoint on one network within
// the first 2 s; once every node has heard the joins, a random member creates
// an entry every 3 s (so each spreads alone) and the world records when each
// member's watchers first see it. Non-members are watched too: no table
// message for the network may ever be delivered to one.
import { seededRand } from '../../../shared/rand.js';
import { lanConfig, TABLE_SERVICES, encodeServiceRecord } from '../../../agent/gossip/networkdb/index.js';
import { NetDbWorld, percentile } from './netdb-world.js';

export const NID = 'net-front-0000000000000001';

export interface PropagationOptions {
  nodes: number;
  groupSize: number;
  lossRate: number;
  entries: number;
  seed: number;
}

export interface PropagationResult {
  /** Per entry: ms from its creation until the last other member saw it (Infinity if one never did). */
  allMembersMs: number[];
  /** Every (entry, member) delivery time, in ms. */
  perMemberMs: number[];
  /** Table messages for the network delivered to nodes outside its group: must be 0. */
  nonMemberDeliveries: number;
  /** Non-members holding any entry of the network: must be 0. */
  nonMemberEntries: number;
  datagramsSent: number;
  datagramsLost: number;
  streamsSent: number;
  steps: number;
}

const JOIN_WINDOW_MS = 2_000;
const SETTLE_MS = 6_000;
const SPACING_MS = 3_000;

export function measurePropagation(o: PropagationOptions): PropagationResult {
  const w = new NetDbWorld({ nodes: o.nodes, seed: o.seed, config: lanConfig(), lossRate: o.lossRate });
  const r = seededRand(o.seed * 7919 + 1);
  const order = Array.from({ length: o.nodes }, (_, i) => i);
  for (let i = 0; i < o.groupSize; i++) {
    const j = i + r.int(o.nodes - i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const group = order.slice(0, o.groupSize);
  const inGroup = new Array<boolean>(o.nodes).fill(false);
  for (const g of group) inGroup[g] = true;
  for (const g of group) w.actAt(r.float() * JOIN_WINDOW_MS, g, (db, now) => db.attachEndpoint(NID, `ep-${g}`, now));

  const created = new Map<string, { at: number; by: number; seen: Map<number, number> }>();
  let nonMemberDeliveries = 0;
  w.onDeliver = (d) => {
    if (!inGroup[d.to] && d.send.msg.nid === NID) nonMemberDeliveries++;
  };
  w.onEvent = (node, ev) => {
    if (ev.type !== 'create' || ev.nid !== NID) return;
    const c = created.get(ev.key);
    if (c && !c.seen.has(node)) c.seen.set(node, w.nowMs - c.at);
  };
  for (let k = 0; k < o.entries; k++) {
    const at = SETTLE_MS + k * SPACING_MS;
    const by = group[r.int(group.length)]!;
    const key = `task-${k}`;
    w.actAt(at, by, (db, now) => {
      created.set(key, { at: now, by, seen: new Map() });
      db.createEntry(NID, TABLE_SERVICES, key, encodeServiceRecord({ service: 'web', task: `web.${k + 1}.x`, ip: `10.0.1.${k + 2}`, vip: '10.0.1.1' }), now);
    });
  }
  w.runUntil(SETTLE_MS + o.entries * SPACING_MS + SPACING_MS);

  const allMembersMs: number[] = [];
  const perMemberMs: number[] = [];
  for (const c of created.values()) {
    let worst = 0;
    for (const g of group) {
      if (g === c.by) continue;
      const t = c.seen.get(g);
      if (t === undefined) worst = Infinity;
      else {
        perMemberMs.push(t);
        worst = Math.max(worst, t);
      }
    }
    allMembersMs.push(worst);
  }
  let nonMemberEntries = 0;
  for (let i = 0; i < o.nodes; i++) if (!inGroup[i] && w.nodes[i]!.entries(NID, TABLE_SERVICES).length > 0) nonMemberEntries++;
  return {
    allMembersMs, perMemberMs, nonMemberDeliveries, nonMemberEntries,
    datagramsSent: w.datagramsSent, datagramsLost: w.datagramsLost, streamsSent: w.streamsSent, steps: w.steps,
  };
}

export function describe(o: PropagationOptions, r: PropagationResult, wallMs: number): string {
  const f = (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : 'never');
  return (
    `networkdb propagation: ${o.nodes} nodes, group of ${o.groupSize}, loss ${Math.round(o.lossRate * 100)}%, ${o.entries} entries, seed ${o.seed}: ` +
    `every member reached in p50 ${f(percentile(r.allMembersMs, 50))}, max ${f(Math.max(...r.allMembersMs))}; ` +
    `per member p50 ${f(percentile(r.perMemberMs, 50))}, p99 ${f(percentile(r.perMemberMs, 99))}; ` +
    `${r.datagramsSent} datagrams (${r.datagramsLost} lost), ${r.streamsSent} bulk syncs, non-member deliveries ${r.nonMemberDeliveries}; ` +
    `${r.steps} steps in ${Math.round(wallMs)} ms wall`
  );
}
