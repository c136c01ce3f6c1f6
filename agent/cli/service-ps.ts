import type { Subcommand } from './index.js';
import type { ServiceInspect, TaskInspect } from '../api/types.js';
import { UsageError } from '../../shared/errors.js';
import { wantsJson } from './format.js';
import { naturalCompare } from './node-ls.js';
import { capitalize } from './node-ref.js';
import { parseFilters, shortId } from './network-ref.js';
import { ago } from './ps.js';
import { clockOf } from './service-progress.js';
import { commandCell, ellipsis, getTasks, lookupService, noSuchService, serviceRefs } from './service-ref.js';
import { formatTable } from './table.js';

interface Args {
  service: (string | number)[];
  quiet?: boolean;
  'no-trunc'?: boolean;
  format?: string;
  filter?: string | string[];
}

/** The filters docker's daemon knows for tasks that apply here. */
const FILTERS = ['desired-state', 'id', 'name', 'node'] as const;
const DESIRED_STATES = ['running', 'shutdown', 'accepted'];

/** docker's maxErrLength: the ERROR cell is cut to this many characters unless --no-trunc. */
const MAX_ERROR_WIDTH = 30;

/** docker's tree: an older task of a slot is listed under the newest, indented so. */
const PREVIOUS_TASK_INDENT = ' \\_ ';

/** `agent service ps`: the tasks of services, as docker's table, each slot's newest first with its history under it. */
export const servicePs: Subcommand<Args> = {
  command: 'ps <service..>',
  describe: 'List the tasks of one or more services',
  builder: (y) =>
    y
      .parserConfiguration({ 'boolean-negation': false, 'parse-positional-numbers': false })
      .positional('service', { type: 'string', describe: 'A service name, id or id prefix' })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Only display task IDs' })
      .option('no-trunc', { type: 'boolean', describe: 'Do not truncate output' })
      .option('format', { type: 'string', describe: "Format the output: 'json' (one object per line)" })
      .option('filter', {
        alias: 'f',
        type: 'string',
        describe: 'Filter output based on conditions provided: desired-state (running, shutdown or accepted), id, name or node; repeatable',
      }),
  async run(args, ctx) {
    const json = wantsJson(args.format);
    const refs = serviceRefs(args.service);
    const filters = parseFilters(args.filter, FILTERS);
    for (const s of filters.get('desired-state') ?? []) {
      if (!DESIRED_STATES.includes(s)) throw new UsageError(`--filter: expected desired-state "running", "shutdown" or "accepted", got "desired-state=${s}"`);
    }
    const client = ctx.client();
    // As docker: the services first, those not found named at the end (or
    // at once, when none was found).
    const notFound: string[] = [];
    const found: ServiceInspect[] = [];
    for (const ref of refs) {
      const s = await lookupService(client, ref);
      if (!s) notFound.push(noSuchService(ref));
      else if (!found.some((f) => f.ID === s.ID)) found.push(s);
    }
    if (found.length === 0) throw new Error(notFound.join('; '));
    const rows: { task: TaskInspect; service: ServiceInspect }[] = [];
    for (const service of found) {
      for (const task of await getTasks(client, service.ID)) if (matches(task, filters)) rows.push({ task, service });
    }
    // docker's order: by name naturally, then the newest first (a stable sort).
    rows.sort((a, b) => naturalCompare(a.task.Name, b.task.Name) || Date.parse(b.task.CreatedAt) - Date.parse(a.task.CreatedAt) || 0);
    // As docker: -q shows whole ids.
    const trunc = !args['no-trunc'] && !args.quiet;
    const id = (t: TaskInspect): string => (trunc ? shortId(t.ID) : t.ID);
    if (args.quiet && !json) {
      ctx.out(rows.map((r) => `${id(r.task)}\n`).join(''));
    } else {
      const now = clockOf(ctx).now();
      // The command whole in json, as `agent ps` gives it; cut in the table.
      const lines = rows.map((r) => row(r.task, r.service, id(r.task), trunc, now, trunc && !json));
      if (json) ctx.out(lines.map((l) => JSON.stringify(l) + '\n').join(''));
      else {
        let previous = '';
        const cells = lines.map((l) => {
          const name = l.Name === previous ? PREVIOUS_TASK_INDENT + l.Name : l.Name;
          previous = l.Name;
          return [l.ID, name, l.Command, l.Node, l.DesiredState, l.CurrentState, l.Error, l.Ports];
        });
        ctx.out(formatTable([['ID', 'NAME', 'COMMAND', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR', 'PORTS'], ...cells]));
        // A published port a node cannot serve is no task's, yet the service's: said under its tasks.
        for (const s of found) for (const e of s.PortErrors ?? []) ctx.out(`${s.Spec.Name}: node ${e.Hostname || e.NodeID}: ${e.Error}\n`);
      }
    }
    if (notFound.length > 0) throw new Error(notFound.join('; '));
  },
};

/** One row: docker's task formatter fields (Command where docker has Image), keys in the order its JSON has them. */
interface Row {
  Command: string;
  CurrentState: string;
  DesiredState: string;
  Error: string;
  ID: string;
  Name: string;
  Node: string;
  Ports: string;
}

function row(t: TaskInspect, s: ServiceInspect, id: string, trunc: boolean, now: number, truncCommand: boolean): Row {
  const at = Date.parse(t.Status.Timestamp);
  const err = t.Status.Err ?? '';
  const shown = trunc ? ellipsis(err, MAX_ERROR_WIDTH) : err;
  return {
    Command: commandCell(s, truncCommand),
    // docker: "Running 5 seconds ago", the duration in lower case.
    CurrentState: Number.isNaN(at) ? capitalize(t.Status.State) : `${capitalize(t.Status.State)} ${ago(now - at).toLowerCase()} ago`,
    DesiredState: capitalize(t.DesiredState),
    Error: shown ? `"${shown}"` : '',
    ID: id,
    Name: t.Name,
    Node: t.NodeHostname,
    Ports: t.Status.State === 'running' ? hostPorts(s) : '',
  };
}

/**
 * docker's PORTS cell for a task: its host-mode ports, *:8080->80/tcp, joined
 * by ",". Tasks carry no port status here, so a running task is shown with
 * the service's host-mode ports that have a fixed published port.
 */
function hostPorts(s: ServiceInspect): string {
  return (s.Endpoint.Ports ?? [])
    .filter((p) => p.PublishMode === 'host' && p.PublishedPort !== undefined)
    .map((p) => `*:${p.PublishedPort}->${p.TargetPort}/${p.Protocol}`)
    .join(',');
}

/**
 * docker's task filters: values of one name are alternatives, names are all
 * required. id and name by prefix, node by id or hostname, desired-state
 * exactly.
 */
function matches(t: TaskInspect, filters: Map<string, string[]>): boolean {
  const some = (name: string, test: (v: string) => boolean): boolean => filters.get(name)?.some(test) ?? true;
  return (
    some('desired-state', (v) => v === t.DesiredState) &&
    some('id', (v) => t.ID.startsWith(v)) &&
    some('name', (v) => t.Name.startsWith(v)) &&
    some('node', (v) => v === t.NodeID || v === t.NodeHostname)
  );
}
