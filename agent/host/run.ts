// The one place the agent runs external programs (iproute2, tc, nft, later
// iptables). No shell is ever involved: argv goes to the kernel as given, so a
// network or host name can never be read as shell syntax. Only node: built-ins,
// so the same code runs on Node 20 and Deno 2.
import { spawn, spawnSync } from 'node:child_process';

export interface RunOptions {
  /** Written to the program's stdin, which is then closed (e.g. `nft -f -`). */
  input?: string;
  /** The program is killed (SIGKILL) after this long; default 30 s. */
  timeoutMs?: number;
  /** Run inside this named network namespace (`ip netns exec NAME ...`). */
  netns?: string;
  /** Resolve with the result instead of rejecting on a non-zero exit. */
  allowFail?: boolean;
  /** Environment of the program; default the agent's own. */
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  /** Exit code; 128+n when killed by signal n; 127 when it could not start. */
  code: number;
  stdout: string;
  stderr: string;
}

// Long enough for a slow `ip netns del` under load, short enough that a hung
// tool fails a test instead of the test runner's file deadline.
const DEFAULT_TIMEOUT_MS = 30_000;

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** The argv actually executed: `netns` wraps it in `ip netns exec NAME`. */
export function fullArgv(argv: readonly string[], netns?: string): string[] {
  if (argv.length === 0 || argv[0] === '') throw new Error('run: argv must name a program, got an empty argv');
  return netns === undefined ? [...argv] : ['ip', 'netns', 'exec', netns, ...argv];
}

/** The command as one readable line, for messages only (never executed). */
export function showArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

function firstLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
}

function failureMessage(argv: readonly string[], r: RunResult, timedOutMs?: number): string {
  const why =
    timedOutMs !== undefined
      ? `timed out after ${timedOutMs} ms`
      : (firstLine(r.stderr) ?? firstLine(r.stdout) ?? `exited with code ${r.code}`);
  return `${showArgv(argv)}: ${why}`;
}

function signalCode(signal: NodeJS.Signals | null): number {
  return signal === null ? 1 : 128 + (SIGNAL_NUMBERS[signal] ?? 0);
}

/**
 * Run a program to completion. Rejects (unless allowFail) with an Error whose
 * message is one line: the command and the tool's first stderr line.
 */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const full = fullArgv(argv, opts.netns);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = full as [string, ...string[]];
    const child = spawn(cmd, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    if (opts.input !== undefined && child.stdin) {
      // A program that exits without reading its input must not crash us with EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const settle = (r: RunResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (r.code === 0 || (opts.allowFail === true && !timedOut)) resolve(r);
      else reject(new Error(failureMessage(full, r, timedOut ? timeoutMs : undefined)));
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      // Spawn failures (ENOENT, EACCES) look like a shell's "command not found".
      settle({ code: 127, stdout, stderr: `${e.code === 'ENOENT' ? 'command not found' : e.message}\n${stderr}` });
    });
    child.on('close', (code, signal) => settle({ code: code ?? signalCode(signal), stdout, stderr }));
  });
}

/**
 * The synchronous twin of run(), for exit-time cleanup where the event loop
 * will not turn again. Same options, same one-line errors.
 */
export function runSync(argv: readonly string[], opts: RunOptions = {}): RunResult {
  const full = fullArgv(argv, opts.netns);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const [cmd, ...args] = full as [string, ...string[]];
  const r = spawnSync(cmd, args, {
    input: opts.input,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
  });
  const err = r.error as NodeJS.ErrnoException | undefined;
  const timedOut = err?.code === 'ETIMEDOUT';
  let result: RunResult;
  if (err !== undefined && !timedOut) {
    result = { code: 127, stdout: '', stderr: err.code === 'ENOENT' ? 'command not found' : err.message };
  } else {
    result = { code: r.status ?? signalCode(r.signal), stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }
  if (result.code === 0 || (opts.allowFail === true && !timedOut)) return result;
  throw new Error(failureMessage(full, result, timedOut ? timeoutMs : undefined));
}
