// The log against a dumb twin (STYLE habit 5): random saves, snapshots,
// leader installs and crashes of every kind (including in the middle of a
// call) over many seeds. The twin is the list of acknowledged states, each
// computed the naive way from a never-compacted array of every entry; after
// any crash the log must read back the last acknowledged state or, when the
// crash hit a call in flight, that call's result (or its documented
// half-way state). A failure prints the seed and the step to replay.
import { suite, equal, ok } from '../../../harness.js';
import { Wal } from '../../../../agent/cluster/wal/wal.js';
import type { CrashOptions, MemDisk } from '../../../../agent/cluster/wal/mem-disk.js';
import type { Entry, HardState, SnapshotMeta } from '../../../../agent/cluster/wal/types.js';
import { seededRand, type Rand } from '../../../../shared/rand.js';
import { DIR, memDisk, view, type LogView } from './helpers.js';

const t = suite('wal vs dumb twin');
const SEEDS = 300;
const STEPS = 60;

/** The naive model: every entry ever appended (minus replaced ones), never compacted. */
interface Twin {
  hardState: HardState;
  all: Entry[];
  snapshot: (SnapshotMeta & { data: number[] }) | undefined;
}

function expected(tw: Twin): LogView {
  const floor = tw.snapshot?.index ?? 0;
  return { hardState: { ...tw.hardState }, snapshot: tw.snapshot && { index: tw.snapshot.index, term: tw.snapshot.term }, entries: tw.all.filter((e) => e.index > floor) };
}

function twinSave(tw: Twin, hardState: HardState | undefined, entries: Entry[]): Twin {
  const first = entries[0]?.index;
  const all = first === undefined ? tw.all : tw.all.filter((e) => e.index < first).concat(entries);
  return { ...tw, hardState: hardState ?? tw.hardState, all };
}

function twinSnapshot(tw: Twin, m: SnapshotMeta, data: number[]): Twin {
  const covered = tw.all.find((e) => e.index === m.index)?.term === m.term;
  return { ...tw, all: covered ? tw.all : [], snapshot: { ...m, data } };
}

const same = (a: LogView, b: LogView) => JSON.stringify(a) === JSON.stringify(b);

type Op = { what: string; next: Twin; between: Twin[]; run: (wal: Wal) => Promise<void> };

function randomOp(r: Rand, tw: Twin): Op {
  const floor = tw.snapshot?.index ?? 0;
  const last = tw.all.at(-1)?.index ?? floor;
  const maxTerm = Math.max(tw.hardState.term, tw.all.at(-1)?.term ?? 0, tw.snapshot?.term ?? 0, 1);
  const x = r.float();
  if (x < 0.12 && last > floor) {
    const index = floor + 1 + r.int(last - floor);
    const m = { index, term: tw.all.find((e) => e.index === index)!.term };
    const data = Array.from(r.bytes(r.int(6)));
    return { what: `saveSnapshot(${index}/${m.term})`, next: twinSnapshot(tw, m, data), between: [], run: (w) => w.saveSnapshot(Uint8Array.from(data), m) };
  }
  if (x < 0.16) {
    const m = { index: floor + 1 + r.int(last - floor + 5), term: maxTerm + 1 };
    const data = Array.from(r.bytes(r.int(6)));
    return { what: `install(${m.index}/${m.term})`, next: twinSnapshot(tw, m, data), between: [], run: (w) => w.saveSnapshot(Uint8Array.from(data), m) };
  }
  // A save: entries (often at the end, sometimes overwriting a suffix), a hard state, or both.
  const withEntries = r.float() < 0.8;
  const withHard = !withEntries || r.float() < 0.5;
  const entries: Entry[] = [];
  if (withEntries) {
    const first = r.float() < 0.7 ? last + 1 : floor + 1 + r.int(last - floor + 1);
    const term = maxTerm + (r.float() < 0.2 ? 1 : 0);
    const n = 1 + r.int(4);
    for (let i = 0; i < n; i++) entries.push({ index: first + i, term, type: r.float() < 0.1 ? 'conf' : 'normal', data: r.bytes(r.int(20)) });
  }
  const hardState = withHard ? { term: maxTerm + r.int(2), vote: r.float() < 0.3 ? undefined : `n${r.int(5)}`, commit: r.int(last + 3) } : undefined;
  const next = twinSave(tw, hardState, entries);
  // A torn write can keep the entries record and lose the hard state after it.
  const between = withEntries && withHard ? [twinSave(tw, undefined, entries)] : [];
  const what = `save(${entries.length ? `${entries[0]!.index}..${entries.at(-1)!.index}` : ''}${hardState ? ` hs ${JSON.stringify(hardState)}` : ''})`;
  return { what, next, between, run: (w) => w.save({ ...(withEntries ? { entries } : {}), ...(hardState ? { hardState } : {}) }) };
}

