import type { Subcommand } from './index.js';
import type { NetworkInspect } from '../api/types.js';
import { wantsJson } from './format.js';
import { naturalCompare } from './node-ls.js';
import { goTime } from './node-pretty.js';
import { parseFilters, shortId } from './network-ref.js';
import { formatTable } from './table.js';

interface Args {
  quiet?: boolean;
  format?: string;
  'no-trunc'?: boolean;
  filter?: string | string[];
}

/** The filters docker's daemon knows for networks that apply here (not dangling or type). */
const FILTERS = ['driver', 'id', 'label', 'name', 'scope'] as const;

/** `agent network ls`: the networks, as docker's table, by name in docker's natural order. */
export const networkLs: Subcommand<Args> = {
  command: 'ls',
  aliases: ['list'],
  describe: 'List networks',
  builder: (y) =>
    y
      // docker's flag is --no-trunc itself, not the negation of a --trunc.
      .parserConfiguration({ 'boolean-negation': false })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Only display network IDs' })
      .option('no-trunc', { type: 'boolean', describe: 'Do not truncate the output' })
      .option('format', { type: 'string', describe: "Format the output: 'json' (one object per line)" })
      .option('filter', {
        alias: 'f',
        type: 'string',
        describe: 'Provide filter values (e.g. "driver=overlay"): driver, id, label, name or scope; repeatable',
      }),
  async run(args, ctx) {
    const json = wantsJson(args.format);
    const filters = parseFilters(args.filter, FILTERS);
    // The API lists every network; the filters are applied here, with the
    // daemon's meaning in docker (daemon/network/filter.go).
    const all = await ctx.client().get<NetworkInspect[]>('/networks');
    const nets = all.filter((n) => matches(n, filters)).sort((a, b) => naturalCompare(a.Name, b.Name) || (a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0));
    const id = (n: NetworkInspect): string => (args['no-trunc'] ? n.Id : shortId(n.Id));
    // As docker: --format wins over -q.
    if (args.quiet && !json) return void ctx.out(nets.map((n) => `${id(n)}\n`).join(''));
    if (json) return void ctx.out(nets.map((n) => JSON.stringify(row(n, id(n))) + '\n').join(''));
    ctx.out(formatTable([['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], ...nets.map((n) => [id(n), n.Name, n.Driver, n.Scope])]));
  },
};

/** One line of --format json: docker's network formatter fields, all strings, keys in the order its JSON has them. */
interface Row {
  CreatedAt: string;
  Driver: string;
  ID: string;
  IPv6: string;
  Internal: string;
  Labels: string;
  Name: string;
  Scope: string;
}

function row(n: NetworkInspect, id: string): Row {
  return {
    CreatedAt: goTime(n.Created),
    Driver: n.Driver,
    ID: id,
    IPv6: String(n.EnableIPv6),
    Internal: String(n.Internal),
    // docker joins them in map order; here by key, so the line is stable.
    Labels: Object.keys(n.Labels ?? {})
      .sort()
      .map((k) => `${k}=${n.Labels[k]}`)
      .join(','),
    Name: n.Name,
    Scope: n.Scope,
  };
}

/**
 * docker's network filters: values of one name are alternatives, names are
 * all required. driver and scope match exactly, name and id as docker's
 * filters.Match (an unanchored regular expression), and every label
 * filter ("key" or "key=value") must hold.
 */
function matches(n: NetworkInspect, filters: Map<string, string[]>): boolean {
  const some = (name: string, test: (v: string) => boolean): boolean => filters.get(name)?.some(test) ?? true;
  return (
    some('driver', (v) => v === n.Driver) &&
    some('scope', (v) => v === n.Scope) &&
    some('name', (v) => pattern(v, n.Name)) &&
    some('id', (v) => pattern(v, n.Id)) &&
    (filters.get('label') ?? []).every((v) => label(v, n.Labels ?? {}))
  );
}

/**
 * docker's filters.Match: the value as a regular expression found in the
 * text (an invalid one finds nothing). docker first tries the text itself,
 * which adds nothing here: names and ids match themselves as expressions.
 */
function pattern(value: string, s: string): boolean {
  try {
    return new RegExp(value).test(s);
  } catch {
    return false;
  }
}

/** docker's filters.MatchKVList for one value: the key present, and with "=value" that value. */
function label(value: string, labels: Record<string, string>): boolean {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  if (!Object.hasOwn(labels, key)) return false;
  return eq < 0 || labels[key] === value.slice(eq + 1);
}
