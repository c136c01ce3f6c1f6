import { suite, equal, is, ok } from '../../harness.js';
import { Encoder } from 'cbor-x';
import { seededRand } from '../../../shared/rand.js';
import { decodeRaftMessage, encodeRaftMessage, RaftWireError } from '../../../agent/cluster/raft-wire.js';
import type { RaftMessage } from '../../../agent/cluster/raft/index.js';

const t = suite('raft wire');
const env = { from: 'm1', to: 'm2', term: 7 };
const samples: RaftMessage[] = [
  { ...env, type: 'vote', lastIndex: 10, lastTerm: 6, transfer: false },
  { ...env, type: 'preVote', lastIndex: 0, lastTerm: 0, transfer: true },
  { ...env, type: 'voteResp', reject: true },
  { ...env, type: 'preVoteResp', reject: false },
  { ...env, type: 'append', prevIndex: 3, prevTerm: 2, commit: 3, entries: [{ term: 7, index: 4, type: 'normal', data: Uint8Array.from([1, 2]) }, { term: 7, index: 5, type: 'conf', data: new Uint8Array(0) }] },
  { ...env, type: 'appendResp', index: 5, reject: false, hintIndex: 0, hintTerm: 0 },
  { ...env, type: 'heartbeat', commit: 5, ctx: 'r1' },
  { ...env, type: 'heartbeat', commit: 5, ctx: undefined },
  { ...env, type: 'heartbeatResp', ctx: undefined },
  { ...env, type: 'snapshot', snapshot: { index: 100, term: 6, conf: { voters: ['m1', 'm2', 'm3'] }, data: Uint8Array.from([9]) } },
  { ...env, type: 'timeoutNow' },
];

t('every message type round-trips', () => {
  for (const m of samples) equal(decodeRaftMessage(encodeRaftMessage(m)), m, m.type);
});

t('golden bytes: a vote request is a plain CBOR array', () => {
  const hex = Buffer.from(encodeRaftMessage(samples[0]!)).toString('hex');
  // [1, "m1", "m2", 7, 10, 6, false]
  is(hex, '8701626d31626d32070a06f4');
});

t('malformed input is refused with RaftWireError, never a crash (20k seeded mutations)', () => {
  const r = seededRand(2026);
  let refused = 0;
  for (let i = 0; i < 20_000; i++) {
    const base = encodeRaftMessage(samples[r.int(samples.length)]!);
    const buf = Uint8Array.from(base);
    const mode = r.int(3);
    if (mode === 0) buf[r.int(buf.length)] = r.int(256);
    const input = mode === 1 ? buf.subarray(0, r.int(buf.length)) : mode === 2 ? r.bytes(r.int(40)) : buf;
    try {
      const m = decodeRaftMessage(input);
      ok(typeof m.type === 'string' && typeof m.term === 'number');
    } catch (e) {
      ok(e instanceof RaftWireError, String(e));
      refused++;
    }
  }
  ok(refused > 5_000, `only ${refused} refused`);
});

t('wrong shapes give exact messages', () => {
  const c = new Encoder({ useRecords: false });
  const bad = (v: unknown) => {
    try {
      decodeRaftMessage(c.encode(v));
      return 'accepted';
    } catch (e) {
      return (e as Error).message;
    }
  };
  is(bad([99, 'a', 'b', 1]), 'raft message: unknown type tag 99');
  is(bad([10, 'a', 'b', -1]), 'raft message: term must be a non-negative integer');
  is(bad([2, 'a', 'b', 1]), 'raft message: voteResp must have 5 fields, got 4');
  is(bad([2, '', 'b', 1, true]), 'raft message: from must be a string of 1-128 characters');
});

t.run();
