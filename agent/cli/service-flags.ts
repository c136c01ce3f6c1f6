// The flags `service create` and `service update` share, with docker's names,
// and their checks (STYLE habit 9: name the flag, what was expected, what
// came). Only what the CLI can judge alone is checked here; whether a network
// exists or a port is free is the daemon's to say.
import type { Argv } from 'yargs';
import type { RestartPolicySpec, ServiceCreateRequest } from '../api/types.js';
import { UsageError } from '../../shared/errors.js';
import { parseDuration } from './duration.js';
import { intFlag, lastOf, listOf } from './swarm-flags.js';

type UpdateOrder = NonNullable<ServiceCreateRequest['UpdateOrder']>;

/**
 * The largest count a flag takes (--replicas, --restart-max-attempts): an
 * int32, far past anything a fleet runs, and exact in every language the API
 * may meet.
 */
export const MAX_COUNT = 2 ** 31 - 1;

const CONDITIONS: readonly RestartPolicySpec['Condition'][] = ['none', 'on-failure', 'any'];
const ORDERS: readonly UpdateOrder[] = ['stop-first', 'start-first'];

/** "a", "a" or "b", "a", "b" or "c": the choices of a flag, quoted. */
export function choices(values: readonly string[]): string {
  const q = values.map((v) => `"${v}"`);
  return q.length === 1 ? q[0]! : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]!}`;
}

/** One of the values a flag allows, or undefined when the flag was not given; the last one given wins. */
export function choiceFlag<T extends string>(v: unknown, flag: string, allowed: readonly T[]): T | undefined {
  const s = lastOf(v);
  if (s === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(s)) throw new UsageError(`${flag}: expected ${choices(allowed)}, got "${s}"`);
  return s as T;
}

export function replicasFlag(v: unknown): number | undefined {
  return intFlag(v, '--replicas', 0, MAX_COUNT);
}

/** Repeatable names (networks, variables): in the order given, none empty. */
export function namesFlag(v: unknown, flag: string, what: string): string[] {
  const names = listOf(v);
  for (const n of names) if (n.trim() === '') throw new UsageError(`${flag}: expected ${what}, got "${n}"`);
  return names;
}

/**
 * `-e K=V` as docker's opts.ValidateEnv reads it: kept as given when it has
 * "=", an empty name refused; a bare `K` takes K's value from the CLI's own
 * environment, and is left out when K is not set there. `lookup` is that
 * environment: the user's own data handed on, not configuration of the agent.
 */
export function envFlag(v: unknown, flag: string, lookup: (name: string) => string | undefined): string[] {
  const out: string[] = [];
  for (const s of listOf(v)) {
    const eq = s.indexOf('=');
    const name = eq < 0 ? s : s.slice(0, eq);
    if (name === '') throw new UsageError(`invalid argument "${s}" for "${flag}" flag: invalid environment variable: ${s}`);
    if (eq >= 0) out.push(s);
    else {
      const value = lookup(name);
      if (value !== undefined) out.push(`${name}=${value}`);
    }
  }
  return out;
}

/** The CLI's environment, for `-e K` and `--env-add K` only. */
export const processEnv = (name: string): string | undefined => process.env[name];

/**
 * Placement constraints as swarmkit parses them: KEY==VALUE or KEY!=VALUE,
 * neither side empty. Which keys exist (node.role, node.hostname, node.id,
 * node.labels.*) is the daemon's to say.
 */
export function constraintsFlag(v: unknown, flag: string): string[] {
  const out = listOf(v);
  for (const c of out) {
    const m = /^(.*?)(==|!=)(.*)$/.exec(c);
    if (!m || m[1]!.trim() === '' || m[3]!.trim() === '') {
      throw new UsageError(`${flag}: expected KEY==VALUE or KEY!=VALUE (e.g. node.role==worker), got "${c}"`);
    }
  }
  return out;
}

/** A duration of 0 or more in whole milliseconds (what the API carries). */
function spanMs(v: unknown, flag: string): number | undefined {
  const s = lastOf(v);
  if (s === undefined) return undefined;
  const ms = parseDuration(s, flag);
  if (ms < 0) throw new UsageError(`${flag}: expected a duration of 0 or more, got "${s}"`);
  if (!Number.isInteger(ms)) throw new UsageError(`${flag}: expected a whole number of milliseconds, got "${s}"`);
  return ms;
}

export function withRestartFlags(y: Argv): Argv {
  return y
    .option('restart-condition', { type: 'string', describe: 'Restart when condition is met ("none", "on-failure", "any") (default "any")' })
    .option('restart-delay', { type: 'string', describe: 'Delay between restart attempts (ns|us|ms|s|m|h) (default 5s)' })
    .option('restart-max-attempts', { type: 'string', describe: 'Maximum number of restarts before giving up (default 0: no limit)' })
    .option('restart-window', { type: 'string', describe: 'Window used to evaluate the restart policy (ns|us|ms|s|m|h) (default 0s: the whole life)' })
    .option('update-order', { type: 'string', describe: 'Update order ("start-first", "stop-first") (default "stop-first")' });
}

export interface RestartArgs {
  'restart-condition'?: string | string[];
  'restart-delay'?: string | string[];
  'restart-max-attempts'?: string | string[];
  'restart-window'?: string | string[];
  'update-order'?: string | string[];
}

/** The restart policy fields the flags set, or undefined when none was given. */
export function restartPolicy(args: RestartArgs): Partial<RestartPolicySpec> | undefined {
  const p: Partial<RestartPolicySpec> = {};
  const condition = choiceFlag(args['restart-condition'], '--restart-condition', CONDITIONS);
  const delay = spanMs(args['restart-delay'], '--restart-delay');
  const attempts = intFlag(args['restart-max-attempts'], '--restart-max-attempts', 0, MAX_COUNT);
  const window = spanMs(args['restart-window'], '--restart-window');
  if (condition !== undefined) p.Condition = condition;
  if (delay !== undefined) p.DelayMs = delay;
  if (attempts !== undefined) p.MaxAttempts = attempts;
  if (window !== undefined) p.WindowMs = window;
  return Object.keys(p).length > 0 ? p : undefined;
}

export function updateOrder(args: RestartArgs): UpdateOrder | undefined {
  return choiceFlag(args['update-order'], '--update-order', ORDERS);
}
