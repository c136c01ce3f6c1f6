// The Raft log end to end over MemDisk: round trips, torn tails, corruption,
// lost unsynced writes, snapshots and compaction.
import { suite, equal, is, ok, throws, unreachable } from '../../../harness.js';
import { Wal } from '../../../../agent/cluster/wal/wal.js';
import { DISK_CRASHED } from '../../../../agent/cluster/wal/mem-disk.js';
import { crc32c } from '../../../../shared/checksum.js';
import { DIR, ents, hs, memDisk, reopen, segPath, view } from './helpers.js';

const t = suite('wal');
const SEG1 = segPath(1);
const REFUSE = 'refusing to start; restore this manager from a backup or remove it and rejoin';

async function rejects(p: Promise<unknown>, re: RegExp | string): Promise<Error> {
  try {
    await p;
  } catch (e) {
    const msg = (e as Error).message;
    if (typeof re === 'string') is(msg, re);
    else ok(re.test(msg), `${msg} !~ ${re}`);
    return e as Error;
  }
  unreachable('expected a rejection');
  throw new Error('unreachable');
}

t('a fresh dir opens empty and creates the first segment', async () => {
  const disk = memDisk();
  const o = await Wal.open(disk, DIR);
  o.wal.close();
  equal(view(o), { hardState: hs(0, 0), snapshot: undefined, entries: [] });
  equal(o.repairs, { truncatedBytes: 0, truncatedAt: undefined, snapshotFallback: undefined, removedFiles: [] });
  equal(disk.list(DIR), ['wal-0000000000000001.log']);
});

t('round trip: entries and hard state come back; a re-append replaces from its index', async () => {
  const disk = memDisk();
  const { wal } = await Wal.open(disk, DIR);
  await wal.save({ entries: ents(1, 5, 1), hardState: hs(1, 2, 'n1') });
  await wal.save({ hardState: hs(2, 3, 'n2') });
  await wal.save({ entries: ents(4, 6, 2, 7) }); // conflict at 4: 4..5 replaced
  wal.close();
  const o = await reopen(disk);
  equal(view(o), { hardState: hs(2, 3, 'n2'), snapshot: undefined, entries: [...ents(1, 3, 1), ...ents(4, 6, 2, 7)] });
  is(o.repairs.truncatedBytes, 0);
});

t('save validates entries with exact messages and writes nothing then', async () => {
  const disk = memDisk();
  const { wal } = await Wal.open(disk, DIR);
  await wal.save({ entries: ents(1, 3, 1) });
  const size = disk.size(SEG1);
  await rejects(wal.save({ entries: ents(5, 6, 1) }), 'save: entries must start at or before index 4 (the log ends at 3), got first index 5');
  await rejects(wal.save({ entries: [...ents(4, 4, 1), ...ents(6, 6, 1)] }), 'save: entries must have consecutive indexes, got 4 then 6');
  await rejects(wal.save({ entries: ents(4, 4, 1), hardState: hs(-1, 0) }), 'hard state term must be a non-negative safe integer, got -1');
  is(disk.size(SEG1), size);
  await wal.saveSnapshot(Uint8Array.of(1), { index: 2, term: 1 });
  await rejects(wal.save({ entries: ents(2, 3, 1) }), 'save: entries must start after the snapshot at index 2, got first index 2');
  await rejects(wal.saveSnapshot(Uint8Array.of(1), { index: 2, term: 1 }), 'saveSnapshot: snapshot index must be an integer above the current snapshot index 2, got 2');
  await wal.save({ entries: ents(3, 4, 2) }); // still usable
  wal.close();
  await rejects(wal.save({}), 'save: the raft log is closed');
});

