// A long-running process started inside a host's netns, tracked by PID so the
// bed can end it; its stdout and stderr go to a log file, not to us, so a
// chatty process can never stall on a full pipe.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fullArgv, showArgv } from '../host/run.js';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface BedProcessOptions {
  netns: string;
  logPath: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Enter only the host's network namespace (nsenter), keeping the machine's
   * mount namespace: an agent's `ip netns add` must be visible to every other
   * process, as it is for a daemon on a real host. `ip netns exec` (the
   * default) gives the process a private mount namespace, where such a mount
   * stays invisible and other processes get "Invalid argument" from setns.
   */
  sharedMounts?: boolean;
}

export class BedProcess {
  readonly pid: number;
  readonly argv: readonly string[];
  readonly logPath: string;
  /** Settles once the process has exited and been reaped. */
  readonly exited: Promise<ExitStatus>;
  private status: ExitStatus | undefined;

  private constructor(pid: number, argv: readonly string[], logPath: string, exited: Promise<ExitStatus>) {
    this.pid = pid;
    this.argv = argv;
    this.logPath = logPath;
    this.exited = exited.then((s) => (this.status = s));
  }

  /** Starts argv inside opts.netns (`ip netns exec` execs it, so pid is the program's own). */
  static start(argv: readonly string[], opts: BedProcessOptions): BedProcess {
    const full = opts.sharedMounts ? ['nsenter', `--net=/run/netns/${opts.netns}`, '--', ...argv] : fullArgv(argv, opts.netns);
    const fd = openSync(opts.logPath, 'a');
    try {
      const [cmd, ...args] = full as [string, ...string[]];
      const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: opts.env ?? process.env });
      const exited = new Promise<ExitStatus>((resolve) => {
        child.on('exit', (code, signal) => resolve({ code, signal }));
        child.on('error', () => resolve({ code: 127, signal: null }));
      });
      if (child.pid === undefined) throw new Error(`${showArgv(full)}: could not start`);
      return new BedProcess(child.pid, argv, opts.logPath, exited);
    } finally {
      closeSync(fd); // the child holds its own copy
    }
  }

  get running(): boolean {
    return this.status === undefined;
  }

  kill(sig: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, sig);
    } catch {
      // Exited between the check and the signal.
    }
  }

  /** SIGTERM, wait up to graceMs, then SIGKILL; resolves with how it ended. Idempotent. */
  async stop(graceMs = 5_000): Promise<ExitStatus> {
    if (this.status !== undefined) return this.status;
    this.kill('SIGTERM');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)));
    const first = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (first !== 'late') return first;
    this.kill('SIGKILL');
    return this.exited;
  }
}
