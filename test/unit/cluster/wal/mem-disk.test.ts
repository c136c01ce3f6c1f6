// MemDisk's durability model: what a process crash and a power loss keep.
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { DISK_CRASHED, MemDisk } from '../../../../agent/cluster/wal/mem-disk.js';
import { seededRand } from '../../../../shared/rand.js';

const t = suite('MemDisk durability');
const bytes = (...b: number[]) => Uint8Array.from(b);

function fresh(seed = 1): MemDisk {
  const d = new MemDisk({ rand: seededRand(seed) });
  d.mkdirp('/s');
  return d;
}

t('a process crash keeps everything written, synced or not, and kills handles', () => {
  const d = fresh();
  const f = d.openAppend('/s/f');
  f.append(bytes(1, 2));
  d.crash({ loseUnsynced: false });
  equal(d.readFile('/s/f'), bytes(1, 2));
  throws(() => f.append(bytes(3)), /after a crash/);
});

t('a power loss keeps synced bytes and drops the unsynced tail', () => {
  const d = fresh();
  d.syncDir('/s');
  const f = d.openAppend('/s/f');
  d.syncDir('/s');
  f.append(bytes(1, 2));
  f.sync();
  f.append(bytes(3, 4));
  d.crash({ loseUnsynced: true });
  equal(d.readFile('/s/f'), bytes(1, 2));
});

t('a power loss forgets names not made durable by syncDir (create, rename, remove)', () => {
  const d = fresh();
  const a = d.openAppend('/s/a');
  a.append(bytes(1));
  a.sync();
  d.syncDir('/s');
  const b = d.openAppend('/s/b');
  b.append(bytes(2));
  b.sync(); // the data is durable, its name is not
  d.rename('/s/a', '/s/c');
  d.crash({ loseUnsynced: true });
  equal(d.list('/s'), ['a']);
  equal(d.readFile('/s/a'), bytes(1));

  d.remove('/s/a');
  d.crash({ loseUnsynced: true });
  equal(d.list('/s'), ['a']);
  d.remove('/s/a');
  d.syncDir('/s');
  d.crash({ loseUnsynced: true });
  equal(d.list('/s'), []);
});

t('an unsynced truncate is undone by a power loss, a synced one is not', () => {
  const d = fresh();
  const f = d.openAppend('/s/f');
  d.syncDir('/s');
  f.append(bytes(1, 2, 3));
  f.sync();
  d.truncate('/s/f', 1);
  const g = d.openAppend('/s/f');
  g.append(bytes(9, 9, 9, 9));
  d.crash({ loseUnsynced: true });
  equal(d.readFile('/s/f'), bytes(1, 2, 3));
  d.truncate('/s/f', 1);
  d.openAppend('/s/f').sync();
  d.crash({ loseUnsynced: true });
  equal(d.readFile('/s/f'), bytes(1));
});

t('a torn write keeps a prefix of the unsynced tail, of every length over many seeds', () => {
  const seen = new Set<number>();
  for (let seed = 0; seed < 200; seed++) {
    const d = fresh(seed);
    const f = d.openAppend('/s/f');
    d.syncDir('/s');
    f.append(bytes(1, 2));
    f.sync();
    f.append(bytes(3, 4, 5, 6));
    d.crash({ loseUnsynced: true, torn: true });
    const got = d.readFile('/s/f');
    equal(got, bytes(1, 2, 3, 4, 5, 6).subarray(0, got.length), `seed ${seed}`);
    ok(got.length >= 2, `seed ${seed}`);
    seen.add(got.length);
  }
  equal([...seen].sort(), [2, 3, 4, 5, 6]);
  throws(() => new MemDisk().crash({ loseUnsynced: true, torn: true }), /needs a MemDisk made with a rand/);
});

t('crashAfter(n): n operations succeed, then everything throws until crash()', () => {
  const d = fresh();
  const f = d.openAppend('/s/f');
  d.crashAfter(2);
  f.append(bytes(1));
  f.sync();
  throws(() => f.append(bytes(2)), new RegExp(DISK_CRASHED));
  ok(d.halted);
  throws(() => d.readFile('/s/f'), new RegExp(DISK_CRASHED));
  d.crash({ loseUnsynced: true });
  is(d.halted, false);
  equal(d.list('/s'), []); // the name was never made durable
});

t('corrupt flips a byte in what is read and in what survives', () => {
  const d = fresh();
  const f = d.openAppend('/s/f');
  d.syncDir('/s');
  f.append(bytes(0, 0, 0));
  f.sync();
  d.corrupt('/s/f', 1);
  equal(d.readFile('/s/f'), bytes(0, 0xff, 0));
  d.crash({ loseUnsynced: true });
  equal(d.readFile('/s/f'), bytes(0, 0xff, 0));
  throws(() => d.corrupt('/s/f', 3), /offset must be in 0\.\.2, got 3/);
});

t.run();
