// Liveness and ending of processes by PID, async and sync (exit-time).
import { readFileSync } from 'node:fs';
import { run, runSync } from '../host/run.js';

/**
 * True while pid runs. A zombie counts as gone: it holds no namespace and
 * will never clean anything up; its parent merely has not reaped it yet.
 */
export function pidAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // Field 3, after the parenthesised command name (which may hold spaces).
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone: exactly what the caller wants.
  }
}

const POLL_MS = 20;

/** Resolves true once every pid is gone, false at the deadline. */
export async function waitGone(pids: readonly number[], deadlineMs: number): Promise<boolean> {
  const end = performance.now() + deadlineMs;
  for (;;) {
    if (pids.every((p) => !pidAlive(p))) return true;
    if (performance.now() > end) return false;
    await new Promise<void>((r) => setTimeout(r, POLL_MS));
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export function waitGoneSync(pids: readonly number[], deadlineMs: number): boolean {
  const end = performance.now() + deadlineMs;
  for (;;) {
    if (pids.every((p) => !pidAlive(p))) return true;
    if (performance.now() > end) return false;
    Atomics.wait(sleeper, 0, 0, POLL_MS);
  }
}

/** SIGTERM, then SIGKILL whatever is left at the deadline; resolves when all are gone. */
export async function endPids(pids: readonly number[], graceMs: number): Promise<void> {
  for (const p of pids) signal(p, 'SIGTERM');
  if (await waitGone(pids, graceMs)) return;
  for (const p of pids) signal(p, 'SIGKILL');
  await waitGone(pids, 5_000);
}

export function endPidsSync(pids: readonly number[], graceMs: number): void {
  for (const p of pids) signal(p, 'SIGTERM');
  if (waitGoneSync(pids, graceMs)) return;
  for (const p of pids) signal(p, 'SIGKILL');
  waitGoneSync(pids, 5_000);
}

function parsePids(stdout: string): number[] {
  return stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0 && n !== process.pid);
}

/** Every process inside a named netns (they are ours when the netns is). */
export async function netnsPids(netns: string): Promise<number[]> {
  const r = await run(['ip', 'netns', 'pids', netns], { allowFail: true });
  return parsePids(r.stdout);
}

export function netnsPidsSync(netns: string): number[] {
  return parsePids(runSync(['ip', 'netns', 'pids', netns], { allowFail: true }).stdout);
}
