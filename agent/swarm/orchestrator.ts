// The orchestrator and scheduler of swarm services (issue 8), Docker Swarm's
// (swarmkit manager/orchestrator, manager/scheduler) cut down to one pure
// function: reconcile() reads every service, task, node, network and IPAM
// record, and returns the store changes of ONE batch that move the tasks
// toward what the services ask for, plus when it wants to be asked again.
//
// What it guarantees:
// - Pure and deterministic: no clock, no randomness (time and task ids are
//   arguments), every iteration sorted; the same input gives the same output.
// - A valid batch: at most one change per object, every update and delete
//   carrying the version it read, each IPAM record updated once with all the
//   allocations and releases of the pass folded in. Nothing that would not
//   change an object is written, so passes reach a fixpoint (no changes).
// - Addresses: a task's addresses and its IPAM entries (owner task:<id>)
//   change together; an address is released only when its task is known to
//   have stopped (terminal status, node removed, service gone).
//
// The rules, per service (docker's unless noted):
// - Slots: replicated services have slots 1..N, global services one per
//   node ready, active and matching the constraints. A task "occupies" its
//   slot while its desiredState is running. An empty slot is refilled at
//   once, unless its newest task ended on its own (complete, failed,
//   rejected) at the current generation: then the restart policy decides
//   (condition, max attempts counted back from that task's end over
//   windowMs, delay from that end; a slot it refuses stays empty until the
//   service is updated). An empty slot whose outdated task is still being
//   stopped by a stop-first update waits for it.
// - Leaving: on a drained node, a node no longer matching the constraints,
//   a down node (replicated only: a global task stays on its down node) and
//   a removed node (status orphaned), and for slots above N, a task is asked
//   to shut down (desiredState shutdown); one never handed to a node
//   (status pending) is deleted instead.
// - Rolling update (parallelism 1): one slot at a time whose task is of an
//   older generation, only while no other is in flight; stop-first stops the
//   old one and refills the slot once it stopped, start-first starts the new
//   one beside it and stops the old once the new one runs.
// - Scheduling: eligible nodes (ready, active, matching); fewest tasks of
//   this service, then fewest tasks of all services, then lowest id. With
//   none the task is pending with swarmkit's "no suitable node (...)".
// - Ended tasks give back their addresses and are kept as history, at most
//   TASK_HISTORY_LIMIT per slot (more if the restart policy needs them to
//   count attempts); slots no longer wanted keep none. Tasks of a removed
//   service are marked remove and deleted once stopped.
import type { Change } from '../cluster/store/index.js';
import type { Node, Service, Task, TaskState } from '../cluster/store/types.js';
import { constraintMatches, parseConstraint, type Constraint } from './constraints.js';
import { byId, isTerminal, Pass, unassigned, type Entry, type ReconcileInput, type TaskDraft } from './reconcile-pass.js';
import { serviceNetworkIds } from './service-spec.js';

export { nodeMatches, parseConstraint, type Constraint } from './constraints.js';
export { isTerminal, LB_OWNER_PREFIX, lbOwner, TERMINAL_STATES, type ReconcileInput } from './reconcile-pass.js';

export interface ReconcileOutput {
  /** The changes of one batch; empty when everything is as it should be. */
  changes: Change[];
  /** The earliest future wall-clock ms something is due (a restart delay ending); absent if nothing is. */
  wakeAtMs?: number;
}

/** docker's default --task-history-limit (swarm init): tasks kept per slot. */
export const TASK_HISTORY_LIMIT = 5;

/** docker's slot name: `web.1`, or `web.<nodeId>` for a global service. */
export function taskSlotName(serviceName: string, t: Pick<Task, 'slot' | 'nodeId'>): string {
  return `${serviceName}.${t.slot ?? t.nodeId}`;
}

/** docker's container name of a task: `web.1.<taskId>`. */
export function taskContainerName(serviceName: string, t: Pick<Task, 'id' | 'slot' | 'nodeId'>): string {
  return `${taskSlotName(serviceName, t)}.${t.id}`;
}

/** States a task reaches on its own (the restart policy's business), as opposed to being stopped. */
const ENDED_ALONE: ReadonlySet<TaskState> = new Set<TaskState>(['complete', 'failed', 'rejected']);

/** A service and what the pass derives from it once. */
interface Svc {
  readonly s: Service;
  readonly global: boolean;
  readonly replicas: number;
  readonly constraints: readonly Constraint[];
  /** Set when a stored constraint does not parse: nothing is placed. */
  readonly constraintError: string | undefined;
  /** Network ids of its tasks' addresses, in order (ingress last). */
  readonly nets: readonly string[];
  /** Slot key -> its tasks (including removed entries, which are skipped). */
  readonly groups: Map<string, Entry[]>;
}

