import type { Subcommand } from './index.js';
import { confirm } from './command.js';
import { parseFilters } from './network-ref.js';

interface Args {
  force?: boolean;
  filter?: string | string[];
}

/** docker's words (cli/command/network/prune.go). */
export const PRUNE_WARNING = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?';

/** `agent network prune`: remove every network nothing uses, after asking; prints the names removed. */
export const networkPrune: Subcommand<Args> = {
  command: 'prune',
  describe: 'Remove all unused networks',
  builder: (y) =>
    y
      .option('force', { alias: 'f', type: 'boolean', describe: 'Do not prompt for confirmation' })
      .option('filter', { type: 'string', describe: 'Provide filter values (e.g. "label=<key>" or "label=<key>=<value>"); repeatable' }),
  async run(args, ctx) {
    const filters = parseFilters(args.filter, ['label']);
    if (!args.force && !(await confirm(ctx, PRUNE_WARNING))) throw new Error('network prune has been cancelled');
    // docker's filters query: {"label": {"<value>": true, ...}}.
    const query = filters.size > 0 ? `?filters=${encodeURIComponent(JSON.stringify(dockerFilters(filters)))}` : '';
    const r = await ctx.client().post<{ NetworksDeleted?: string[] | null }>(`/networks/prune${query}`);
    const deleted = r.NetworksDeleted ?? [];
    if (deleted.length > 0) ctx.out(`Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}`);
  },
};

function dockerFilters(filters: Map<string, string[]>): Record<string, Record<string, true>> {
  return Object.fromEntries([...filters].map(([name, values]) => [name, Object.fromEntries(values.map((v) => [v, true as const]))]));
}
