// NetworkDB under churn (STYLE habit 4): a small fleet on a lossy network
// where nodes attach and detach endpoints, create, update and delete
// entries, are falsely declared dead (briefly, or past the grace period),
// and crash and restart with no state, while SWIM push-pulls run in the
// background. Checked after every step (every table event any node emits):
// a create or update shows a version its owner really wrote, on a node that
// is in the network. Checked at the end, after a quiet period with everyone
// alive: every member of every network holds exactly the live entries the
// members own, knows exactly who the members are, and non-members hold
// nothing.
import { seededRand, type Rand } from '../../../shared/rand.js';
import { testConfig } from '../../../agent/gossip/networkdb/index.js';
import { NetDbWorld } from './netdb-world.js';

export interface ChurnOptions {
  seed: number;
  nodes: number;
  networks: number;
  activeMs: number;
  quietMs: number;
  lossRate: number;
  broadcastLossRate: number;
}

export const defaultChurn = (seed: number): ChurnOptions => ({
  seed, nodes: 16, networks: 3, activeMs: 30_000, quietMs: 25_000, lossRate: 0.1, broadcastLossRate: 0.05,
});

const TABLES = ['peers', 'services'];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export class ChurnFailure extends Error {
  constructor(seed: number, atMs: number, what: string) {
    super(`networkdb churn: seed=${seed} t=${atMs.toFixed(1)}ms: ${what}\nrerun: SIM_SEED=${seed} npm run test:sim -- --filter networkdb/churn`);
    this.name = 'ChurnFailure';
  }
}

export interface ChurnResult {
  actions: number;
  restarts: number;
  deaths: number;
  steps: number;
}

