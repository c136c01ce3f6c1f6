// Task and endpoint logs (agent/endpoint/task-logs.ts) on real files in a
// temp dir: chunks from an offset, the start of the last N lines, a log cut
// to its newer half past its bound, and the leader's `logs` request.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, is, equal, ok } from '../../harness.js';
import { LOG_CHUNK_BYTES, readLogChunk, tailOffset, taskLogs, trimLog } from '../../../agent/endpoint/task-logs.js';

const t = suite('endpoint/task-logs');
const dir = mkdtempSync(join(tmpdir(), 'agent-logs-test-'));
t.after(() => rmSync(dir, { recursive: true, force: true }));

t('chunks from an offset, at most 64 KiB each; no file is an empty log; an offset past the end starts over', () => {
  const p = join(dir, 'a.log');
  is(readLogChunk(p, 0).data, '');
  writeFileSync(p, 'x'.repeat(LOG_CHUNK_BYTES + 10));
  const first = readLogChunk(p, 0);
  equal([first.data.length, first.next], [LOG_CHUNK_BYTES, LOG_CHUNK_BYTES]);
  const second = readLogChunk(p, first.next);
  equal([second.data.length, second.next], [10, LOG_CHUNK_BYTES + 10]);
  equal(readLogChunk(p, second.next), { data: '', next: LOG_CHUNK_BYTES + 10 });
  equal(readLogChunk(p, 10 * LOG_CHUNK_BYTES), { data: 'x'.repeat(LOG_CHUNK_BYTES), next: LOG_CHUNK_BYTES }, 'cut meanwhile: from 0');
});

t('a chunk never ends inside a UTF-8 character: its bytes come with the next one', () => {
  const p = join(dir, 'u.log');
  writeFileSync(p, 'x'.repeat(LOG_CHUNK_BYTES - 1) + '€tail');
  const a = readLogChunk(p, 0);
  equal([a.data.length, a.next], [LOG_CHUNK_BYTES - 1, LOG_CHUNK_BYTES - 1]);
  is(readLogChunk(p, a.next).data, '€tail');
});

t('tailOffset: where the last N lines start, with or without a final newline', () => {
  const p = join(dir, 'b.log');
  writeFileSync(p, 'one\ntwo\nthree\n');
  is(readLogChunk(p, tailOffset(p, 2)).data, 'two\nthree\n');
  is(readLogChunk(p, tailOffset(p, 1)).data, 'three\n');
  is(readLogChunk(p, tailOffset(p, 9)).data, 'one\ntwo\nthree\n', 'more lines than there are: all');
  is(readLogChunk(p, tailOffset(p, 0)).data, '', 'none');
  writeFileSync(p, 'one\ntwo\npartial');
  is(readLogChunk(p, tailOffset(p, 1)).data, 'partial');
});

t('trimLog: past the bound the log keeps its newer half, and the writer goes on at the end', () => {
  const p = join(dir, 'c.log');
  writeFileSync(p, 'a'.repeat(600) + 'b'.repeat(500));
  is(trimLog(p, 2000), false, 'under the bound: untouched');
  is(trimLog(p, 1000), true);
  is(readFileSync(p, 'utf8'), 'b'.repeat(500));
  appendFileSync(p, 'next\n');
  ok(readFileSync(p, 'utf8').endsWith('bnext\n'));
});

t("the leader's logs request: each task from its offset, tail on a first read, bad entries skipped", () => {
  const m = { logPath: (id: string) => join(dir, `${id}.log`) };
  writeFileSync(m.logPath('aaaaaaaaaaaa1'), 'l1\nl2\nl3\n');
  const out = taskLogs(m, { tasks: [{ taskId: 'aaaaaaaaaaaa1', offset: 0 }, { taskId: '../etc/passwd', offset: 0 }, { taskId: 'bbbbbbbbbbbb2', offset: -1 }], tail: 1 });
  equal(out, [{ taskId: 'aaaaaaaaaaaa1', data: 'l3\n', next: 9 }]);
  equal(taskLogs(m, { tasks: [{ taskId: 'aaaaaaaaaaaa1', offset: 3 }] }), [{ taskId: 'aaaaaaaaaaaa1', data: 'l2\nl3\n', next: 9 }]);
  equal(taskLogs(m, null), []);
});

t.run();
