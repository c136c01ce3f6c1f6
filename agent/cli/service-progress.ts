// Waiting for a service to converge after create, update or scale, as docker
// does without -d (docker/cli cli/command/service/progress): poll the service
// and its tasks, say how many of the wanted tasks run, say each task that
// failed once, and stop once every wanted task runs. Only Ctrl-C ends it
// sooner, as in docker.
//
// The judging is a pure tracker (service and tasks in, lines out); the loop
// around it is the thin shell, its clock an argument. Lines go to stderr: the
// answer (the service id or name) is already on stdout.
import type { ApiClient } from '../api/client.js';
import type { Ctx } from './command.js';
import type { ServiceInspect, TaskInspect } from '../api/types.js';
import { getService, getTasks, isGlobal, replicasOf } from './service-ref.js';
import { shortId } from './network-ref.js';

/** Time for the CLI's waits: the wall clock, or a test's manual one. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The ctx's clock if it carries one, else the wall clock. */
export function clockOf(ctx: Ctx): Clock {
  return (ctx as Ctx & { clock?: Clock }).clock ?? systemClock;
}

/** How often the service and its tasks are asked for while waiting. */
export const POLL_MS = 500;

/**
 * swarmkit's task states in their order (docker's numberedStates); those
 * past running are terminal. A state not listed is not judged.
 */
const STATE_ORDER: Readonly<Record<string, number>> = {
  new: 1,
  allocated: 2,
  pending: 3,
  assigned: 4,
  accepted: 5,
  preparing: 6,
  ready: 7,
  starting: 8,
  running: 9,
  complete: 10,
  shutdown: 11,
  failed: 12,
  rejected: 13,
};
const rank = (state: string): number => STATE_ORDER[state] ?? 0;
const terminal = (state: string): boolean => rank(state) > rank('running');

/** docker's truncError: one line, at most 75 characters, so a narrow terminal does not wrap it. */
const MAX_ERROR_WIDTH = 75;
function truncError(msg: string): string {
  const one = [...msg.replace(/\n/g, ' ')];
  return one.length > MAX_ERROR_WIDTH ? one.slice(0, MAX_ERROR_WIDTH - 1).join('') + '…' : one.join('');
}

export interface ConvergenceOptions {
  /**
   * The service as it was before an update or scale. When its spec (all but
   * the mode) changed, or --force was given, every task is replaced: only
   * tasks made since the service changed count then (docker's `_up-to-date`
   * filter), so that the old ones still running do not pass for converged.
   */
  before?: ServiceInspect;
  /**
   * Failures already there when waiting begins are history, not news (an
   * update or scale of a service that failed before); for create there are
   * none.
   */
  oldFailuresAreHistory?: boolean;
}

/** Whether the tasks of `before` are all to be replaced by `after`: a new spec (the mode aside) or a forced update. */
export function replacesTasks(before: ServiceInspect, after: ServiceInspect): boolean {
  return JSON.stringify({ ...before.Spec, Mode: null }) !== JSON.stringify({ ...after.Spec, Mode: null });
}

/** The pure half: each observation of the service and its tasks gives the lines to print and whether it converged. */
export class Convergence {
  #lastOverall = '';
  #reported = new Set<string>();
  #first = true;

  constructor(
    readonly serviceId: string,
    readonly opts: ConvergenceOptions = {},
  ) {}

  observe(service: ServiceInspect, all: TaskInspect[]): { lines: string[]; converged: boolean } {
    const since = Date.parse(service.UpdatedAt);
    const upToDateOnly = this.opts.before !== undefined && replacesTasks(this.opts.before, service) && !Number.isNaN(since);
    const tasks = upToDateOnly ? all.filter((t) => !(Date.parse(t.CreatedAt) < since)) : all;
    const global = isGlobal(service.Spec.Mode);
    const lines: string[] = [];

    // One task per slot (per node for a global service): the one with the
    // lowest desired state, then the lowest observed one, as docker picks.
    const bySlot = new Map<string, TaskInspect>();
    for (const t of tasks) {
      if (rank(t.DesiredState) === 0 || rank(t.Status.State) === 0) continue;
      const key = global ? t.NodeID : String(t.Slot ?? t.ID);
      const had = bySlot.get(key);
      if (had && (rank(had.DesiredState) < rank(t.DesiredState) || (rank(had.DesiredState) === rank(t.DesiredState) && rank(had.Status.State) <= rank(t.Status.State)))) continue;
      bySlot.set(key, t);
    }
    const wanted = [...bySlot.values()].filter((t) => !terminal(t.DesiredState));
    // A global service wants a task on each eligible node; the orchestrator
    // makes them all at once, so the nodes with a task to run are those nodes.
    const desired = global ? wanted.length : (replicasOf(service.Spec.Mode) ?? 0);
    const running = wanted.filter((t) => t.Status.State === 'running').length;

    const label = (t: TaskInspect): string => (global ? shortId(t.NodeID) : `${t.Slot ?? '?'}/${desired}`);
    for (const t of tasks) {
      if ((t.Status.State !== 'failed' && t.Status.State !== 'rejected') || this.#reported.has(t.ID)) continue;
      this.#reported.add(t.ID);
      if (this.#first && this.opts.oldFailuresAreHistory) continue;
      lines.push(`${label(t)}: ${truncError(t.Status.Err || t.Status.Message || t.Status.State)}`);
    }
    this.#first = false;

    const overall = global && desired === 0 ? 'overall progress: waiting for new tasks' : `overall progress: ${running} out of ${desired} tasks`;
    if (overall !== this.#lastOverall) lines.push(overall);
    this.#lastOverall = overall;
    const converged = !(global && desired === 0) && running === desired;
    if (converged) lines.push(`verify: Service ${this.serviceId} converged`);
    return { lines, converged };
  }
}

/** The shell: poll every POLL_MS until the service converged, each new line to `write`. */
export async function waitForConvergence(client: ApiClient, serviceId: string, write: (text: string) => void, clock: Clock, opts: ConvergenceOptions = {}): Promise<void> {
  const c = new Convergence(serviceId, opts);
  for (;;) {
    const service = await getService(client, serviceId);
    const tasks = await getTasks(client, serviceId);
    const { lines, converged } = c.observe(service, tasks);
    if (lines.length > 0) write(lines.map((l) => `${l}\n`).join(''));
    if (converged) return;
    await clock.sleep(POLL_MS);
  }
}