export function runChurn(o: ChurnOptions): ChurnResult {
  const cfg = testConfig();
  const w = new NetDbWorld({ nodes: o.nodes, seed: o.seed, config: cfg, lossRate: o.lossRate, broadcastLossRate: o.broadcastLossRate });
  const r: Rand = seededRand(o.seed * 31 + 7);
  const nets = Array.from({ length: o.networks }, (_, i) => `net-${i}`);
  // The truth each node's own actions make.
  const endpoints = w.nodes.map(() => new Map<string, Set<string>>());
  const owned = w.nodes.map(() => new Map<string, Map<string, string>>()); // nid -> table/key -> value hex
  const written = new Set<string>(); // owner|nid|table|key|value of every write (values are random: a strong check)
  const downUntil = new Array<number>(o.nodes).fill(0);
  let counter = 0;
  const res: ChurnResult = { actions: 0, restarts: 0, deaths: 0, steps: 0 };
  const fail = (what: string): never => {
    throw new ChurnFailure(o.seed, w.nowMs, what);
  };

  w.onEvent = (i, ev) => {
    if (ev.type === 'delete') return;
    const v = `${ev.owner}|${ev.nid}|${ev.table}|${ev.key}|${hex(ev.value)}`;
    if (!written.has(v)) fail(`${w.ids[i]} sees a ${ev.type} of a version nobody wrote: ${v}`);
    if (!w.nodes[i]!.isMember(ev.nid)) fail(`${w.ids[i]} sees a ${ev.type} in ${ev.nid} without being in it`);
  };

  const record = (i: number, nid: string, table: string, key: string, value: Uint8Array) => written.add(`${w.ids[i]}|${nid}|${table}|${key}|${hex(value)}`);

  const act = (i: number) => {
    const roll = r.int(100);
    const nid = nets[r.int(nets.length)]!;
    const mine = owned[i]!.get(nid);
    const eps = endpoints[i]!.get(nid);
    if (roll < 20) {
      const ep = `ep${counter++}`;
      w.act(i, (d, now) => d.attachEndpoint(nid, ep, now));
      if (!eps) endpoints[i]!.set(nid, new Set([ep]));
      else eps.add(ep);
    } else if (roll < 28) {
      if (!eps) return;
      const ep = [...eps][r.int(eps.size)]!;
      w.act(i, (d, now) => d.detachEndpoint(nid, ep, now));
      eps.delete(ep);
      if (eps.size === 0) {
        endpoints[i]!.delete(nid);
        owned[i]!.delete(nid);
      }
    } else if (roll < 60) {
      if (!eps) return;
      const table = TABLES[r.int(TABLES.length)]!;
      const key = `${w.ids[i]}-k${counter++}`;
      const value = r.bytes(1 + r.int(8));
      record(i, nid, table, key, value);
      w.act(i, (d, now) => d.createEntry(nid, table, key, value, now));
      if (!mine) owned[i]!.set(nid, new Map([[`${table}/${key}`, hex(value)]]));
      else mine.set(`${table}/${key}`, hex(value));
    } else if (roll < 80) {
      if (!mine || mine.size === 0) return;
      const id = [...mine.keys()][r.int(mine.size)]!;
      const [table, key] = id.split('/') as [string, string];
      if (r.int(3) === 0) {
        w.act(i, (d, now) => d.deleteEntry(nid, table, key, now));
        mine.delete(id);
      } else {
        const value = r.bytes(1 + r.int(8));
        record(i, nid, table, key, value);
        w.act(i, (d, now) => d.updateEntry(nid, table, key, value, now));
        mine.set(id, hex(value));
      }
    } else if (roll < 84) {
      // A false death: everyone else declares i dead, for a short while or past the grace period.
      if (downUntil[i]! > w.nowMs) return;
      res.deaths++;
      const len = (0.2 + 1.8 * r.float()) * cfg.deadNodeGraceMs;
      downUntil[i] = w.nowMs + len;
      for (let j = 0; j < o.nodes; j++) if (j !== i) w.act(j, (d, now) => d.nodeDead(w.ids[i]!, now));
      w.actAt(w.nowMs + len, i, (d, now) => {
        for (let j = 0; j < o.nodes; j++) if (j !== i) w.act(j, (dj, nj) => dj.nodeAlive(w.ids[i]!, nj));
        d.announce(now); // i heard it was declared dead and refuted (SWIM)
      });
    } else if (roll < 86) {
      if (downUntil[i]! > w.nowMs) return;
      res.restarts++;
      w.restart(i);
      endpoints[i] = new Map();
      owned[i] = new Map();
      w.pushPull(i, (i + 1 + r.int(o.nodes - 1)) % o.nodes); // SWIM's join exchange
    } else return;
    res.actions++;
  };

  w.startPushPull(cfg.bulkSyncIntervalMs);
  const stepMs = 50;
  for (let t = stepMs; t <= o.activeMs; t += stepMs) {
    w.runUntil(t);
    act(r.int(o.nodes));
  }
  w.runUntil(o.activeMs + o.quietMs);
  res.steps = w.steps;

  for (const nid of nets) {
    const members = w.ids.filter((_, i) => endpoints[i]!.has(nid)).sort();
    const want: string[] = [];
    for (let j = 0; j < o.nodes; j++) for (const [id, v] of owned[j]!.get(nid) ?? []) want.push(`${id}=${v}@${w.ids[j]}`);
    want.sort();
    for (let i = 0; i < o.nodes; i++) {
      const db = w.nodes[i]!;
      if (!endpoints[i]!.has(nid)) {
        if (db.isMember(nid)) fail(`${w.ids[i]} thinks it is in ${nid}`);
        continue;
      }
      const have: string[] = [];
      for (const table of TABLES) for (const e of db.entries(nid, table)) have.push(`${table}/${e.key}=${hex(e.value)}@${e.owner}`);
      have.sort();
      if (have.join() !== want.join()) {
        const missing = want.filter((x) => !have.includes(x));
        const extra = have.filter((x) => !want.includes(x));
        fail(`${w.ids[i]} has not converged on ${nid}: missing [${missing.join(', ')}], extra [${extra.join(', ')}]`);
      }
      if (db.members(nid).join() !== members.join()) fail(`${w.ids[i]} sees members of ${nid} ${db.members(nid).join()}, not ${members.join()}`);
    }
  }
  return res;
}
