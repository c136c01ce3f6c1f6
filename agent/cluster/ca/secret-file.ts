// The disk seam for secrets (STYLE habit 2): the node key and a CA kept in the
// state dir are read and written through this, so their code stays testable
// with the in-memory fake beside the real one. Both implementations follow
// one contract:
//   - read(path) gives the bytes and the permission bits, or undefined when
//     there is no such file;
//   - writeAtomic(path, bytes, mode) leaves either the old file or the whole
//     new one, never a torn mix: it writes a temporary file in the same
//     directory with `mode` from the start (so the secret is never readable
//     by others, not even for an instant), fsyncs it, then renames it over
//     path. Permissions are set explicitly, so the umask cannot widen them.
import { closeSync, constants, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomUUID } from 'node:crypto';

export interface SecretFile {
  bytes: Uint8Array;
  /** Permission bits only (e.g. 0o600). */
  mode: number;
}

export interface SecretFileIo {
  read(path: string): SecretFile | undefined;
  writeAtomic(path: string, bytes: Uint8Array, mode: number): void;
}

function isNotFound(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ENOENT';
}

/** The real file system (node:fs, synchronous: used once at start-up and on rare rotations). */
export function diskSecretFiles(): SecretFileIo {
  return {
    read(path) {
      let mode: number;
      try {
        mode = statSync(path).mode & 0o777;
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
      return { bytes: new Uint8Array(readFileSync(path)), mode };
    },
    writeAtomic(path, bytes, mode) {
      // A unique name per write, so two writers never share a temporary file.
      const tmp = join(dirname(path), `.${basename(path)}.tmp-${randomUUID()}`);
      const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
      try {
        fchmodSync(fd, mode);
        for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
        fsyncSync(fd);
      } catch (e) {
        closeSync(fd);
        rmSync(tmp, { force: true });
        throw e;
      }
      closeSync(fd);
      try {
        renameSync(tmp, path);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
      syncDir(dirname(path));
    },
  };
}

/** Make the rename itself durable; some platforms refuse fsync on a directory, which only costs durability. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** An in-memory twin for tests; `files` is exposed so a test can plant a bad file or a loose mode. */
export function memorySecretFiles(files = new Map<string, SecretFile>()): SecretFileIo & { files: Map<string, SecretFile> } {
  return {
    files,
    read(path) {
      const f = files.get(path);
      return f === undefined ? undefined : { bytes: f.bytes.slice(), mode: f.mode };
    },
    writeAtomic(path, bytes, mode) {
      files.set(path, { bytes: bytes.slice(), mode: mode & 0o777 });
    },
  };
}