t('torn tail: every cut through the last save is truncated, everything before survives (exhaustive)', async () => {
  const build = async () => {
    const disk = memDisk();
    const { wal } = await Wal.open(disk, DIR);
    await wal.save({ entries: ents(1, 3, 1), hardState: hs(1, 1, 'n1') });
    await wal.save({ entries: ents(4, 4, 1), hardState: hs(1, 3, 'n1') });
    const before = disk.size(SEG1);
    await wal.save({ entries: ents(5, 7, 2), hardState: hs(2, 5, 'n3') });
    wal.close();
    return { disk, before, after: disk.size(SEG1) };
  };
  const { before, after } = await build();
  const entriesRecordEnd = before + 9 + 4 + 3 * (21 + 3);
  for (let cut = before; cut < after; cut++) {
    const { disk } = await build();
    disk.truncate(SEG1, cut);
    const o = await reopen(disk);
    const at = `cut at ${cut}`;
    if (cut >= entriesRecordEnd) {
      // The entries record is whole; only the hard state record was torn.
      equal(view(o), { hardState: hs(1, 3, 'n1'), snapshot: undefined, entries: ents(1, 7, 1).slice(0, 4).concat(ents(5, 7, 2)) }, at);
      is(o.repairs.truncatedBytes, cut - entriesRecordEnd, at);
    } else {
      equal(view(o), { hardState: hs(1, 3, 'n1'), snapshot: undefined, entries: ents(1, 4, 1) }, at);
      is(o.repairs.truncatedBytes, cut - before, at);
    }
    if (o.repairs.truncatedBytes > 0) equal(o.repairs.truncatedAt?.reason, 'record runs past the end of the file', at);
    is(disk.size(SEG1), cut - o.repairs.truncatedBytes, at);
    // The log keeps working after the repair, and the repair was durable.
    const again = await Wal.open(disk, DIR);
    is(again.repairs.truncatedBytes, 0, at);
    await again.wal.save({ entries: ents(5, 5, 3) });
    again.wal.close();
    disk.crash({ loseUnsynced: true });
    equal((await reopen(disk)).entries.map((e) => e.index), [1, 2, 3, 4, 5], at);
  }
});

t('a flipped byte with good records after it stops open with one exact line', async () => {
  const disk = memDisk();
  const { wal } = await Wal.open(disk, DIR);
  const first = disk.size(SEG1);
  await wal.save({ entries: ents(1, 3, 1), hardState: hs(1, 1) });
  await wal.save({ entries: ents(4, 6, 1), hardState: hs(1, 4) });
  wal.close();
  is(first, 35); // 8-byte header + the initial hard state record
  disk.corrupt(SEG1, first + 20);
  const e = await rejects(Wal.open(disk, DIR), `raft log ${DIR}/wal-0000000000000001.log is corrupt at byte 35 (checksum mismatch, valid records follow): ${REFUSE}`);
  ok(!e.message.includes('\n'));
  is(disk.size(SEG1) > first + 100, true); // nothing was cut
});

t('a flipped byte in the last record cannot be told from a torn write: cut and reported', async () => {
  const disk = memDisk();
  const { wal } = await Wal.open(disk, DIR);
  await wal.save({ entries: ents(1, 3, 1) });
  const last = disk.size(SEG1);
  await wal.save({ entries: ents(4, 4, 1) });
  wal.close();
  disk.corrupt(SEG1, last + 15);
  const o = await reopen(disk);
  equal(o.entries.map((e) => e.index), [1, 2, 3]);
  equal(o.repairs.truncatedAt, { file: SEG1, offset: last, reason: 'checksum mismatch' });
});

t('unreadable records, bad headers and a missing log are refused, never skipped', async () => {
  const disk = memDisk();
  (await Wal.open(disk, DIR)).wal.close();
  // A whole record of type 99 with a good CRC: from a newer agent.
  const rec = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 99);
  new DataView(rec.buffer).setUint32(4, crc32c(rec.subarray(8), crc32c(rec.subarray(0, 4))));
  disk.appendDurably(SEG1, rec);
  await rejects(Wal.open(disk, DIR), `raft log ${SEG1} is unreadable at byte 35 (record of unknown type 99 (written by a newer agent?)): ${REFUSE}`);

  const d2 = memDisk();
  (await Wal.open(d2, DIR)).wal.close();
  d2.corrupt(SEG1, 5);
  await rejects(Wal.open(d2, DIR), `raft log ${SEG1} is corrupt at byte 0 (format version 254, this agent reads version 1): ${REFUSE}`);

  const d3 = memDisk();
  const { wal } = await Wal.open(d3, DIR);
  await wal.save({ entries: ents(1, 2, 1) });
  await wal.saveSnapshot(Uint8Array.of(1), { index: 2, term: 1 });
  wal.close();
  d3.remove(segPath(2));
  await rejects(Wal.open(d3, DIR), `raft state dir ${DIR} holds snapshot snap-0000000000000002-0000000000000001.snap but no log segment: ${REFUSE}`);
});

