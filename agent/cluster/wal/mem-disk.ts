// MemDisk: the in-memory fake beside nodeDisk() (STYLE habit 2) that models
// what a power loss keeps, so tests can crash a manager "with and without
// losing unsynced writes".
//
// Each file is an inode with the bytes a reader sees now and the bytes that
// are durable (as of its last sync()); each directory has the names a reader
// sees now and the names that are durable (as of its last syncDir()).
// crash({ loseUnsynced: false }) is a process crash: the page cache survives,
// only open handles die. crash({ loseUnsynced: true }) is a power loss: every
// file and directory falls back to its durable state, and with `torn` a
// random-length prefix of each file's unsynced appended tail survives (a
// write cut short mid-way, chosen by the injected Rand).
//
// crashAfter(n) arms a fault: n more operations succeed, then every call
// throws DISK_CRASHED until crash() is called, which lets a test stop a
// save or a snapshot at each of its steps.
import { basename, dirname } from 'node:path';
import type { Rand } from '../../../shared/rand.js';
import type { AppendFile, Disk } from './disk.js';

export const DISK_CRASHED = 'disk: simulated crash';

export interface CrashOptions {
  /** Power loss: drop whatever was not synced. */
  loseUnsynced: boolean;
  /** With loseUnsynced: keep a random prefix of each file's unsynced tail (needs the Rand given to MemDisk). */
  torn?: boolean;
}

class Inode {
  buf = new Uint8Array(64);
  len = 0;
  /** Bytes [0, syncedLen) of buf are durable, unless `synced` holds the durable copy. */
  syncedLen = 0;
  /** The durable bytes, kept once a truncate or overwrite made buf diverge from them. */
  synced: Uint8Array | undefined;

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
  append(b: Uint8Array): void {
    if (this.len + b.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + b.length));
      grown.set(this.bytes());
      this.buf = grown;
    }
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  truncate(length: number): void {
    if (this.synced === undefined && length < this.syncedLen) this.synced = this.buf.slice(0, this.syncedLen);
    this.len = length;
  }
  sync(): void {
    this.synced = undefined;
    this.syncedLen = this.len;
  }
  lose(keepTail: ((tailLen: number) => number) | undefined): void {
    if (this.synced !== undefined) {
      // A truncate since the last sync: the durable copy is what survives.
      this.len = 0;
      this.append(this.synced);
    } else {
      this.len = this.syncedLen + (keepTail ? keepTail(this.len - this.syncedLen) : 0);
    }
    this.sync();
  }
}

interface Dir {
  live: Map<string, Inode>;
  durable: Map<string, Inode>;
}

