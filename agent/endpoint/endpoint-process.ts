// The process of a standalone endpoint: CMD run inside the endpoint's netns,
// detached from the daemon (its own process group) so that it outlives a
// daemon restart, as docker's live-restore keeps containers running. A tiny
// sh wrapper sends the output to the endpoint's log file and writes the exit
// code to a file, so the status survives the daemon too:
//
//   sh -c '<wrapper>' sh LOG EXIT ip netns exec NETNS CMD ARGS...
//
// No shell ever parses CMD: it reaches exec as argv.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const WRAPPER = 'log=$1; ex=$2; shift 2; "$@" >>"$log" 2>&1 </dev/null; echo $? >"$ex.tmp" && mv "$ex.tmp" "$ex"';

export interface ProcessStatus {
  running: boolean;
  /** The command's exit code once it ended; null when it ended without one (killed, or the wrapper died). */
  exitCode: number | null;
}

/** The seam to the OS for endpoint processes (a fake in unit tests). */
export interface StartOptions {
  netns: string;
  argv: readonly string[];
  logPath: string;
  exitPath: string;
  /** KEY=VALUE for the command, over PATH (a task's environment, nothing else of the daemon's). */
  env?: readonly string[];
  /** Run in a UTS namespace of its own with this hostname (a task's name). */
  hostname?: string;
  /** The resolv.conf the command sees (`ip netns exec` mounts /etc/netns/NETNS/resolv.conf over /etc/resolv.conf). */
  resolvConf?: string;
}

export interface ProcessRunner {
  /** Start argv inside netns; returns the wrapper's pid (the group leader). */
  start(o: StartOptions): Promise<number>;
  status(pid: number, exitPath: string): ProcessStatus;
  /** Signal the whole group. */
  signal(pid: number, sig: NodeJS.Signals): void;
  /** The netns is gone: remove what start wrote for it (/etc/netns/NETNS). */
  forget?(netns: string): void;
}

/** Where `ip netns exec` finds the per-namespace files it mounts over /etc. */
export function netnsEtc(netns: string): string {
  return join('/etc/netns', netns);
}

export function hostProcesses(): ProcessRunner {
  return {
    start({ netns, argv, logPath, exitPath, env, hostname, resolvConf }) {
      if (resolvConf !== undefined) {
        mkdirSync(netnsEtc(netns), { recursive: true, mode: 0o755 });
        writeFileSync(join(netnsEtc(netns), 'resolv.conf'), resolvConf, { mode: 0o644 });
      }
      return new Promise((resolve, reject) => {
        const inner = hostname === undefined ? argv : ['unshare', '--uts', 'sh', '-c', SET_HOSTNAME, hostname, ...argv];
        const options = { detached: true, stdio: 'ignore' as const, ...(env !== undefined ? { env: taskEnv(env, hostname) } : {}) };
        const child = spawn('sh', ['-c', WRAPPER, 'sh', logPath, exitPath, 'ip', 'netns', 'exec', netns, ...inner], options);
        child.once('error', reject);
        child.once('spawn', () => {
          child.unref();
          if (child.pid === undefined) reject(new Error(`could not start ${argv[0]}`));
          else resolve(child.pid);
        });
      });
    },
    status(pid, exitPath) {
      if (existsSync(exitPath)) {
        const n = Number(readFileSync(exitPath, 'utf8').trim());
        return { running: false, exitCode: Number.isInteger(n) ? n : null };
      }
      return { running: alive(pid), exitCode: null };
    },
    signal(pid, sig) {
      try {
        process.kill(-pid, sig);
      } catch {
        // Already gone.
      }
    },
    forget(netns) {
      rmSync(netnsEtc(netns), { recursive: true, force: true });
    },
  };
}

/** Inside the task's own UTS namespace: its hostname, then the command (argv, never parsed by a shell). */
const SET_HOSTNAME = 'hostname "$0" || exit 126; exec "$@"';
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A task's environment: PATH and HOSTNAME as docker gives a container, then the service's --env. */
function taskEnv(env: readonly string[], hostname: string | undefined): Record<string, string> {
  const out: Record<string, string> = { PATH: DEFAULT_PATH, ...(hostname !== undefined ? { HOSTNAME: hostname } : {}) };
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}

/** Where argv[0] would be found in PATH (docker fails a task whose executable is missing before starting it). */
export function findExecutable(cmd: string, path = DEFAULT_PATH): string | undefined {
  const candidates = cmd.includes('/') ? [cmd] : path.split(':').filter((d) => d !== '').map((d) => `${d}/${cmd}`);
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) return c;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