t('a power loss keeps every fsynced save and loses only the one whose fsync never ran', async () => {
  for (const torn of [false, true]) {
    const disk = memDisk(torn ? 3 : 4);
    const { wal } = await Wal.open(disk, DIR);
    await wal.save({ entries: ents(1, 2, 1), hardState: hs(1, 2) });
    disk.crashAfter(1); // the append lands in the page cache, the fsync fails
    await rejects(wal.save({ entries: ents(3, 9, 1), hardState: hs(1, 9) }), DISK_CRASHED);
    disk.crash({ loseUnsynced: true, torn });
    const o = await reopen(disk);
    equal(view(o), { hardState: hs(1, 2), snapshot: undefined, entries: ents(1, 2, 1) }, `torn ${torn}`);
  }
  // A process crash (no power loss) keeps the unsynced append, and open makes it durable.
  const disk = memDisk();
  const { wal } = await Wal.open(disk, DIR);
  disk.crashAfter(1);
  await rejects(wal.save({ entries: ents(1, 3, 1) }), DISK_CRASHED);
  disk.crash({ loseUnsynced: false });
  equal((await reopen(disk)).entries.length, 3);
  disk.crash({ loseUnsynced: true });
  equal((await reopen(disk)).entries.length, 3);
});

t('after a failed write the log refuses further work', async () => {
  const disk = memDisk();
  const { wal } = await Wal.open(disk, DIR);
  disk.crashAfter(0);
  await rejects(wal.save({ entries: ents(1, 1, 1) }), DISK_CRASHED);
  disk.crash({ loseUnsynced: false });
  await rejects(wal.save({ entries: ents(1, 1, 1) }), `save: the raft log is unusable after a failed write (${DISK_CRASHED}); restart the manager`);
  wal.close();
});

t('snapshot + compaction: new segment, old one gone, previous snapshot kept as fallback', async () => {
  const disk = memDisk();
  const { wal } = await Wal.open(disk, DIR);
  await wal.save({ entries: ents(1, 10, 1), hardState: hs(1, 10, 'n1') });
  await wal.saveSnapshot(Uint8Array.of(5), { index: 5, term: 1 });
  equal(disk.list(DIR), ['snap-0000000000000005-0000000000000001.snap', 'wal-0000000000000002.log']);
  await wal.save({ entries: ents(11, 12, 2), hardState: hs(2, 12) });
  await wal.saveSnapshot(Uint8Array.of(8), { index: 8, term: 1 });
  equal(disk.list(DIR), ['snap-0000000000000005-0000000000000001.snap', 'snap-0000000000000008-0000000000000001.snap', 'wal-0000000000000003.log']);
  equal(await wal.loadSnapshot(), { index: 8, term: 1, data: Uint8Array.of(8) });
  wal.close();

  const o = await Wal.open(disk, DIR);
  equal(view(o), { hardState: hs(2, 12), snapshot: { index: 8, term: 1 }, entries: [...ents(9, 10, 1), ...ents(11, 12, 2)] });
  equal(await o.wal.loadSnapshot(), { index: 8, term: 1, data: Uint8Array.of(8) });
  await o.wal.saveSnapshot(Uint8Array.of(11), { index: 11, term: 2 });
  equal(disk.list(DIR), ['snap-0000000000000008-0000000000000001.snap', 'snap-000000000000000b-0000000000000002.snap', 'wal-0000000000000004.log']);
  // A snapshot from the leader that the log does not match drops the whole log.
  await o.wal.saveSnapshot(Uint8Array.of(30), { index: 30, term: 5 });
  equal(disk.list(DIR), ['snap-000000000000001e-0000000000000005.snap', 'wal-0000000000000005.log']);
  await o.wal.save({ entries: ents(31, 31, 5) });
  o.wal.close();
  equal(view(await reopen(disk)), { hardState: hs(2, 12), snapshot: { index: 30, term: 5 }, entries: ents(31, 31, 5) });
});