function byAge(a: Entry, b: Entry): number {
  return a.order - b.order || (a.t.id < b.t.id ? -1 : a.t.id > b.t.id ? 1 : 0);
}

const gen = (t: TaskDraft): number => t.generation ?? 0;
const occupies = (e: Entry): boolean => !e.removed && e.t.desiredState === 'running';
const ready = (n: Node): boolean => n.status.state === 'ready' && n.availability === 'active';
const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

// Services.

function serviceOf(p: Pass, s: Service): Svc {
  let constraints: Constraint[] = [];
  let constraintError: string | undefined;
  try {
    constraints = s.spec.constraints.map(parseConstraint);
  } catch (e) {
    constraintError = (e as Error).message;
  }
  const nets = [...new Set(serviceNetworkIds(s.spec, p.ingress ? [p.ingress] : []))];
  const global = 'global' in s.mode;
  return { s, global, replicas: 'replicated' in s.mode ? s.mode.replicated : 0, constraints, constraintError, nets, groups: new Map() };
}

function keyOf(svc: Svc, t: TaskDraft): string {
  return svc.global ? t.nodeId : String(t.slot ?? 0);
}

function fits(svc: Svc, n: Node): boolean {
  return svc.constraintError === undefined && svc.constraints.every((c) => constraintMatches(n, c));
}

/** The node may receive new tasks of the service. */
function eligible(svc: Svc, n: Node): boolean {
  return ready(n) && fits(svc, n);
}

/** Slot keys the service wants filled, in order. */
function wantedKeys(p: Pass, svc: Svc): string[] {
  if (svc.global) return p.sortedNodes.filter((n) => eligible(svc, n)).map((n) => n.id);
  return Array.from({ length: svc.replicas }, (_, i) => String(i + 1));
}

/** Slots whose history is kept: replicated 1..N, global: nodes still in the store. */
function keptKey(p: Pass, svc: Svc, key: string): boolean {
  if (svc.global) return p.nodes.has(key);
  const slot = Number(key);
  return slot >= 1 && slot <= svc.replicas;
}

function live(g: readonly Entry[] | undefined): Entry[] {
  return (g ?? []).filter((e) => !e.removed).sort(byAge);
}

function newest(g: readonly Entry[] | undefined): Entry | undefined {
  return live(g).at(-1);
}

// Phase 1, task by task: removed services, nodes left, slots above N, ended tasks.

function retire(p: Pass, e: Entry): void {
  if (e.t.desiredState !== 'remove') p.mutate(e, () => ({ desiredState: 'remove' }));
  const node = p.nodes.get(e.t.nodeId);
  if (isTerminal(e.t) || unassigned(e.t) || !node || node.status.state === 'down') p.drop(e);
}

/** The node no longer keeps this service's running task (a global task stays on its down node). */
function mustLeave(svc: Svc, n: Node): boolean {
  if (n.availability === 'drain' || (svc.constraintError === undefined && !fits(svc, n))) return true;
  return !svc.global && n.status.state === 'down';
}

function settle(p: Pass, svc: Svc | undefined, e: Entry): void {
  if (!svc) return retire(p, e);
  const { nodeId } = e.t;
  const node = p.nodes.get(nodeId);
  if (unassigned(e.t) && e.t.desiredState !== 'running') return p.drop(e);
  if (nodeId !== '' && !node) {
    if (unassigned(e.t)) return p.drop(e);
    if (!isTerminal(e.t)) p.status(e, 'orphaned', 'node removed');
  } else if (node && mustLeave(svc, node)) p.shutdown(e);
  // Above N, or (a mode changed) a global task without a node.
  if (svc.global ? nodeId === '' : !keptKey(p, svc, keyOf(svc, e.t))) p.shutdown(e);
  if (e.removed || !isTerminal(e.t)) return;
  if (e.t.desiredState === 'running') p.mutate(e, () => ({ desiredState: 'shutdown' }));
  p.release(e);
}

// Phase 2, service by service: duplicates, pending tasks, empty slots, the rolling update.

/**
 * Two or more tasks wanted running in one slot (start-first, or an update
 * arriving mid-update): once the newest current one runs it stays alone;
 * until then the slot keeps that one and the newest running one (the
 * one serving meanwhile), and the others stop.
 */
function dedupe(p: Pass, svc: Svc): void {
  for (const g of svc.groups.values()) {
    const occ = live(g).filter(occupies);
    if (occ.length < 2) continue;
    const current = occ.filter((e) => gen(e.t) === svc.s.generation).at(-1);
    const serving = occ.filter((e) => e.t.status.state === 'running').at(-1);
    const keep = new Set<Entry>();
    if (current) keep.add(current);
    if (current?.t.status.state !== 'running') keep.add(serving ?? current ?? occ.at(-1)!);
    for (const e of occ) if (!keep.has(e)) p.shutdown(e);
  }
}

