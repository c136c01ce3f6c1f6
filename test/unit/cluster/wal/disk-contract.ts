// The contract both Disk implementations meet (STYLE habit 2): the same tests
// run against nodeDisk() in a temp dir and against MemDisk, so the fake the
// log's crash tests rely on cannot drift from the real filesystem.
import { join } from 'node:path';
import { suite, equal, is, ok, throws } from '../../../harness.js';
import type { Disk } from '../../../../agent/cluster/wal/disk.js';

export interface DiskDriver {
  disk: Disk;
  /** An existing, empty directory to work in. */
  dir: string;
  cleanup(): void;
}

const bytes = (...b: number[]) => Uint8Array.from(b);

export function diskContract(name: string, make: () => DiskDriver): void {
  const t = suite(`disk contract: ${name}`);

  async function withDisk(fn: (disk: Disk, dir: string) => void): Promise<void> {
    const d = make();
    try {
      fn(d.disk, d.dir);
    } finally {
      d.cleanup();
    }
  }

  t('openAppend creates, appends accumulate, readFile sees them before and after sync', () =>
    withDisk((disk, dir) => {
      const p = join(dir, 'a.log');
      const f = disk.openAppend(p);
      f.append(bytes(1, 2));
      equal(disk.readFile(p), bytes(1, 2));
      f.append(bytes(3));
      f.sync();
      equal(disk.readFile(p), bytes(1, 2, 3));
      f.close();
      f.close(); // idempotent
      throws(() => f.append(bytes(4)), /after close/);
      const g = disk.openAppend(p); // reopen appends at the end, never overwrites
      g.append(bytes(9));
      g.close();
      equal(disk.readFile(p), bytes(1, 2, 3, 9));
    }));

  t('truncate cuts; a later append continues from the cut', () =>
    withDisk((disk, dir) => {
      const p = join(dir, 'b.log');
      const f = disk.openAppend(p);
      f.append(bytes(1, 2, 3, 4, 5));
      disk.truncate(p, 2);
      equal(disk.readFile(p), bytes(1, 2));
      f.append(bytes(7));
      f.sync();
      f.close();
      equal(disk.readFile(p), bytes(1, 2, 7));
    }));

  t('list is sorted; rename replaces atomically; remove deletes', () =>
    withDisk((disk, dir) => {
      for (const n of ['c', 'a', 'b']) disk.openAppend(join(dir, n)).close();
      equal(disk.list(dir), ['a', 'b', 'c']);
      const f = disk.openAppend(join(dir, 'a'));
      f.append(bytes(42));
      f.close();
      disk.rename(join(dir, 'a'), join(dir, 'c'));
      equal(disk.list(dir), ['b', 'c']);
      equal(disk.readFile(join(dir, 'c')), bytes(42));
      disk.remove(join(dir, 'b'));
      disk.syncDir(dir);
      equal(disk.list(dir), ['c']);
    }));

  t('missing files fail with ENOENT', () =>
    withDisk((disk, dir) => {
      const code = (fn: () => unknown) => {
        try {
          fn();
        } catch (e) {
          return (e as { code?: string }).code;
        }
        return 'no error';
      };
      is(code(() => disk.readFile(join(dir, 'nope'))), 'ENOENT');
      is(code(() => disk.remove(join(dir, 'nope'))), 'ENOENT');
      is(code(() => disk.rename(join(dir, 'nope'), join(dir, 'x'))), 'ENOENT');
      is(code(() => disk.openAppend(join(dir, 'no-dir', 'f'))), 'ENOENT');
    }));

  t('mkdirp makes nested dirs, idempotently; list shows the child', () =>
    withDisk((disk, dir) => {
      disk.mkdirp(join(dir, 'x', 'y'));
      disk.mkdirp(join(dir, 'x', 'y'));
      equal(disk.list(dir), ['x']);
      equal(disk.list(join(dir, 'x', 'y')), []);
      disk.syncDir(join(dir, 'x', 'y'));
      const p = join(dir, 'x', 'y', 'f');
      disk.openAppend(p).close();
      ok(disk.list(join(dir, 'x', 'y')).includes('f'));
      equal(disk.readFile(p), new Uint8Array(0));
    }));

  t.run();
}