function randomMode(r: Rand): CrashOptions {
  const k = r.int(3);
  return k === 0 ? { loseUnsynced: false } : { loseUnsynced: true, torn: k === 2 };
}

async function check(disk: MemDisk, candidates: Twin[], where: string): Promise<{ wal: Wal; twin: Twin }> {
  const o = await Wal.open(disk, DIR);
  const got = view(o);
  const match = candidates.find((c) => same(expected(c), got));
  if (!match) {
    o.wal.close();
    equal(got, expected(candidates[0]!), `${where}: read back a state that was never acknowledged nor in flight`);
    throw new Error('unreachable');
  }
  equal(o.repairs.snapshotFallback, undefined, where);
  const snap = await o.wal.loadSnapshot();
  equal(snap && { index: snap.index, term: snap.term, data: [...snap.data] }, match.snapshot, `${where}: snapshot file`);
  return { wal: o.wal, twin: match };
}

async function runSeed(seed: number): Promise<{ crashes: number; midCrashes: number }> {
  const r = seededRand(seed);
  const disk = memDisk(seed);
  let twin: Twin = { hardState: { term: 0, vote: undefined, commit: 0 }, all: [], snapshot: undefined };
  let { wal } = await Wal.open(disk, DIR);
  let crashes = 0, midCrashes = 0;
  const trace: string[] = [];
  try {
    for (let step = 0; step < STEPS; step++) {
      const where = `seed ${seed} step ${step} (${trace.slice(-4).join(', ')})`;
      const y = r.float();
      if (y < 0.1) {
        // Crash between calls: the last acknowledged state must come back.
        const mode = randomMode(r);
        trace.push(`crash ${JSON.stringify(mode)}`);
        wal.close();
        disk.crash(mode);
        crashes++;
        ({ wal, twin } = await check(disk, [twin], where));
        continue;
      }
      if (y < 0.13) {
        trace.push('reopen');
        wal.close();
        ({ wal, twin } = await check(disk, [twin], where));
        continue;
      }
      const op = randomOp(r, twin);
      trace.push(op.what);
      const armed = r.float() < 0.2;
      if (armed) disk.crashAfter(r.int(20));
      let completed = true;
      try {
        await op.run(wal);
      } catch (e) {
        if (!disk.halted) throw e;
        completed = false;
      }
      disk.crashAfter(undefined);
      if (completed) {
        twin = op.next;
        continue;
      }
      // Died in the middle of the call: before, after, or the half-way state.
      const mode = randomMode(r);
      trace.push(`mid-call crash ${JSON.stringify(mode)}`);
      wal.close();
      disk.crash(mode);
      midCrashes++;
      ({ wal, twin } = await check(disk, [twin, op.next, ...op.between], where));
    }
    wal.close();
    disk.crash({ loseUnsynced: true, torn: true });
    ({ wal } = await check(disk, [twin], `seed ${seed} at the end`));
    wal.close();
  } catch (e) {
    wal.close();
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`seed ${seed} failed (replay with runSeed(${seed})): ${msg}\n  trace: ${trace.join('; ')}`);
  }
  return { crashes, midCrashes };
}

t(`${SEEDS} seeds x ${STEPS} steps with crashes agree with the twin`, async () => {
  let crashes = 0, midCrashes = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const c = await runSeed(seed);
    crashes += c.crashes;
    midCrashes += c.midCrashes;
  }
  // The run really crashed, between calls and inside them.
  ok(crashes > SEEDS, `only ${crashes} crashes`);
  ok(midCrashes > SEEDS / 2, `only ${midCrashes} mid-call crashes`);
});

t.run();