function fsError(code: string, op: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${op} '${path}'`), { code });
}

export class MemDisk implements Disk {
  readonly #dirs = new Map<string, Dir>();
  readonly #rand: Rand | undefined;
  /** Bumped by crash(): handles from an earlier generation are dead. */
  #generation = 0;
  #opsLeft: number | undefined;
  #crashed = false;
  /** Operations performed so far (each method call counts one). */
  ops = 0;

  constructor(opts: { rand?: Rand } = {}) {
    this.#rand = opts.rand;
    this.#dirs.set('/', { live: new Map(), durable: new Map() });
  }

  /** Let n more operations succeed, then fail every call until crash(). undefined disarms. */
  crashAfter(n: number | undefined): void {
    this.#opsLeft = n;
  }

  /** Whether an armed fault has fired and the disk now refuses everything. */
  get halted(): boolean {
    return this.#crashed;
  }

  crash(opts: CrashOptions): void {
    if (opts.torn && !opts.loseUnsynced) throw new RangeError('crash: torn needs loseUnsynced: true');
    if (opts.torn && !this.#rand) throw new RangeError('crash: torn needs a MemDisk made with a rand');
    this.#generation++;
    this.#crashed = false;
    this.#opsLeft = undefined;
    if (!opts.loseUnsynced) return;
    const rand = this.#rand;
    const keepTail = opts.torn && rand ? (n: number) => rand.int(n + 1) : undefined;
    for (const d of this.#dirs.values()) d.live = new Map(d.durable);
    const inodes = new Set<Inode>();
    for (const d of this.#dirs.values()) for (const i of d.live.values()) inodes.add(i);
    for (const i of inodes) i.lose(keepTail);
  }

  // ---- test helpers (not part of Disk; they do not count as operations) ----

  /** XOR one byte of a file, in what readers see and in what is durable (a media error). */
  corrupt(path: string, offset: number, xor = 0xff): void {
    const f = this.#lookup(path, 'corrupt');
    if (offset < 0 || offset >= f.len) throw new RangeError(`corrupt: offset must be in 0..${f.len - 1}, got ${offset}`);
    f.buf[offset]! ^= xor;
    if (f.synced && offset < f.synced.length) f.synced[offset]! ^= xor;
  }

  /** Append bytes as if durably written by someone else (garbage, a hand-made record). */
  appendDurably(path: string, bytes: Uint8Array): void {
    const f = this.#lookup(path, 'appendDurably');
    f.append(bytes);
    f.sync();
  }

  size(path: string): number {
    return this.#lookup(path, 'size').len;
  }

  exists(path: string): boolean {
    return this.#dirs.get(dirname(path))?.live.has(basename(path)) ?? false;
  }

  // ---- Disk ----

  mkdirp(dir: string): void {
    this.#op();
    for (let d = dir; !this.#dirs.has(d); d = dirname(d)) {
      this.#dirs.set(d, { live: new Map(), durable: new Map() });
      if (dirname(d) === d) break;
    }
  }

  openAppend(path: string): AppendFile {
    this.#op();
    const d = this.#dir(dirname(path), 'open', path);
    let inode = d.live.get(basename(path));
    if (!inode) d.live.set(basename(path), (inode = new Inode()));
    const f = inode;
    const generation = this.#generation;
    let open = true;
    const live = () => {
      this.#op();
      if (!open) throw new Error(`${path}: file handle used after close`);
      if (generation !== this.#generation) throw new Error(`${path}: file handle used after a crash`);
    };
    return {
      append: (bytes) => {
        live();
        f.append(bytes);
      },
      sync: () => {
        live();
        f.sync();
      },
      close: () => {
        open = false;
      },
    };
  }

  readFile(path: string): Uint8Array {
    this.#op();
    return this.#lookup(path, 'open').bytes().slice();
  }

  truncate(path: string, length: number): void {
    this.#op();
    const f = this.#lookup(path, 'truncate');
    if (!Number.isSafeInteger(length) || length < 0 || length > f.len) throw new RangeError(`truncate: length must be in 0..${f.len}, got ${length}`);
    f.truncate(length);
  }

  list(dir: string): string[] {
    this.#op();
    const names = [...this.#dir(dir, 'scandir', dir).live.keys()];
    for (const d of this.#dirs.keys()) if (d !== dir && dirname(d) === dir) names.push(basename(d));
    return names.sort();
  }

  rename(from: string, to: string): void {
    this.#op();
    const f = this.#lookup(from, 'rename');
    const target = this.#dir(dirname(to), 'rename', to);
    this.#dir(dirname(from), 'rename', from).live.delete(basename(from));
    target.live.set(basename(to), f);
  }

  remove(path: string): void {
    this.#op();
    this.#lookup(path, 'unlink');
    this.#dirs.get(dirname(path))!.live.delete(basename(path));
  }

  syncDir(dir: string): void {
    this.#op();
    const d = this.#dir(dir, 'open', dir);
    d.durable = new Map(d.live);
  }

  #op(): void {
    this.ops++;
    if (this.#opsLeft !== undefined && !this.#crashed) {
      if (this.#opsLeft === 0) this.#crashed = true;
      else this.#opsLeft--;
    }
    if (this.#crashed) throw new Error(DISK_CRASHED);
  }

  #dir(dir: string, op: string, path: string): Dir {
    const d = this.#dirs.get(dir);
    if (!d) throw fsError('ENOENT', op, path);
    return d;
  }

  #lookup(path: string, op: string): Inode {
    const f = this.#dir(dirname(path), op, path).live.get(basename(path));
    if (!f) throw fsError('ENOENT', op, path);
    return f;
  }
}
