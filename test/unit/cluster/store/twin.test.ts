// The store against a dumb twin (STYLE habit 5): one flat Map, every check a
// linear scan, a batch applied to a full copy. Both get the same seeded
// command sequence; after every command their verdicts, their changes and
// their whole contents must agree. A failure prints the seed and the step.
import { suite, equal, ok } from '../../../harness.js';
import { seededRand } from '../../../../shared/rand.js';
import { decodeCommand, type Change } from '../../../../agent/cluster/store/command.js';
import { InvalidCommandError } from '../../../../agent/cluster/store/errors.js';
import { Store } from '../../../../agent/cluster/store/store.js';
import { KINDS, NAMED_KINDS, type Kind } from '../../../../agent/cluster/store/types.js';
import { randomCommand } from './fixtures.js';

const t = suite('store/twin');

type Obj = { id: string; name?: string; meta: { version: number; createdAtIndex: number; updatedAtIndex: number } } & Record<string, unknown>;
type Twin = Map<string, { kind: Kind; obj: Obj }>;
type Verdict = { code: string | undefined; changes: string[] };

const keyOf = (kind: Kind, id: string) => `${kind}/${id}`;

function twinChange(m: Twin, index: number, c: Change): string {
  const id = c.op === 'delete' ? c.id : c.object.id;
  const cur = m.get(keyOf(c.kind, id));
  if (c.op === 'delete') {
    if (!cur) throw 'STORE_NOT_FOUND';
    if (c.version !== undefined && c.version !== cur.obj.meta.version) throw 'STORE_STALE_VERSION';
    m.delete(keyOf(c.kind, id));
    return `delete ${c.kind} ${id} ${cur.obj.meta.version}`;
  }
  if (c.op === 'create' && cur) throw 'STORE_CONFLICT';
  if (c.op === 'update') {
    if (!cur) throw 'STORE_NOT_FOUND';
    if (c.version !== cur.obj.meta.version) throw 'STORE_STALE_VERSION';
  }
  const name = (c.object as { name?: string }).name;
  if (NAMED_KINDS.has(c.kind)) {
    for (const x of m.values()) if (x.kind === c.kind && x.obj.id !== id && x.obj.name === name) throw 'STORE_CONFLICT';
  }
  const createdAtIndex = cur ? cur.obj.meta.createdAtIndex : index;
  m.set(keyOf(c.kind, id), { kind: c.kind, obj: { ...(c.object as object), meta: { version: index, createdAtIndex, updatedAtIndex: index } } as Obj });
  return `${c.op} ${c.kind} ${id} ${index}`;
}

function twinApply(m: Twin, index: number, bytes: Uint8Array): { next: Twin; verdict: Verdict } {
  let changes: Change[];
  try {
    const cmd = decodeCommand(bytes);
    changes = cmd.op === 'batch' ? cmd.changes : [cmd];
  } catch (e) {
    ok(e instanceof InvalidCommandError);
    return { next: m, verdict: { code: 'STORE_INVALID_COMMAND', changes: [] } };
  }
  const copy: Twin = new Map(m);
  const out: string[] = [];
  try {
    for (const c of changes) out.push(twinChange(copy, index, c));
  } catch (code) {
    return { next: m, verdict: { code: code as string, changes: [] } };
  }
  return { next: copy, verdict: { code: undefined, changes: out } };
}

function twinList(m: Twin, kind: Kind): Obj[] {
  return [...m.values()].filter((x) => x.kind === kind).map((x) => x.obj).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function runSeed(seed: number, steps: number): void {
  const r = seededRand(seed);
  const store = new Store();
  const watcher = store.watch({ maxQueued: 64 });
  let twin: Twin = new Map();
  const view = (kind: Kind) => twinList(twin, kind).map((o) => ({ id: o.id, version: o.meta.version }));
  let index = 0;
  for (let step = 0; step < steps; step++) {
    index += 1 + (r.int(4) === 0 ? r.int(3) : 0); // gaps: entries that are not store commands
    const bytes = randomCommand(r, view);
    const at = `seed ${seed}, step ${step}, index ${index}`;
    const got = store.apply(index, bytes);
    const want = twinApply(twin, index, bytes);
    twin = want.next;
    const gotVerdict: Verdict = got.ok
      ? { code: undefined, changes: got.changes.map((e) => `${e.action} ${e.kind} ${e.object.id} ${e.object.meta.version}`) }
      : { code: got.error.code, changes: [] };
    equal(gotVerdict, want.verdict, at);
    equal(watcher.take().map((e) => `${e.action} ${e.kind} ${e.object.id} ${e.object.meta.version}`), want.verdict.changes, `${at}: watch`);
    for (const kind of KINDS) equal(store.list(kind), twinList(twin, kind) as never, `${at}: ${kind}`);
    for (const kind of ['network', 'service', 'cluster'] as const) {
      for (const o of twinList(twin, kind)) equal(store.findByName(kind, o.name!)?.id, o.id, `${at}: find ${kind} ${o.name}`);
    }
  }
  equal(store.appliedIndex, index);
  watcher.close();
}

t('the store agrees with a Map model over many seeds', () => {
  const base = Number(process.env.STORE_TWIN_SEED ?? 1000);
  const seeds = Number(process.env.STORE_TWIN_SEEDS ?? 60);
  for (let seed = base; seed < base + seeds; seed++) {
    try {
      runSeed(seed, 250);
    } catch (e) {
      console.error(`store twin failed at seed ${seed} (rerun with STORE_TWIN_SEED=${seed} STORE_TWIN_SEEDS=1)`);
      throw e;
    }
  }
});

t('the generator exercises every verdict', () => {
  const r = seededRand(7);
  const s = new Store();
  const codes = new Set<string>();
  for (let i = 1; i <= 2000; i++) {
    const res = s.apply(i, randomCommand(r, (k) => s.list(k).map((o) => ({ id: o.id, version: o.meta.version }))));
    codes.add(res.ok ? 'ok' : res.error.code);
  }
  equal([...codes].sort(), ['STORE_CONFLICT', 'STORE_INVALID_COMMAND', 'STORE_NOT_FOUND', 'STORE_STALE_VERSION', 'ok']);
});

t.run();
