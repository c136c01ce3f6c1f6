import type { Subcommand } from './index.js';
import type { PortSpec, ServiceInspect } from '../api/types.js';
import { UsageError } from '../../shared/errors.js';
import { wantsJson } from './format.js';
import { naturalCompare } from './node-ls.js';
import { parseFilters, shortId } from './network-ref.js';
import { commandCell, modeName } from './service-ref.js';
import { formatTable } from './table.js';

interface Args {
  quiet?: boolean;
  format?: string;
  filter?: string | string[];
}

/** The filters docker's daemon knows for services. */
const FILTERS = ['id', 'label', 'mode', 'name'] as const;
const MODES = ['replicated', 'global'];

/** `agent service ls`: the services, as docker's table (COMMAND where docker has IMAGE), by name in docker's natural order. */
export const serviceLs: Subcommand<Args> = {
  command: 'ls',
  aliases: ['list'],
  describe: 'List services',
  builder: (y) =>
    y
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Only display IDs' })
      .option('format', { type: 'string', describe: "Format the output: 'json' (one object per line)" })
      .option('filter', { alias: 'f', type: 'string', describe: 'Filter output based on conditions provided: id, label, mode or name (e.g. "mode=global"); repeatable' }),
  async run(args, ctx) {
    const json = wantsJson(args.format);
    const filters = parseFilters(args.filter, FILTERS);
    for (const m of filters.get('mode') ?? []) if (!MODES.includes(m)) throw new UsageError(`--filter: expected mode "replicated" or "global", got "mode=${m}"`);
    const all = await ctx.client().get<ServiceInspect[]>('/services');
    const services = all.filter((s) => matches(s, filters)).sort((a, b) => naturalCompare(a.Spec.Name, b.Spec.Name) || (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
    // As docker: --format wins over -q, and ids are cut to 12 either way.
    if (args.quiet && !json) return void ctx.out(services.map((s) => `${shortId(s.ID)}\n`).join(''));
    if (json) return void ctx.out(services.map((s) => JSON.stringify(row(s, false)) + '\n').join(''));
    const rows = services.map((s) => row(s, true));
    ctx.out(formatTable([['ID', 'NAME', 'MODE', 'REPLICAS', 'COMMAND', 'PORTS'], ...rows.map((r) => [r.ID, r.Name, r.Mode, r.Replicas, r.Command, r.Ports])]));
  },
};

/** One row: docker's service formatter fields (Command where docker has Image), keys in the order its JSON has them. */
interface Row {
  Command: string;
  ID: string;
  Mode: string;
  Name: string;
  Ports: string;
  Replicas: string;
}

/** The row; the command cut only in the table (json carries it whole). */
function row(s: ServiceInspect, trunc: boolean): Row {
  return {
    Command: commandCell(s, trunc),
    ID: shortId(s.ID),
    Mode: modeName(s.Spec.Mode),
    Name: s.Spec.Name,
    Ports: portsCell(s.Endpoint.Ports ?? []),
    Replicas: `${s.ServiceStatus.RunningTasks}/${s.ServiceStatus.DesiredTasks}`,
  };
}

/**
 * docker's PORTS cell for a service: by protocol, then published port;
 * consecutive ports folded into ranges (*:80-81->80-81/tcp), ranges joined by
 * ", ". docker shows ingress ports only; host-mode ports are shown here too,
 * alike. A port whose published port is not chosen yet is left out, as
 * docker leaves out a published port 0.
 */
export function portsCell(ports: readonly PortSpec[]): string {
  const sorted = [...ports].sort((a, b) => (a.Protocol === b.Protocol ? (a.PublishedPort ?? 0) - (b.PublishedPort ?? 0) : a.Protocol < b.Protocol ? -1 : 1));
  const out: string[] = [];
  let r: { pStart: number; pEnd: number; tStart: number; tEnd: number; protocol: string } | undefined;
  const flush = (): void => {
    if (!r || r.pStart <= 0) return;
    const pub = r.pEnd > r.pStart ? `${r.pStart}-${r.pEnd}` : `${r.pStart}`;
    const tgt = r.tEnd > r.tStart ? `${r.tStart}-${r.tEnd}` : `${r.tStart}`;
    out.push(`*:${pub}->${tgt}/${r.protocol}`);
  };
  for (const p of sorted) {
    const pub = p.PublishedPort ?? 0;
    // A new range unless the protocol is the same and both ports follow on
    // (the same target again only while the range maps to a single target).
    const next =
      !r ||
      p.Protocol !== r.protocol ||
      pub - r.pEnd > 1 ||
      pub < r.pEnd ||
      p.TargetPort - r.tEnd > 1 ||
      p.TargetPort < r.tEnd ||
      (r.tEnd !== r.tStart && p.TargetPort <= r.tEnd);
    if (next) {
      flush();
      r = { pStart: pub, pEnd: pub, tStart: p.TargetPort, tEnd: p.TargetPort, protocol: p.Protocol };
      continue;
    }
    r!.pEnd = pub;
    r!.tEnd = p.TargetPort;
  }
  flush();
  return out.join(', ');
}

/**
 * docker's service filters: values of one name are alternatives, names are
 * all required. id and name match by prefix (swarmkit's IDPrefixes and
 * NamePrefixes), mode exactly, and every label filter ("key" or "key=value")
 * must hold.
 */
function matches(s: ServiceInspect, filters: Map<string, string[]>): boolean {
  const some = (name: string, test: (v: string) => boolean): boolean => filters.get(name)?.some(test) ?? true;
  const labels = s.Spec.Labels ?? {};
  return (
    some('id', (v) => s.ID.startsWith(v)) &&
    some('name', (v) => s.Spec.Name.startsWith(v)) &&
    some('mode', (v) => v === modeName(s.Spec.Mode)) &&
    (filters.get('label') ?? []).every((v) => {
      const eq = v.indexOf('=');
      const key = eq < 0 ? v : v.slice(0, eq);
      return Object.hasOwn(labels, key) && (eq < 0 || labels[key] === v.slice(eq + 1));
    })
  );
}
