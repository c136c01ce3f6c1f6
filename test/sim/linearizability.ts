// A linearizability checker for key-value histories (Herlihy & Wing 1990),
// searched the way Wing & Gong and Lowe describe, with a cache of visited
// (linearized set, state) pairs as in Porcupine. Linearizability is local
// (Herlihy & Wing §3.3, "locality"), so each key's history is checked alone:
// a register whose state is one value.
//
// An operation whose outcome the client never learned (a timeout, a crash)
// has no completion: it may take effect at any point after its invocation,
// or never. Completed reads and writes must all be placed.

export interface Op {
  /** Who issued it (for messages only). */
  client: string;
  kind: 'put' | 'get';
  key: string;
  /** put: the value written. */
  value?: string;
  /** get: the value read (undefined = absent). */
  result?: string | undefined;
  invokeMs: number;
  /** undefined when the outcome is unknown. */
  completeMs?: number;
}

export type Verdict = { ok: true } | { ok: false; key: string; ops: Op[]; message: string };

/** Histories larger than this per key are refused rather than searched for ages. */
const MAX_OPS_PER_KEY = 200;

export function checkLinearizable(history: readonly Op[], initial: string | undefined = undefined): Verdict {
  const byKey = new Map<string, Op[]>();
  for (const op of history) {
    const list = byKey.get(op.key) ?? [];
    list.push(op);
    byKey.set(op.key, list);
  }
  for (const [key, ops] of byKey) {
    if (ops.length > MAX_OPS_PER_KEY) throw new Error(`checkLinearizable: key ${key} has ${ops.length} ops, more than ${MAX_OPS_PER_KEY}`);
    if (!checkRegister(ops, initial)) {
      return { ok: false, key, ops, message: `history of key "${key}" (${ops.length} ops) is not linearizable:\n${show(ops)}` };
    }
  }
  return { ok: true };
}

function show(ops: readonly Op[]): string {
  return [...ops]
    .sort((a, b) => a.invokeMs - b.invokeMs)
    .map((o) => `  ${o.client} ${o.kind}(${o.kind === 'put' ? o.value : ''}) -> ${o.kind === 'get' ? String(o.result) : 'ok'} [${o.invokeMs}, ${o.completeMs ?? '?'}]`)
    .join('\n');
}

function checkRegister(ops: readonly Op[], initial: string | undefined): boolean {
  const n = ops.length;
  const end = (o: Op) => o.completeMs ?? Infinity;
  const mustPlace = ops.filter((o) => o.completeMs !== undefined).length;
  const done = new Uint8Array(n);
  const seen = new Set<string>();

  const search = (state: string | undefined, placed: number): boolean => {
    if (placed === mustPlace) return true;
    const memo = `${done.join('')}|${state === undefined ? '\u0000' : state}`;
    if (seen.has(memo)) return false;
    seen.add(memo);
    // The earliest completion among ops not yet placed bounds what may go next:
    // an op invoked after some unplaced op completed cannot precede it.
    let horizon = Infinity;
    for (let i = 0; i < n; i++) if (!done[i]) horizon = Math.min(horizon, end(ops[i]!));
    for (let i = 0; i < n; i++) {
      const o = ops[i]!;
      if (done[i] || o.invokeMs > horizon) continue;
      let next = state;
      if (o.kind === 'put') next = o.value;
      else if (o.completeMs !== undefined && o.result !== state) continue;
      done[i] = 1;
      const ok = search(next, placed + (o.completeMs !== undefined ? 1 : 0));
      done[i] = 0;
      if (ok) return true;
    }
    return false;
  };
  return search(initial, 0);
}
