// The log on the real filesystem (nodeDisk) in a temp dir: the same round
// trip, torn-tail repair and corruption refusal as over MemDisk.
import { mkdtempSync, openSync, closeSync, readSync, writeSync, rmSync, statSync, truncateSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, equal, is, ok } from '../../../harness.js';
import { nodeDisk } from '../../../../agent/cluster/wal/disk.js';
import { Wal } from '../../../../agent/cluster/wal/wal.js';
import { ents, hs, view } from './helpers.js';

const t = suite('wal on the real disk');

async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'agent-wal-'));
  try {
    await fn(join(root, 'raft')); // open() creates the state dir
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function flipByte(path: string, offset: number): void {
  const fd = openSync(path, 'r+');
  try {
    const b = new Uint8Array(1);
    readSync(fd, b, 0, 1, offset);
    b[0]! ^= 0xff;
    writeSync(fd, b, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

t('save, snapshot, reopen; torn tail cut; corruption refused', () =>
  inTempDir(async (dir) => {
    const disk = nodeDisk();
    const { wal } = await Wal.open(disk, dir);
    await wal.save({ entries: ents(1, 6, 1), hardState: hs(1, 5, 'n1') });
    await wal.saveSnapshot(new TextEncoder().encode('state at 4'), { index: 4, term: 1 });
    await wal.save({ entries: ents(7, 8, 2), hardState: hs(2, 7, 'n2') });
    wal.close();
    equal(readdirSync(dir).sort(), ['snap-0000000000000004-0000000000000001.snap', 'wal-0000000000000002.log']);

    const seg = join(dir, 'wal-0000000000000002.log');
    const o = await Wal.open(disk, dir);
    equal(view(o), { hardState: hs(2, 7, 'n2'), snapshot: { index: 4, term: 1 }, entries: [...ents(5, 6, 1), ...ents(7, 8, 2)] });
    is(new TextDecoder().decode((await o.wal.loadSnapshot())!.data), 'state at 4');
    const goodSize = statSync(seg).size;
    await o.wal.save({ entries: ents(9, 9, 2) });
    o.wal.close();

    truncateSync(seg, statSync(seg).size - 3); // a torn last record
    const torn = await Wal.open(disk, dir);
    torn.wal.close();
    equal(torn.entries.at(-1)?.index, 8);
    is(torn.repairs.truncatedAt?.offset, goodSize);
    is(statSync(seg).size, goodSize);

    flipByte(seg, 8 + 20); // inside the first record, with good ones after it
    let msg = '';
    try {
      (await Wal.open(disk, dir)).wal.close();
    } catch (e) {
      msg = (e as Error).message;
    }
    is(msg, `raft log ${seg} is corrupt at byte 8 (checksum mismatch, valid records follow): refusing to start; restore this manager from a backup or remove it and rejoin`);
    ok(statSync(seg).size === goodSize);
  }));

t.run();
