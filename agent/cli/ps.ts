import type { Command } from './command.js';
import type { ContainerSummary } from '../api/types.js';
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
              State: c.State,
              Status: status(c, now),
            }) + '\n',
          )
          .join(''),
      );
    }
    ctx.out(
      formatTable([
        ['CONTAINER ID', 'COMMAND', 'CREATED', 'STATUS', 'NETWORKS', 'NAMES'],
        ...rows.map((c) => [id(c), JSON.stringify(cmd(c)), `${ago(now - c.CreatedMs)} ago`, status(c, now), c.Networks.join(','), c.Name]),
      ]),
    );
  },
};

function status(c: ContainerSummary, now: number): string {
  if (c.State === 'running') return c.NetNsPath !== undefined ? 'Attached' : `Up ${ago(now - c.CreatedMs)}`;
  return `Exited (${c.ExitCode ?? 'unknown'})`;
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
