// The filesystem seam of the Raft log (STYLE habit 2): only the operations
// the log needs, with nodeDisk() over node:fs here and MemDisk (mem-disk.ts)
// beside it, both held to test/unit/cluster/wal/disk-contract.ts.
//
// The calls are synchronous on purpose: the log is small, the daemon is
// single-threaded, and a write must be durable before the Raft host sends the
// messages that depend on it, so there is nothing useful to overlap.
//
// Durability contract (what survives a power loss):
// - bytes appended to a file survive once sync() on that file returns;
// - truncate() is durable after the next sync() of that file;
// - a created, renamed or removed name survives once syncDir() of its
//   directory returns (POSIX leaves directory entries to fsync of the
//   directory; ext4 with delayed allocation really does lose them);
// - mkdirp() is treated as durable at once (the state dir is made once).
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, truncateSync, unlinkSync, writeSync } from 'node:fs';

/** A file open for appending. After close() every call but close() throws. */
export interface AppendFile {
  append(bytes: Uint8Array): void;
  /** Make everything appended (and any truncate) durable: fsync(2). */
  sync(): void;
  /** Idempotent. Does not sync. */
  close(): void;
}

export interface Disk {
  /** Create dir and its parents if missing. */
  mkdirp(dir: string): void;
  /** Open path for appending, creating it empty if absent. */
  openAppend(path: string): AppendFile;
  /** The whole file. Throws an error with code ENOENT if absent. */
  readFile(path: string): Uint8Array;
  /** Cut the file to `length` bytes (never longer than it is). */
  truncate(path: string, length: number): void;
  /** The names in dir, sorted. */
  list(dir: string): string[];
  /** Atomically replace `to` with `from`. */
  rename(from: string, to: string): void;
  /** Remove a file. Throws ENOENT if absent. */
  remove(path: string): void;
  /** Make the directory's entries (creates, renames, removes) durable. */
  syncDir(dir: string): void;
}

/** The real filesystem through node:fs (works on Node 20 and Deno 2). */
export function nodeDisk(): Disk {
  return {
    mkdirp(dir) {
      mkdirSync(dir, { recursive: true });
    },
    openAppend(path) {
      let fd: number | undefined = openSync(path, 'a');
      const live = (): number => {
        if (fd === undefined) throw new Error(`${path}: file handle used after close`);
        return fd;
      };
      return {
        append(bytes) {
          const f = live();
          // writeSync may write less than asked (a full disk, a signal); loop.
          for (let off = 0; off < bytes.length; ) off += writeSync(f, bytes, off, bytes.length - off);
        },
        sync: () => fsyncSync(live()),
        close() {
          if (fd !== undefined) closeSync(fd);
          fd = undefined;
        },
      };
    },
    readFile(path) {
      const b = readFileSync(path);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
    truncate: (path, length) => truncateSync(path, length),
    list: (dir) => readdirSync(dir).sort(),
    rename: (from, to) => renameSync(from, to),
    remove: (path) => unlinkSync(path),
    syncDir(dir) {
      const fd = openSync(dir, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
  };
}