t('a corrupt latest snapshot falls back to the previous one and the same log', async () => {
  const disk = memDisk();
  const { wal } = await Wal.open(disk, DIR);
  await wal.save({ entries: ents(1, 10, 1), hardState: hs(1, 10) });
  await wal.saveSnapshot(Uint8Array.of(5), { index: 5, term: 1 });
  await wal.saveSnapshot(Uint8Array.of(8), { index: 8, term: 1 });
  wal.close();
  const latest = `${DIR}/snap-0000000000000008-0000000000000001.snap`;
  disk.corrupt(latest, 36); // the body byte
  const o = await Wal.open(disk, DIR);
  equal(view(o), { hardState: hs(1, 10), snapshot: { index: 5, term: 1 }, entries: ents(6, 10, 1) });
  equal(o.repairs.snapshotFallback, { file: latest, reason: 'checksum mismatch' });
  equal(await o.wal.loadSnapshot(), { index: 5, term: 1, data: Uint8Array.of(5) });
  await o.wal.save({ entries: ents(11, 11, 1) });
  o.wal.close();
  const again = await reopen(disk);
  is(again.repairs.snapshotFallback, undefined); // the log was rewritten around snapshot 5
  equal(again.entries.map((e) => e.index), [6, 7, 8, 9, 10, 11]);
});

t('a corrupt first snapshot falls back to the start of the log', async () => {
  const disk = memDisk();
  const { wal } = await Wal.open(disk, DIR);
  await wal.save({ entries: ents(1, 4, 1) });
  await wal.saveSnapshot(Uint8Array.of(3), { index: 3, term: 1 });
  wal.close();
  disk.corrupt(`${DIR}/snap-0000000000000003-0000000000000001.snap`, 0);
  const o = await reopen(disk);
  equal(view(o), { hardState: hs(0, 0), snapshot: undefined, entries: ents(1, 4, 1) });
  equal(o.repairs.snapshotFallback?.reason, 'bad magic, not a raft snapshot');
});

t('a corrupt snapshot with nothing to fall back on is a clear error', async () => {
  const disk = memDisk();
  const { wal } = await Wal.open(disk, DIR);
  await wal.save({ entries: ents(1, 4, 1) });
  await wal.saveSnapshot(Uint8Array.of(9), { index: 9, term: 2 }); // from the leader: log dropped
  wal.close();
  const file = `${DIR}/snap-0000000000000009-0000000000000002.snap`;
  disk.corrupt(file, 36);
  await rejects(Wal.open(disk, DIR), `raft snapshot ${file} is unusable (checksum mismatch) and the log no longer holds what an earlier snapshot would need: ${REFUSE}`);

  const d2 = memDisk();
  const w2 = (await Wal.open(d2, DIR)).wal;
  await w2.save({ entries: ents(1, 9, 1) });
  await w2.saveSnapshot(Uint8Array.of(4), { index: 4, term: 1 });
  await w2.saveSnapshot(Uint8Array.of(8), { index: 8, term: 1 });
  w2.close();
  d2.corrupt(`${DIR}/snap-0000000000000008-0000000000000001.snap`, 36);
  d2.corrupt(`${DIR}/snap-0000000000000004-0000000000000001.snap`, 36);
  await rejects(Wal.open(d2, DIR), /^raft snapshot .*snap-0000000000000008-0000000000000001\.snap is unusable \(checksum mismatch\) and the previous snapshot is unusable too \(checksum mismatch\): refusing/);
});

t('open removes temp files and superseded segments left by a crash', async () => {
  const disk = memDisk();
  const { wal } = await Wal.open(disk, DIR);
  await wal.save({ entries: ents(1, 4, 1) });
  wal.close();
  const stale = disk.openAppend(`${DIR}/snap-0000000000000004-0000000000000001.snap.tmp`);
  stale.append(Uint8Array.of(1));
  stale.close();
  const o = await reopen(disk);
  equal(o.repairs.removedFiles, [`${DIR}/snap-0000000000000004-0000000000000001.snap.tmp`]);
  equal(disk.list(DIR), ['wal-0000000000000001.log']);
  throws(() => disk.readFile(`${DIR}/x`), /ENOENT/);
});

t.run();
