// The log (paper §5.3, §7), the conf-change bytes (thesis §4.1) and the
// majority arithmetic checked against a dumb twin (STYLE habit 5).
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { RaftLog } from '../../../../agent/cluster/raft/raft-log.js';
import { decodeConfChange, encodeConfChange } from '../../../../agent/cluster/raft/conf-change.js';
import { majorityIndex, tallyVotes } from '../../../../agent/cluster/raft/quorum.js';
import type { Entry } from '../../../../agent/cluster/raft/types.js';
import { seededRand } from '../../../../shared/rand.js';

const t = suite('raft log');

const ent = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index]) });
const conf = (index: number, term: number, type: 'add' | 'remove', id: string): Entry => ({ index, term, type: 'conf', data: encodeConfChange({ type, id }) });
const terms = (log: RaftLog) => log.slice(log.firstIndex(), log.lastIndex() + 1).map((e) => e.term);
const noTruncate = (from: number) => {
  throw new Error(`unexpected truncation at ${from}`);
};

t('§5.3 maybeAppend: consistency check, idempotent re-delivery, conflict truncation', () => {
  const log = new RaftLog(undefined, [ent(1, 1), ent(2, 1), ent(3, 2)]);
  is(log.maybeAppend(3, 1, [ent(4, 2)], noTruncate), undefined, 'prevTerm mismatch rejected');
  is(log.maybeAppend(5, 2, [], noTruncate), undefined, 'prevIndex beyond the end rejected');
  is(log.maybeAppend(1, 1, [ent(2, 1), ent(3, 2)], noTruncate), 3, 'already present: nothing changes');
  equal(log.unstableEntries(), []);
  let truncatedAt = 0;
  is(log.maybeAppend(2, 1, [ent(3, 3), ent(4, 3)], (i) => (truncatedAt = i)), 4);
  is(truncatedAt, 3);
  equal(terms(log), [1, 1, 3, 3]);
  equal(log.unstableEntries().map((e) => e.index), [3, 4], 'rewritten entries must be persisted again');
  // A stale, shorter append never truncates matching entries after it (§5.3, figure 2 rule 3).
  is(log.maybeAppend(2, 1, [ent(3, 3)], noTruncate), 3);
  is(log.lastIndex(), 4);
});

t('§5.4.1 isUpToDate compares last term, then length', () => {
  const log = new RaftLog(undefined, [ent(1, 1), ent(2, 3)]);
  equal([log.isUpToDate(2, 3), log.isUpToDate(1, 3), log.isUpToDate(9, 2), log.isUpToDate(1, 4)], [true, false, false, true]);
});

t('§5.3 conflictHint: the last index at or before prevIndex whose term is at most prevTerm', () => {
  const log = new RaftLog(undefined, [ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2), ent(5, 4), ent(6, 4)]);
  equal(log.conflictHint(6, 3), { index: 4, term: 2 }, 'skips the whole term-4 run');
  equal(log.conflictHint(9, 5), { index: 6, term: 4 }, 'prevIndex beyond our end: our last entry');
  equal(log.conflictHint(2, 0), { index: 0, term: 0 });
});

t('§7 compaction keeps terms at the boundary; entriesFrom reports compacted ranges', () => {
  const log = new RaftLog(undefined, [ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2)]);
  const snap = log.compact(2, new Uint8Array([9]));
  equal({ index: snap.index, term: snap.term }, { index: 2, term: 1 });
  is(log.firstIndex(), 3);
  is(log.term(2), 1, 'term of the snapshot index is still known (for prevTerm)');
  is(log.term(1), undefined);
  is(log.entriesFrom(2, 1000), undefined, 'compacted: send a snapshot');
  equal(log.entriesFrom(3, 1000)!.map((e) => e.index), [3, 4]);
  equal(log.entriesFrom(3, 1)!.map((e) => e.index), [3], 'at least one entry whatever the byte limit');
  throws(() => log.compact(9, new Uint8Array()), /expected index in 2\.\.4, got 9/);
  log.restore({ index: 10, term: 5, conf: { voters: ['x'] }, data: new Uint8Array() });
  equal([log.firstIndex(), log.lastIndex(), log.lastTerm()], [11, 10, 5]);
  equal(log.conf(), { voters: ['x'] });
  ok(log.pendingSnapshot());
});

