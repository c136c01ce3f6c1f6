// The one way tests are declared. It wraps uvu's suite so that every test
// fails when it leaves behind a socket, timer, server or child process it
// opened (STYLE habit 14): the active-resource set of the process must be back
// to what it was before the test, within a short grace period for closes that
// complete on the next turn of the event loop.
import { suite as uvuSuite } from 'uvu';

export { ok, is, equal, not, throws, unreachable, match } from 'uvu/assert';

// Resources that come and go on their own and say nothing about a leak.
const IGNORED = new Set(['TTYWrap', 'FSReqCallback', 'FSReqPromise', 'FileHandle', 'StatWatcher', 'Immediate', 'PipeWrap']);

function activeCounts(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) {
    if (IGNORED.has(r)) continue;
    m.set(r, (m.get(r) ?? 0) + 1);
  }
  return m;
}

function excess(before: Map<string, number>, now: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [k, n] of now) {
    const extra = n - (before.get(k) ?? 0);
    if (extra > 0) out.push(`${k} x${extra}`);
  }
  return out;
}

/** Resolve once fn is true, checking on each macrotask turn; reject after deadlineMs. */
export async function until(fn: () => boolean, deadlineMs = 2000, what = 'condition'): Promise<void> {
  const end = performance.now() + deadlineMs;
  while (!fn()) {
    if (performance.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** e2e: resolve once fn resolves true, polling every pollMs; reject after deadlineMs with the last error seen. */
export async function eventually(fn: () => Promise<boolean>, deadlineMs: number, what: string, pollMs = 100): Promise<void> {
  const end = performance.now() + deadlineMs;
  let last = '';
  for (;;) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = (e as Error).message;
    }
    if (performance.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await new Promise<void>((r) => setTimeout(r, pollMs));
  }
}

async function checkLeaks(before: Map<string, number>, graceMs: number): Promise<string[]> {
  let left = excess(before, activeCounts());
  const end = performance.now() + graceMs;
  while (left.length > 0 && performance.now() < end) {
    await new Promise<void>((r) => setImmediate(r));
    left = excess(before, activeCounts());
  }
  return left;
}

export interface SuiteOptions {
  /** How long closes may take to settle after a test, in ms. */
  leakGraceMs?: number;
}

type Handler<S> = (ctx: S) => void | Promise<void>;

/**
 * A uvu suite whose tests fail on leaked handles. Use exactly like uvu's
 * suite: `const t = suite('name'); t('does x', () => {...}); t.run();`
 */
export function suite<S extends object = Record<string, never>>(name: string, state?: S, opts: SuiteOptions = {}) {
  const s = uvuSuite<S>(name, state);
  const grace = opts.leakGraceMs ?? 1000;
  const wrap = (fn: Handler<S>): Handler<S> => async (ctx) => {
    const before = activeCounts();
    let failure: unknown;
    try {
      await fn(ctx);
    } catch (e) {
      failure = e;
    }
    const leaked = await checkLeaks(before, grace);
    if (failure !== undefined) throw failure;
    if (leaked.length > 0) throw new Error(`test leaked: ${leaked.join(', ')}`);
  };
  const t = ((testName: string, fn: Handler<S>) => s(testName, wrap(fn) as never)) as typeof s;
  t.before = s.before;
  t.after = s.after;
  t.only = ((testName: string, fn: Handler<S>) => s.only(testName, wrap(fn) as never)) as typeof s.only;
  t.skip = s.skip;
  t.run = s.run;
  return t;
}