/** The slot counts for the rolling update: in range, or (global) on an eligible node. */
function activeKey(p: Pass, svc: Svc, key: string): boolean {
  if (!svc.global) return keptKey(p, svc, key);
  const n = p.nodes.get(key);
  return n !== undefined && eligible(svc, n);
}

function updateInFlight(p: Pass, svc: Svc): boolean {
  for (const [key, g] of svc.groups) {
    if (!activeKey(p, svc, key)) continue;
    const last = newest(g);
    if (last && gen(last.t) === svc.s.generation && last.t.status.state !== 'running') return true;
  }
  return live([...svc.groups.values()].flat()).some(
    (e) => gen(e.t) < svc.s.generation && e.t.desiredState === 'shutdown' && !isTerminal(e.t) && nodeHolds(p, e.t),
  );
}

/** Its node may still be running the task: present and not down. */
function nodeHolds(p: Pass, t: TaskDraft): boolean {
  const n = p.nodes.get(t.nodeId);
  return n !== undefined && n.status.state !== 'down';
}

function rollOne(p: Pass, svc: Svc): void {
  const cur = svc.s.generation;
  const keys = sortedKeys(svc).filter((k) => activeKey(p, svc, k));
  for (const key of keys) {
    const occ = live(svc.groups.get(key)).filter(occupies);
    const old = occ.filter((e) => gen(e.t) < cur);
    if (old.length === 0 || occ.some((e) => gen(e.t) >= cur)) continue;
    if (updateInFlight(p, svc)) return;
    if (svc.s.spec.updateOrder === 'start-first') makeTask(p, svc, key);
    else for (const e of old) p.shutdown(e);
    return;
  }
}

function sortedKeys(svc: Svc): string[] {
  const keys = [...svc.groups.keys()];
  return svc.global ? keys.sort() : keys.sort((a, b) => Number(a) - Number(b));
}

type Decision = 'now' | 'never' | 'wait' | number;

/** What to do about an empty slot, from its history. */
function decide(p: Pass, svc: Svc, g: readonly Entry[] | undefined): Decision {
  const last = newest(g);
  if (!last) return 'now';
  const t = last.t;
  if (!isTerminal(t)) {
    // A stop-first update's victim, still stopping where it runs (a drained node's is replaced at once).
    return gen(t) < svc.s.generation && nodeHolds(p, t) && p.nodes.get(t.nodeId)!.availability !== 'drain' ? 'wait' : 'now';
  }
  if (!ENDED_ALONE.has(t.status.state) || gen(t) !== svc.s.generation) return 'now';
  return restartDue(p, svc, live(g), last);
}

/** docker's restart policy for a slot whose newest task `last` ended on its own. */
function restartDue(p: Pass, svc: Svc, history: readonly Entry[], last: Entry): Decision {
  const { condition, delayMs, maxAttempts, windowMs } = svc.s.spec.restart;
  if (condition === 'none' || (condition === 'on-failure' && last.t.status.state === 'complete')) return 'never';
  const endedAt = last.t.status.timestampMs ?? 0;
  if (maxAttempts > 0) {
    // Each earlier ended task was one restart; counted back from this end, so the answer does not depend on when we look.
    const restarts = history.filter(
      (e) => e !== last && ENDED_ALONE.has(e.t.status.state) && gen(e.t) === svc.s.generation && (windowMs === 0 || (e.t.status.timestampMs ?? 0) >= endedAt - windowMs),
    ).length;
    if (restarts >= maxAttempts) return 'never';
  }
  const due = endedAt + delayMs;
  return due <= p.now ? 'now' : due;
}

function fill(p: Pass, svc: Svc): void {
  for (const key of wantedKeys(p, svc)) {
    const g = svc.groups.get(key);
    if (live(g).some(occupies)) continue;
    const d = decide(p, svc, g);
    if (d === 'now') makeTask(p, svc, key);
    else if (typeof d === 'number') p.wakeAt = Math.min(p.wakeAt, d);
  }
}

function retryPending(p: Pass, svc: Svc): void {
  for (const key of sortedKeys(svc)) {
    for (const e of live(svc.groups.get(key))) {
      if (!occupies(e) || e.t.status.state !== 'pending') continue;
      if (!svc.global) place(p, svc, e);
      else {
        const n = p.nodes.get(e.t.nodeId);
        if (n && eligible(svc, n)) assign(p, svc, e, n);
      }
    }
  }
}

