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
import { existsSync, readFileSync } from 'node:fs';

const WRAPPER = 'log=$1; ex=$2; shift 2; "$@" >>"$log" 2>&1 </dev/null; echo $? >"$ex.tmp" && mv "$ex.tmp" "$ex"';

export interface ProcessStatus {
  running: boolean;
  /** The command's exit code once it ended; null when it ended without one (killed, or the wrapper died). */
  exitCode: number | null;
}

/** The seam to the OS for endpoint processes (a fake in unit tests). */
export interface ProcessRunner {
  /** Start argv inside netns; returns the wrapper's pid (the group leader). */
  start(o: { netns: string; argv: readonly string[]; logPath: string; exitPath: string }): Promise<number>;
  status(pid: number, exitPath: string): ProcessStatus;
  /** Signal the whole group. */
  signal(pid: number, sig: NodeJS.Signals): void;
}

export function hostProcesses(): ProcessRunner {
  return {
    start({ netns, argv, logPath, exitPath }) {
      return new Promise((resolve, reject) => {
        const child = spawn('sh', ['-c', WRAPPER, 'sh', logPath, exitPath, 'ip', 'netns', 'exec', netns, ...argv], { detached: true, stdio: 'ignore' });
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
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
