import type { Subcommand } from './index.js';
import type { NodeInspect, SystemInfo } from '../api/types.js';
import { wantsJson } from './format.js';
import { capitalize } from './node-ref.js';
import { formatTable } from './table.js';

interface Args {
  quiet?: boolean;
  format?: string;
}

/** `agent node ls`: the swarm's nodes (managers only), as docker's table. */
export const nodeLs: Subcommand<Args> = {
  command: 'ls',
  aliases: ['list'],
  describe: 'List nodes in the swarm',
  // No -f: docker's -f here is --filter.
  builder: (y) =>
    y
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Only display IDs' })
      .option('format', { type: 'string', describe: "Format the output: 'json' (one object per line)" }),
  async run(args, ctx) {
    const json = wantsJson(args.format);
    const client = ctx.client();
    const nodes = sortNodes(await client.get<NodeInspect[]>('/nodes'));
    if (args.quiet && !json) return void ctx.out(nodes.map((n) => `${n.ID}\n`).join(''));
    // As docker: /info (for the local node's id) only when there is a row to mark.
    const self = nodes.length > 0 ? (await client.get<SystemInfo>('/info')).Swarm.NodeID : '';
    const rows = nodes.map((n) => row(n, self));
    if (json) return void ctx.out(rows.map((r) => JSON.stringify(r) + '\n').join(''));
    ctx.out(
      formatTable([
        ['ID  ', 'HOSTNAME', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS', 'ENGINE VERSION'],
        ...rows.map((r) => [`${r.ID} ${r.Self ? '*' : ' '}`, r.Hostname, r.Status, r.Availability, r.ManagerStatus, r.EngineVersion]),
      ]),
    );
  },
};

/** One row: docker's node formatter fields, keys in the order its JSON has them. */
interface Row {
  Availability: string;
  EngineVersion: string;
  Hostname: string;
  ID: string;
  ManagerStatus: string;
  Self: boolean;
  Status: string;
}

function row(n: NodeInspect, self: string): Row {
  const m = n.ManagerStatus;
  return {
    Availability: capitalize(n.Spec.Availability),
    EngineVersion: n.Description.Engine.EngineVersion,
    Hostname: n.Description.Hostname,
    ID: n.ID,
    ManagerStatus: m ? (m.Leader ? 'Leader' : capitalize(m.Reachability)) : '',
    Self: n.ID === self,
    Status: capitalize(n.Status.State),
  };
}

/** By hostname in docker's natural order (node2 before node10), then by id. */
export function sortNodes(nodes: NodeInspect[]): NodeInspect[] {
  return [...nodes].sort((a, b) => naturalCompare(a.Description.Hostname, b.Description.Hostname) || (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/**
 * Natural order as docker's sortorder.NaturalLess: runs of digits compare as
 * numbers (then fewer leading zeros first), digits sort before other
 * characters, everything else by code unit.
 */
export function naturalCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a[i]!;
    const cb = b[j]!;
    const da = isDigit(ca);
    const db = isDigit(cb);
    if (da !== db) return da ? -1 : 1;
    if (!da) {
      if (ca !== cb) return ca < cb ? -1 : 1;
      i++;
      j++;
      continue;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    const na = i;
    const nb = j;
    while (isDigit(a[i])) i++;
    while (isDigit(b[j])) j++;
    if (i - na !== j - nb) return i - na < j - nb ? -1 : 1;
    const ra = a.slice(na, i);
    const rb = b.slice(nb, j);
    if (ra !== rb) return ra < rb ? -1 : 1;
    if (na !== nb) return na < nb ? -1 : 1;
  }
  // Equal so far and one has ended: the shorter first.
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
