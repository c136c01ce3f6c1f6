// The tasks of this node (issue 8, DESIGN §2 "it reports task status back"):
// makes the local tasks match the assignment, watches their processes, and
// tells the leader what became of each one. A task that ended is never
// started again here: restarting is the orchestrator's decision (a new task,
// maybe elsewhere). Reports are retried until the leader has them, and a
// report never moves a task back (the leader ignores older states).
//
//   assigned, not here       → start: starting, then running (or rejected)
//   here, not assigned       → SIGTERM, 10 s, SIGKILL; torn down; shutdown
//   here, process ended      → torn down; complete (exit 0) or failed
//
// An agent restart leaves task processes running (endpoint-process.ts); the
// first assignment after it keeps the ones still wanted and ends the rest.
import type { Clock, Timer } from '../../shared/clock.js';
import type { Logger } from '../daemon/log.js';
import type { AssignedTask } from '../swarm/service-views.js';
import { TaskStartError } from './endpoint-manager.js';
import type { EndpointRecord } from './endpoint-state.js';

/** docker stop's default grace before SIGKILL. */
export const STOP_GRACE_MS = 10_000;
const WATCH_MS = 500;
const REPORT_RETRY_MS = 1_000;

export type ReportedState = 'starting' | 'running' | 'complete' | 'failed' | 'rejected' | 'shutdown';

export interface TaskReport {
  taskId: string;
  state: ReportedState;
  message: string;
  err?: string;
  exitCode?: number;
  timestampMs: number;
}

export interface TaskHost {
  readonly records: readonly EndpointRecord[];
  status(r: EndpointRecord): { running: boolean; exitCode: number | null };
  startTask(t: AssignedTask): Promise<void>;
  endTask(id: string, graceMs: number): Promise<{ exitCode: number | null; stopped: boolean } | undefined>;
  /** Keep a running task's log bounded. */
  trimLog?(r: EndpointRecord): void;
}

export interface TaskRunnerDeps {
  host: TaskHost;
  /** To the leader over the session; rejects when it cannot be delivered now. */
  report(r: TaskReport): Promise<void>;
  clock: Clock;
  log: Logger;
  graceMs?: number;
}

/** What an ended process is reported as (docker's words). */
export function endedReport(taskId: string, exitCode: number | null, stopped: boolean, nowMs: number): TaskReport {
  if (stopped) return { taskId, state: 'shutdown', message: 'shutdown', ...(exitCode !== null ? { exitCode } : {}), timestampMs: nowMs };
  if (exitCode === 0) return { taskId, state: 'complete', message: 'finished', exitCode: 0, timestampMs: nowMs };
  if (exitCode === null) return { taskId, state: 'failed', message: 'started', err: 'task: killed (no exit code)', timestampMs: nowMs };
  return { taskId, state: 'failed', message: 'started', err: `task: non-zero exit (${exitCode})`, exitCode, timestampMs: nowMs };
}

export class TaskRunner {
  readonly #d: TaskRunnerDeps;
  /** The newest report of each task not yet acknowledged. */
  readonly #unsent = new Map<string, TaskReport>();
  /** Tasks that ended here (never started again). */
  readonly #ended = new Set<string>();
  /** Tasks this runner has said are running (once each). */
  readonly #told = new Set<string>();
  #wanted: AssignedTask[] | undefined;
  #busy: Promise<void> = Promise.resolve();
  #watch: Timer | undefined;
  #retry: Timer | undefined;
  #sending = false;
  #stopped = false;

  constructor(d: TaskRunnerDeps) {
    this.#d = d;
  }

  /** The assignment's tasks (undefined: this node left the swarm; every task ends, unreported). */
  apply(tasks: readonly AssignedTask[] | undefined): Promise<void> {
    this.#wanted = tasks === undefined ? undefined : [...tasks];
    return this.#serial(() => this.#reconcile()).finally(() => this.#watchIfNeeded());
  }

  stop(): void {
    this.#stopped = true;
    this.#watch?.cancel();
    this.#retry?.cancel();
  }

