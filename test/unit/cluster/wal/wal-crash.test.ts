// Crash at every step: each disk operation of save(), saveSnapshot() and
// open() is in turn the one where the machine dies, under a process crash, a
// power loss, and a power loss with a torn write. What open() reads back must
// be the state before the call or the state after it (never a mix, never
// less), and exactly the state after once the call had resolved.
import { suite, equal, ok } from '../../../harness.js';
import { Wal } from '../../../../agent/cluster/wal/wal.js';
import type { CrashOptions, MemDisk } from '../../../../agent/cluster/wal/mem-disk.js';
import { DIR, ents, hs, memDisk, reopen, view, type LogView } from './helpers.js';

const t = suite('wal crash points');

interface Scenario {
  /** Build the disk the step starts from (the log closed). */
  setup(disk: MemDisk): Promise<void>;
  /** The step under test, on a freshly opened log. */
  step(wal: Wal): Promise<void>;
  /** Acceptable mid-step states besides before and after. */
  between?: LogView[];
}

const MODES: CrashOptions[] = [{ loseUnsynced: false }, { loseUnsynced: true }, { loseUnsynced: true, torn: true }];

async function snapshotData(disk: MemDisk): Promise<number[] | undefined> {
  const o = await Wal.open(disk, DIR);
  try {
    const s = await o.wal.loadSnapshot();
    return s && [s.index, ...s.data];
  } finally {
    o.wal.close();
  }
}

/** Die at each of the first `ops` disk operations of a repairing open(); the next open must still read `want`. */
async function crashDuringOpen(setup: (disk: MemDisk) => Promise<void>, ops: number, want: LogView): Promise<void> {
  for (let n = 0; n < ops; n++) {
    for (const mode of MODES) {
      const d = memDisk(n);
      await setup(d);
      d.crashAfter(n);
      try {
        (await Wal.open(d, DIR)).wal.close();
      } catch {
        // died mid-open
      }
      d.crash(mode);
      equal(view(await reopen(d)), want, `crash after ${n} ops, ${JSON.stringify(mode)}`);
    }
  }
}

async function everyCrashPoint(name: string, sc: Scenario): Promise<void> {
  const ref = memDisk();
  await sc.setup(ref);
  const before = view(await reopen(ref));
  const opened = await Wal.open(ref, DIR);
  await sc.step(opened.wal);
  opened.wal.close();
  const after = view(await reopen(ref));
  const afterSnap = await snapshotData(ref);
  const allowed = [before, after, ...(sc.between ?? [])];

  for (const [m, mode] of MODES.entries()) {
    for (let n = 0; ; n++) {
      const disk = memDisk(1000 * m + n);
      await sc.setup(disk);
      const o = await Wal.open(disk, DIR);
      disk.crashAfter(n);
      let done = true;
      try {
        await sc.step(o.wal);
      } catch {
        done = false;
      }
      o.wal.close();
      disk.crashAfter(undefined);
      disk.crash(mode);
      const got = view(await reopen(disk));
      const where = `${name}: crash after ${n} ops, ${JSON.stringify(mode)}`;
      if (done) {
        equal(got, after, where);
        equal(await snapshotData(disk), afterSnap, where);
        break;
      }
      ok(allowed.some((s) => JSON.stringify(s) === JSON.stringify(got)), `${where}: got ${JSON.stringify(got)}`);
      ok(n < 100, `${name}: the step never completes`);
    }
  }
}

async function base(disk: MemDisk): Promise<void> {
  const { wal } = await Wal.open(disk, DIR);
  await wal.save({ entries: ents(1, 6, 1), hardState: hs(1, 4, 'n1') });
  await wal.saveSnapshot(Uint8Array.of(3), { index: 3, term: 1 });
  await wal.save({ entries: ents(7, 8, 2), hardState: hs(2, 6, 'n2') });
  wal.close();
}

t('save: entries and hard state', () =>
  everyCrashPoint('save', {
    setup: base,
    step: (wal) => wal.save({ entries: ents(8, 10, 3), hardState: hs(3, 9, 'n3') }),
    // A torn write may keep the entries record and lose the hard state after it.
    between: [{ hardState: hs(2, 6, 'n2'), snapshot: { index: 3, term: 1 }, entries: [...ents(4, 6, 1), ...ents(7, 7, 2), ...ents(8, 10, 3)] }],
  }));

t('saveSnapshot: compaction of our own log', () =>
  everyCrashPoint('saveSnapshot', { setup: base, step: (wal) => wal.saveSnapshot(Uint8Array.of(7), { index: 7, term: 2 }) }));

t('saveSnapshot: a snapshot from the leader that replaces the log', () =>
  everyCrashPoint('install', { setup: base, step: (wal) => wal.saveSnapshot(Uint8Array.of(20), { index: 20, term: 4 }) }));

t('open: repairing a torn tail', async () => {
  // The step is a second open; setup leaves a torn tail that the first open repairs.
  const setup = async (disk: MemDisk) => {
    await base(disk);
    const seg = `${DIR}/wal-0000000000000002.log`;
    disk.truncate(seg, disk.size(seg) - 5);
    const f = disk.openAppend(seg);
    f.sync(); // the torn state is what the disk durably holds
    f.close();
  };
  const disk = memDisk();
  await setup(disk);
  const want = view(await reopen(disk));
  await crashDuringOpen(setup, 12, want);
});

t('open: falling back from a corrupt snapshot and rewriting the log', async () => {
  const setup = async (disk: MemDisk) => {
    await base(disk);
    const { wal } = await Wal.open(disk, DIR);
    await wal.saveSnapshot(Uint8Array.of(6), { index: 6, term: 1 });
    wal.close();
    disk.corrupt(`${DIR}/snap-0000000000000006-0000000000000001.snap`, 36);
  };
  const disk = memDisk();
  await setup(disk);
  const want = view(await reopen(disk));
  equal(want.snapshot, { index: 3, term: 1 });
  await crashDuringOpen(setup, 16, want);
});

t.run();