function makeTask(p: Pass, svc: Svc, key: string): void {
  const s = svc.s;
  const e = p.make({
    id: p.newId(),
    serviceId: s.id,
    ...(svc.global ? {} : { slot: Number(key) }),
    nodeId: svc.global ? key : '',
    desiredState: 'running',
    status: { state: 'pending', message: 'pending task scheduling', timestampMs: p.now },
    addresses: {},
    generation: s.generation,
    createdAtMs: p.now,
  });
  const g = svc.groups.get(key);
  if (g) g.push(e);
  else svc.groups.set(key, [e]);
  if (svc.global) assign(p, svc, e, p.nodes.get(key)!);
  else place(p, svc, e);
}

/** The scheduler: the eligible node with the fewest tasks of the service, then of all services, then the lowest id. */
function pickNode(p: Pass, svc: Svc): Node | string {
  let best: Node | undefined;
  let bestLoad: [number, number] = [0, 0];
  for (const n of p.sortedNodes) {
    if (!eligible(svc, n)) continue;
    const l = p.load(svc.s.id, n.id);
    if (!best || l[0] < bestLoad[0] || (l[0] === bestLoad[0] && l[1] < bestLoad[1])) [best, bestLoad] = [n, l];
  }
  return best ?? noSuitableNode(p, svc);
}

/**
 * swarmkit's explanation (scheduler/pipeline.go Explain): per filter the
 * nodes it turned down, most first, `; `-joined; its filters' wording.
 */
function noSuitableNode(p: Pass, svc: Svc): string {
  if (svc.constraintError !== undefined) return `no suitable node (${svc.constraintError})`;
  const notReady = p.sortedNodes.filter((n) => !ready(n)).length;
  const unfit = p.sortedNodes.filter((n) => ready(n) && !fits(svc, n)).length;
  const parts: [number, string][] = [
    [notReady, `${plural(notReady, 'node')} not available for new tasks`],
    [unfit, `scheduling constraints not satisfied on ${plural(unfit, 'node')}`],
  ];
  const why = parts.filter(([c]) => c > 0).sort((a, b) => b[0] - a[0]).map(([, s]) => s);
  return why.length === 0 ? 'no suitable node' : `no suitable node (${why.join('; ')})`;
}

function place(p: Pass, svc: Svc, e: Entry): void {
  const n = pickNode(p, svc);
  if (typeof n === 'string') p.status(e, 'pending', n);
  else assign(p, svc, e, n);
}

/** Addresses, then the node; a task without its addresses stays pending, saying which network refused. */
function assign(p: Pass, svc: Svc, e: Entry, n: Node): void {
  const addresses = p.allocate(e.t.id, svc.nets);
  if (typeof addresses === 'string') return p.status(e, 'pending', addresses);
  p.mutate(e, () => ({ nodeId: n.id, addresses, status: { state: 'assigned', message: 'scheduled', timestampMs: p.now } }));
}

// Phase 3: history.

function prune(p: Pass, svc: Svc): void {
  const limit = Math.max(TASK_HISTORY_LIMIT, svc.s.spec.restart.maxAttempts + 1);
  for (const [key, g] of svc.groups) {
    const tasks = live(g);
    let excess = tasks.length - (keptKey(p, svc, key) ? limit : 0);
    for (const e of tasks) {
      if (excess <= 0) break;
      if (!isTerminal(e.t) || e.t.desiredState === 'running' || Object.keys(e.t.addresses).length > 0) continue;
      p.drop(e);
      excess--;
    }
  }
}

/** One orchestration pass: the changes of one batch, and when to look again. */
export function reconcile(i: ReconcileInput): ReconcileOutput {
  const p = new Pass(i);
  const services = new Map([...i.services].sort(byId).map((s) => [s.id, serviceOf(p, s)]));
  for (const e of [...p.entries]) settle(p, services.get(e.t.serviceId!), e);
  for (const e of p.entries) {
    const svc = services.get(e.t.serviceId!);
    if (!svc || e.removed) continue;
    const key = keyOf(svc, e.t);
    const g = svc.groups.get(key);
    if (g) g.push(e);
    else svc.groups.set(key, [e]);
  }
  for (const svc of services.values()) {
    dedupe(p, svc);
    retryPending(p, svc);
    fill(p, svc);
    // Last, so a slot refilled above counts as an update in flight.
    rollOne(p, svc);
  }
  for (const svc of services.values()) prune(p, svc);
  p.ingressLbs();
  const out: ReconcileOutput = { changes: p.changes() };
  if (p.wakeAt !== Infinity) out.wakeAtMs = p.wakeAt;
  return out;
}
