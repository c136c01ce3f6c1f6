// One `agent daemon` inside a host's netns: started, awaited until its local
// API answers, talked to through its CLI or its socket, stopped.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunOptions, type RunResult } from '../host/run.js';
import { BedProcess, type ExitStatus } from './bed-process.js';
import { ApiClient, type HttpAnswer } from '../api/client.js';

export interface StartAgentOptions {
  /** How to run the agent binary, e.g. [process.execPath, 'dist/agent.mjs']. */
  agentCmd: readonly string[];
  /** Appended after the bed's own daemon flags. */
  args?: readonly string[];
  /** Added to this process's environment (a daemon needs PATH to find iproute2, sysctl, nft). */
  env?: NodeJS.ProcessEnv;
  /** Names the agent's dir and name prefix; default the host's name. Use another to run several agents on one host. */
  id?: string;
  /** Default 15 s. */
  readyTimeoutMs?: number;
}

export interface AgentPlace {
  host: { name: string; netns: string };
  /** The agent's dir: agent.sock, state/, daemon.log. Kept across restarts. */
  dir: string;
  namePrefix: string;
}

const READY_TIMEOUT_MS = 15_000;
const READY_POLL_MS = 50;
const LOG_LINES_IN_ERRORS = 3;

function tail(path: string, lines: number): string[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(-lines);
}

export class AgentProcess {
  readonly host: { name: string; netns: string };
  readonly dir: string;
  readonly socket: string;
  readonly stateDir: string;
  readonly logPath: string;
  readonly agentCmd: readonly string[];
  private readonly proc: BedProcess;

  private constructor(place: AgentPlace, agentCmd: readonly string[], proc: BedProcess) {
    this.host = place.host;
    this.dir = place.dir;
    this.socket = join(place.dir, 'agent.sock');
    this.stateDir = join(place.dir, 'state');
    this.logPath = join(place.dir, 'daemon.log');
    this.agentCmd = agentCmd;
    this.proc = proc;
  }

  /** Starts the daemon and resolves once GET /_ping answers 200 "OK"; else kills it and throws one line. */
  static async start(place: AgentPlace, opts: StartAgentOptions): Promise<AgentProcess> {
    if (opts.agentCmd.length === 0) throw new Error('startAgent: agentCmd must name a program, got []');
    mkdirSync(join(place.dir, 'state'), { recursive: true });
    const socket = join(place.dir, 'agent.sock');
    const argv = [
      ...opts.agentCmd,
      'daemon',
      '--host',
      `unix://${socket}`,
      '--state-dir',
      join(place.dir, 'state'),
      '--name-prefix',
      place.namePrefix,
      ...(opts.args ?? []),
    ];
    const proc = BedProcess.start(argv, { netns: place.host.netns, logPath: join(place.dir, 'daemon.log'), env: { ...process.env, ...opts.env }, sharedMounts: true });
    const agent = new AgentProcess(place, opts.agentCmd, proc);
    const deadlineMs = opts.readyTimeoutMs ?? READY_TIMEOUT_MS;
    const why = await agent.waitReady(deadlineMs);
    if (why === undefined) return agent;
    await proc.stop(0);
    const log = tail(agent.logPath, LOG_LINES_IN_ERRORS);
    throw new Error(`agent ${place.host.name}: ${why}; log: ${log.length > 0 ? log.join(' | ') : '(empty)'}`);
  }

  /** undefined when ready, else why not. */
  private async waitReady(deadlineMs: number): Promise<string | undefined> {
    const end = performance.now() + deadlineMs;
    let last = 'no answer';
    for (;;) {
      if (!this.proc.running) {
        const s = await this.proc.exited;
        return `exited (${s.signal ?? `code ${s.code}`}) before answering GET /_ping`;
      }
      try {
        const a = await new ApiClient({ host: `unix://${this.socket}`, timeoutMs: 1_000 }).raw('GET', '/_ping');
        if (a.status === 200 && a.body.trim() === 'OK') return undefined;
        last = `answered ${a.status} ${JSON.stringify(a.body.slice(0, 40))}`;
      } catch (e) {
        last = (e as Error).message;
      }
      if (performance.now() > end) return `did not answer GET /_ping with 200 OK within ${deadlineMs} ms (last: ${last})`;
      await new Promise<void>((r) => setTimeout(r, READY_POLL_MS));
    }
  }

  get pid(): number {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.running;
  }

  get exited(): Promise<ExitStatus> {
    return this.proc.exited;
  }

  /** Runs the agent's CLI against this daemon, inside the host's netns. */
  cli(args: readonly string[], opts: Omit<RunOptions, 'netns'> = {}): Promise<RunResult> {
    return run([...this.agentCmd, '--host', `unix://${this.socket}`, ...args], { allowFail: true, ...opts, netns: this.host.netns });
  }

  /** One request to the daemon's local API. */
  api(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    return new ApiClient({ host: `unix://${this.socket}`, timeoutMs: 5_000 }).raw(method, path, body);
  }

  /** The last lines of daemon.log. */
  logTail(lines = 20): string[] {
    return tail(this.logPath, lines);
  }

  /** kill -9: no chance to clean up (a crash, a power cut for the process). Resolves once it is gone. */
  async kill9(): Promise<ExitStatus> {
    this.proc.kill('SIGKILL');
    return this.proc.exited;
  }

  /** SIGTERM, wait up to graceMs, then SIGKILL. Idempotent. */
  stop(graceMs = 5_000): Promise<ExitStatus> {
    return this.proc.stop(graceMs);
  }
}
