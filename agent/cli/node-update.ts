import type { Subcommand } from './index.js';
import type { NodeAvailabilityName, NodeRoleName, NodeUpdateRequest } from '../api/types.js';
import { UsageError } from '../../shared/errors.js';
import { getNode, nodePath } from './node-ref.js';

interface Args {
  node: string;
  availability?: string | string[];
  role?: string | string[];
  'label-add'?: string | string[];
  'label-rm'?: string | string[];
}

const AVAILABILITIES: readonly NodeAvailabilityName[] = ['active', 'pause', 'drain'];
const ROLES: readonly NodeRoleName[] = ['worker', 'manager'];

/** `agent node update`: change a node's availability, role or labels; prints the node as given. */
export const nodeUpdate: Subcommand<Args> = {
  command: 'update <node>',
  describe: 'Update a node',
  builder: (y) =>
    y
      .positional('node', { type: 'string', describe: 'A node id, id prefix or hostname' })
      .option('availability', { type: 'string', describe: 'Availability of the node ("active", "pause", "drain")' })
      .option('role', { type: 'string', describe: 'Role of the node ("worker", "manager")' })
      .option('label-add', { type: 'string', describe: 'Add or update a node label ("key=value"); repeatable' })
      .option('label-rm', { type: 'string', describe: 'Remove a node label if exists; repeatable' }),
  async run(args, ctx) {
    const availability = oneOf(args.availability, '--availability', AVAILABILITIES);
    const role = oneOf(args.role, '--role', ROLES);
    const add = listOf(args['label-add']).map(labelKv);
    const rm = listOf(args['label-rm']);
    if (availability === undefined && role === undefined && add.length === 0 && rm.length === 0) {
      throw new UsageError('node update: expected at least one of --availability, --role, --label-add, --label-rm');
    }
    const client = ctx.client();
    const n = await getNode(client, args.node);
    const body: NodeUpdateRequest = {};
    if (role !== undefined) body.Role = role;
    if (availability !== undefined) body.Availability = availability;
    if (add.length > 0 || rm.length > 0) {
      // docker's order: additions first, then removals, each of which must find its key.
      const labels: Record<string, string> = { ...n.Spec.Labels };
      for (const [k, v] of add) labels[k] = v;
      for (const k of rm) {
        if (!Object.hasOwn(labels, k)) throw new Error(`key ${k} doesn't exist in node's labels`);
        delete labels[k];
      }
      body.Labels = labels;
    }
    await client.post(`${nodePath(n.ID)}/update?version=${n.Version.Index}`, body);
    ctx.out(`${args.node}\n`);
  },
};

/** Values of a repeatable flag (yargs gives one value or an array). */
function listOf(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** The last value of a string flag (the last one given wins, as in docker), which must be one of choices. */
function oneOf<T extends string>(v: string | string[] | undefined, flag: string, choices: readonly T[]): T | undefined {
  const s = Array.isArray(v) ? v[v.length - 1] : v;
  if (s === undefined) return undefined;
  if (!(choices as readonly string[]).includes(s)) {
    throw new UsageError(`${flag}: expected ${choices.map((c) => `"${c}"`).join(', ')}, got "${s}"`);
  }
  return s as T;
}

/** "key=value", or "key" alone for an empty value, as docker reads labels. */
function labelKv(s: string): [string, string] {
  const eq = s.indexOf('=');
  const [k, v] = eq < 0 ? [s, ''] : [s.slice(0, eq), s.slice(eq + 1)];
  if (k === '') throw new UsageError(`--label-add: expected key=value, got "${s}"`);
  return [k, v];
}