t('thesis §4.1 the configuration is the newest in the log, and truncation brings the older one back', () => {
  const log = new RaftLog(undefined, [conf(1, 1, 'add', 'a'), conf(2, 1, 'add', 'b'), ent(3, 1)]);
  equal(log.conf(), { voters: ['a', 'b'] });
  log.append([conf(4, 2, 'add', 'c')]);
  equal(log.conf(), { voters: ['a', 'b', 'c'] });
  is(log.confIndex(), 4);
  equal(log.confAt(3), { voters: ['a', 'b'] });
  log.maybeAppend(3, 1, [ent(4, 3)], () => {});
  equal(log.conf(), { voters: ['a', 'b'] }, 'the uncommitted change was truncated away');
  const snap = log.compact(3, new Uint8Array());
  equal(snap.conf, { voters: ['a', 'b'] }, 'the snapshot records the configuration at its index');
});

t('thesis §4.1 conf change bytes: golden vector and exact errors', () => {
  const b = encodeConfChange({ type: 'add', id: 'n1', context: new Uint8Array([0xaa]) });
  equal([...b], [1, 1, 0, 2, 0x6e, 0x31, 0xaa]);
  equal(decodeConfChange(b), { type: 'add', id: 'n1', context: new Uint8Array([0xaa]) });
  equal(decodeConfChange(encodeConfChange({ type: 'remove', id: 'x' })), { type: 'remove', id: 'x' });
  throws(() => decodeConfChange(new Uint8Array([1, 3, 0, 1, 0x41])), /expected type 1 \(add\) or 2 \(remove\), got 3/);
  throws(() => decodeConfChange(new Uint8Array([2, 1, 0, 1, 0x41])), /expected version 1, got 2/);
  throws(() => decodeConfChange(new Uint8Array([1, 1, 0, 5, 0x41])), /id length 5 does not fit in 5 bytes/);
  throws(() => encodeConfChange({ type: 'add', id: '' }), /id must be 1\.\.65535 UTF-8 bytes, got 0/);
});

t('§5.4.2 majorityIndex agrees with a dumb twin on random inputs', () => {
  const seed = 2024;
  const rand = seededRand(seed);
  // Dumb twin: the largest i such that a majority has match >= i.
  const naive = (matches: number[]) => {
    let best = 0;
    for (let i = 0; i <= 50; i++) if (matches.filter((m) => m >= i).length > matches.length / 2) best = i;
    return best;
  };
  for (let round = 0; round < 500; round++) {
    const n = 1 + rand.int(7);
    const ids = Array.from({ length: n }, (_, k) => `n${k}`);
    const matches = ids.map(() => rand.int(51));
    is(majorityIndex(ids, (id) => matches[Number(id.slice(1))]!), naive(matches), `matches ${matches} (seed ${seed})`);
  }
  is(majorityIndex([], () => 5), 0);
});

t('§5.2 tallyVotes: won, lost, pending; answers from non-voters do not count', () => {
  const v = ['a', 'b', 'c', 'd'];
  is(tallyVotes(v, new Map([['a', true], ['b', true]])), 'pending', '2 of 4 is not a majority');
  is(tallyVotes(v, new Map([['a', true], ['b', true], ['c', true]])), 'won');
  is(tallyVotes(v, new Map([['a', true], ['b', false], ['c', false]])), 'lost', 'a majority can no longer be reached');
  is(tallyVotes(v, new Map([['a', true], ['x', true], ['y', true]])), 'pending');
});

t.run();
