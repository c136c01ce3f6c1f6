// Log files of endpoints and tasks (the output the sh wrapper appends,
// endpoint-process.ts): read a chunk from an offset, find where the last N
// lines start, and keep a running task's log bounded.
import { closeSync, openSync, readSync, statSync, writeSync, ftruncateSync } from 'node:fs';

/** The most one read returns. */
export const LOG_CHUNK_BYTES = 64 * 1024;
/** A task's log is cut to its newer half once it passes this (docker's json-file keeps growing; issue 8 wants it bounded). */
export const TASK_LOG_MAX_BYTES = 8 * 1024 * 1024;

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readAt(path: string, offset: number, n: number): Buffer {
  const buf = Buffer.alloc(n);
  if (n === 0) return buf;
  const fd = openSync(path, 'r');
  try {
    const got = readSync(fd, buf, 0, n, offset);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Up to LOG_CHUNK_BYTES from offset; an offset past the end (the log was cut) starts again at 0. */
export function readLogChunk(path: string, offset: number): { data: string; next: number } {
  const size = sizeOf(path);
  const from = offset > size ? 0 : offset;
  const buf = readAt(path, from, Math.max(0, Math.min(LOG_CHUNK_BYTES, size - from)));
  // A chunk that stops inside a UTF-8 sequence leaves its first bytes to the next read.
  const whole = from + buf.length < size ? buf.subarray(0, utf8Boundary(buf)) : buf;
  return { data: whole.toString('utf8'), next: from + whole.length };
}

/** The length of buf without a UTF-8 sequence cut at its end. */
function utf8Boundary(buf: Buffer): number {
  for (let back = 1; back <= Math.min(4, buf.length); back++) {
    const b = buf[buf.length - back]!;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? buf.length - back : buf.length;
  }
  return buf.length;
}

/** Where the last `lines` lines start (within the last chunk's worth of bytes). */
export function tailOffset(path: string, lines: number): number {
  const size = sizeOf(path);
  const from = Math.max(0, size - LOG_CHUNK_BYTES);
  const buf = readAt(path, from, size - from);
  // A final newline ends the last line; it does not start another.
  let i = buf.length > 0 && buf[buf.length - 1] === 0x0a ? buf.length - 1 : buf.length;
  for (let n = 0; n < lines; n++) {
    const j = buf.lastIndexOf(0x0a, i - 1);
    if (j < 0) return lines === 0 ? size : from;
    i = j;
  }
  return lines === 0 ? size : from + i + 1;
}

/** Cut the log to its newer half when it is over maxBytes; true if it did. The writer (O_APPEND) carries on at the new end. */
export function trimLog(path: string, maxBytes = TASK_LOG_MAX_BYTES): boolean {
  const size = sizeOf(path);
  if (size <= maxBytes) return false;
  const keep = readAt(path, size - Math.floor(maxBytes / 2), Math.floor(maxBytes / 2));
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, keep, 0, keep.length, 0);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The leader's `logs` request for some of this node's tasks: {tasks: [{taskId, offset}], tail?}. Unknown ids get nothing. */
export function taskLogs(m: { logPath(id: string): string }, args: unknown): { taskId: string; data: string; next: number }[] {
  const a = (args ?? {}) as { tasks?: unknown; tail?: unknown };
  const tail = typeof a.tail === 'number' && Number.isInteger(a.tail) && a.tail >= 0 ? a.tail : undefined;
  const out: { taskId: string; data: string; next: number }[] = [];
  for (const t of Array.isArray(a.tasks) ? a.tasks.slice(0, 1_000) : []) {
    const { taskId, offset } = (t ?? {}) as { taskId?: unknown; offset?: unknown };
    if (typeof taskId !== 'string' || !/^[0-9a-z]{12,64}$/.test(taskId)) continue;
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) continue;
    const path = m.logPath(taskId);
    const from = offset === 0 && tail !== undefined ? tailOffset(path, tail) : offset;
    out.push({ taskId, ...readLogChunk(path, from) });
  }
  return out;
}