  #serial(f: () => Promise<void>): Promise<void> {
    const run = this.#busy.then(f, f);
    this.#busy = run.catch((e: unknown) => this.#d.log.warn('task reconcile failed', { error: (e as Error).message }));
    return this.#busy;
  }

  async #reconcile(): Promise<void> {
    const wanted = this.#wanted;
    const local = () => this.#d.host.records.filter((r) => r.task);
    const keep = new Set((wanted ?? []).map((t) => t.id));
    for (const r of local()) {
      if (keep.has(r.id)) continue;
      const out = await this.#d.host.endTask(r.id, this.#d.graceMs ?? STOP_GRACE_MS);
      this.#ended.add(r.id);
      if (out && wanted !== undefined) this.#send(endedReport(r.id, out.exitCode, true, this.#now()));
    }
    if (wanted === undefined) return;
    const have = new Set(local().map((r) => r.id));
    for (const t of wanted) {
      if (have.has(t.id) || this.#ended.has(t.id)) continue;
      this.#send({ taskId: t.id, state: 'starting', message: 'starting', timestampMs: this.#now() });
      try {
        await this.#d.host.startTask(t);
      } catch (e) {
        this.#ended.add(t.id);
        const err = e instanceof TaskStartError ? e.message : `starting task failed: ${(e as Error).message}`;
        this.#d.log.warn('task not started', { task: t.name, error: err });
        this.#send({ taskId: t.id, state: 'rejected', message: 'starting', err, timestampMs: this.#now() });
        continue;
      }
      this.#running(t.id);
    }
    // Tasks found running after a restart: said once more (the leader ignores it if it knew).
    for (const r of local()) if (this.#d.host.status(r).running) this.#running(r.id);
  }

  #running(id: string): void {
    if (this.#told.has(id)) return;
    this.#told.add(id);
    this.#send({ taskId: id, state: 'running', message: 'started', timestampMs: this.#now() });
  }

  /** Watch while there are tasks here; no timer at all when there are none. */
  #watchIfNeeded(): void {
    if (this.#watch !== undefined || this.#stopped || !this.#d.host.records.some((r) => r.task)) return;
    this.#tick();
  }

  /** Every WATCH_MS: tasks whose process ended are torn down and reported. */
  #tick(): void {
    this.#watch = this.#d.clock.after(WATCH_MS, () => {
      void this.#serial(async () => {
        for (const r of this.#d.host.records.filter((x) => x.task)) {
          const st = this.#d.host.status(r);
          if (st.running) {
            this.#d.host.trimLog?.(r);
            continue;
          }
          const out = await this.#d.host.endTask(r.id, 0);
          this.#ended.add(r.id);
          this.#send(endedReport(r.id, out?.exitCode ?? st.exitCode, false, this.#now()));
        }
      }).finally(() => {
        this.#watch = undefined;
        this.#watchIfNeeded();
      });
    });
  }

  #now(): number {
    return Math.floor(this.#d.clock.wallMs());
  }

  #send(r: TaskReport): void {
    this.#unsent.set(r.taskId, r);
    void this.#flush();
  }

  /** Deliver the unsent reports in order of arrival; what fails is retried after a pause. */
  async #flush(): Promise<void> {
    if (this.#sending || this.#stopped) return;
    this.#sending = true;
    try {
      for (const [id, r] of this.#unsent) {
        try {
          await this.#d.report(r);
        } catch (e) {
          this.#d.log.debug('task report not delivered', { task: id, state: r.state, error: (e as Error).message });
          this.#retry?.cancel();
          this.#retry = this.#d.clock.after(REPORT_RETRY_MS, () => void this.#flush());
          return;
        }
        // A newer report of the same task may have replaced it meanwhile.
        if (this.#unsent.get(id) === r) this.#unsent.delete(id);
      }
    } finally {
      this.#sending = false;
    }
    if (this.#unsent.size > 0) void this.#flush();
  }
}
