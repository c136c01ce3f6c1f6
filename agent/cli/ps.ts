import type { Command } from './command.js';
import type { ContainerSummary, RunPort } from '../api/types.js';
import { wantsJson } from './format.js';
import { quoteCommand } from './container-ref.js';
import { shortId } from './network-ref.js';
import { formatTable } from './table.js';

interface Args {
  all?: boolean;
  quiet?: boolean;
  format?: string;
  'no-trunc'?: boolean;
}

/** `agent ps`: this node's endpoints, as docker's container table (running ones unless -a). */
export const ps: Command<Args> = {
  command: 'ps',
  group: 'Common Commands',
  describe: 'List endpoints',
  builder: (y) =>
    y
      .parserConfiguration({ 'boolean-negation': false })
      .option('all', { alias: 'a', type: 'boolean', describe: 'Show all endpoints (default shows just running)' })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Only display endpoint IDs' })
      .option('no-trunc', { type: 'boolean', describe: 'Do not truncate the output' })
      .option('format', { type: 'string', describe: "Format the output: 'json' (one object per line)" }),
  async run(args, ctx) {
    const json = wantsJson(args.format);
    const rows = await ctx.client().get<ContainerSummary[]>(`/containers/json${args.all ? '?all=1' : ''}`);
    rows.sort((a, b) => b.CreatedMs - a.CreatedMs);
    const id = (c: ContainerSummary) => (args['no-trunc'] ? c.Id : shortId(c.Id));
    if (args.quiet && !json) return void ctx.out(rows.map((c) => `${id(c)}\n`).join(''));
    const now = Date.now();
    const cmd = (c: ContainerSummary) => {
      const s = quoteCommand(c.Command);
      return args['no-trunc'] || s.length <= 20 ? s : `${s.slice(0, 19)}…`;
    };
    if (json) {
      return void ctx.out(
        rows
          .map((c) =>
            JSON.stringify({
              Command: JSON.stringify(quoteCommand(c.Command)),
              CreatedAt: new Date(c.CreatedMs).toISOString(),
              ID: id(c),
              Names: c.Name,
              Networks: c.Networks.join(','),
              Ports: portsColumn(c.Ports ?? []),
              State: c.State,
              Status: status(c, now),
            }) + '\n',
          )
          .join(''),
      );
    }
    ctx.out(
      formatTable([
        ['CONTAINER ID', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NETWORKS', 'NAMES'],
        ...rows.map((c) => [id(c), JSON.stringify(cmd(c)), `${ago(now - c.CreatedMs)} ago`, status(c, now), portsColumn(c.Ports ?? []), c.Networks.join(','), c.Name]),
      ]),
    );
  },
};

function status(c: ContainerSummary, now: number): string {
  if (c.State === 'running') return c.NetNsPath !== undefined ? 'Attached' : `Up ${ago(now - c.CreatedMs)}`;
  return `Exited (${c.ExitCode ?? 'unknown'})`;
}

/** The published ports' address: an endpoint's ports are published on all of the node's addresses. */
const ALL_ADDRESSES = '0.0.0.0';

/**
 * docker's PORTS column (cli/command/formatter/container.go DisplayablePorts)
 * for ports bound on 0.0.0.0: ordered by target, then published, then
 * protocol; a port published as itself folds with its neighbours into a range
 * (`0.0.0.0:80-81->80-81/tcp`); the others follow, one each
 * (`0.0.0.0:8080->80/tcp`).
 */
export function portsColumn(ports: readonly RunPort[]): string {
  const sorted = [...ports].sort((a, b) => a.TargetPort - b.TargetPort || a.PublishedPort - b.PublishedPort || (a.Protocol < b.Protocol ? -1 : a.Protocol > b.Protocol ? 1 : 0));
  const range = (g: { first: number; last: number }) => (g.first === g.last ? `${g.first}` : `${g.first}-${g.last}`);
  // By protocol, in the order first seen (docker's groupMapKeys); a gap ends a group.
  const groups = new Map<string, { first: number; last: number }>();
  const folded: string[] = [];
  const mapped: string[] = [];
  for (const p of sorted) {
    if (p.PublishedPort !== p.TargetPort) {
      mapped.push(`${ALL_ADDRESSES}:${p.PublishedPort}->${p.TargetPort}/${p.Protocol}`);
      continue;
    }
    const g = groups.get(p.Protocol);
    if (g && p.TargetPort === g.last + 1) {
      g.last = p.TargetPort;
      continue;
    }
    if (g) folded.push(`${ALL_ADDRESSES}:${range(g)}->${range(g)}/${p.Protocol}`);
    groups.set(p.Protocol, { first: p.TargetPort, last: p.TargetPort });
  }
  for (const [proto, g] of groups) folded.push(`${ALL_ADDRESSES}:${range(g)}->${range(g)}/${proto}`);
  return [...folded, ...mapped].join(', ');
}

/** docker's units.HumanDuration, roughly. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} hour${h === 1 ? '' : 's'}`;
  return `${Math.round(h / 24)} days`;
}
