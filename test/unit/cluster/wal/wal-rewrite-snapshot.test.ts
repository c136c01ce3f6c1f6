// Wal.rewriteSnapshot: a new body for the snapshot the log starts from, at
// the same index and term (a forced new cluster whose log ends at its
// snapshot, agent/cluster/replica.ts). The log itself never changes; a crash
// at any disk operation leaves the old body or the new one, never neither.
import { suite, equal, is, ok } from '../../../harness.js';
import { Wal } from '../../../../agent/cluster/wal/wal.js';
import type { CrashOptions, MemDisk } from '../../../../agent/cluster/wal/mem-disk.js';
import { DIR, ents, hs, memDisk, reopen, view } from './helpers.js';

const t = suite('wal rewriteSnapshot');

const MODES: CrashOptions[] = [{ loseUnsynced: false }, { loseUnsynced: true }, { loseUnsynced: true, torn: true }];
const OLD = Uint8Array.of(1, 2, 3);
const NEW = Uint8Array.of(9, 9);

/** A log of 6 entries compacted at 6: nothing after the snapshot. */
async function setup(disk: MemDisk): Promise<void> {
  const { wal } = await Wal.open(disk, DIR);
  await wal.save({ entries: ents(1, 6, 2), hardState: hs(2, 6, 'n2') });
  await wal.saveSnapshot(OLD, { index: 6, term: 2 });
  wal.close();
}

async function body(disk: MemDisk): Promise<number[] | undefined> {
  const o = await Wal.open(disk, DIR);
  try {
    const s = await o.wal.loadSnapshot();
    return s && [...s.data];
  } finally {
    o.wal.close();
  }
}

t('replaces the body and nothing else', async () => {
  const disk = memDisk();
  await setup(disk);
  const before = view(await reopen(disk));
  const o = await Wal.open(disk, DIR);
  await o.wal.rewriteSnapshot(NEW, { index: 6, term: 2 });
  equal(o.wal.snapshot, { index: 6, term: 2 });
  equal([...(await o.wal.loadSnapshot())!.data], [...NEW]);
  o.wal.close();
  equal(view(await reopen(disk)), before);
  equal(await body(disk), [...NEW]);
  ok(!disk.list(DIR).some((n) => n.endsWith('.tmp')), 'no temp file left');
});

t('refuses any position but the current snapshot, and a log without one', async () => {
  const disk = memDisk();
  await setup(disk);
  const o = await Wal.open(disk, DIR);
  await o.wal.rewriteSnapshot(NEW, { index: 6, term: 3 }).then(
    () => ok(false, 'accepted a wrong term'),
    (e: unknown) => is((e as Error).message, 'rewriteSnapshot: expected the current snapshot (index 6 term 2), got index 6 term 3'),
  );
  o.wal.close();
  await o.wal.rewriteSnapshot(NEW, { index: 6, term: 2 }).then(
    () => ok(false, 'a closed log accepted a write'),
    (e: unknown) => is((e as Error).message, 'rewriteSnapshot: the raft log is closed'),
  );

  const empty = memDisk();
  const e = await Wal.open(empty, DIR);
  await e.wal.rewriteSnapshot(NEW, { index: 1, term: 1 }).then(
    () => ok(false, 'accepted without a snapshot'),
    (err: unknown) => ok(err instanceof RangeError && /none, the log has no snapshot/.test(err.message), String(err)),
  );
  e.wal.close();
});

t('a crash at every disk operation leaves the old body or the new one', async () => {
  const ref = memDisk();
  await setup(ref);
  const log = view(await reopen(ref));
  for (const [m, mode] of MODES.entries()) {
    const seen = new Set<string>();
    for (let n = 0; ; n++) {
      const disk = memDisk(1000 * m + n);
      await setup(disk);
      const o = await Wal.open(disk, DIR);
      disk.crashAfter(n);
      let done = true;
      try {
        await o.wal.rewriteSnapshot(NEW, { index: 6, term: 2 });
      } catch {
        done = false;
      }
      o.wal.close();
      disk.crashAfter(undefined);
      disk.crash(mode);
      const where = `crash after ${n} ops, ${JSON.stringify(mode)}`;
      equal(view(await reopen(disk)), log, where);
      const got = await body(disk);
      seen.add(JSON.stringify(got));
      if (done) {
        equal(got, [...NEW], where);
        break;
      }
      ok(JSON.stringify(got) === JSON.stringify([...OLD]) || JSON.stringify(got) === JSON.stringify([...NEW]), `${where}: body ${JSON.stringify(got)}`);
      ok(n < 50, 'the rewrite never completes');
    }
    is(seen.size, 2, `both bodies seen across the crash points, ${JSON.stringify(mode)}`);
  }
});

t.run();
