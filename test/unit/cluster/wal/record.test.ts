// The segment record format: golden bytes for every record type (STYLE habit
// 7), length-exact decoding, and the torn-versus-corrupt verdict of a scan.
// The CRCs below were cross-checked with an independent bitwise CRC-32C.
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { crc32c } from '../../../../shared/checksum.js';
import {
  checkSegmentHeader,
  encodeRecord,
  encodeSegmentHeader,
  readFrame,
  RecordHeader,
  scanSegment,
  SegmentHeader,
  type WalRecord,
} from '../../../../agent/cluster/wal/record.js';

const t = suite('wal record format');
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (s: string) => Uint8Array.from(s.replace(/\s+/g, '').match(/../g) ?? [], (h) => parseInt(h, 16));
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

const ENTRIES: WalRecord = {
  type: 'entries',
  entries: [
    { index: 5, term: 2, type: 'normal', data: Uint8Array.from([0xaa, 0xbb]) },
    { index: 6, term: 3, type: 'conf', data: new Uint8Array(0) },
  ],
};
const ENTRIES_BYTES = unhex(`
  00000030 e48e6850 01
  00000002
  0000000000000005 0000000000000002 00 00000002 aabb
  0000000000000006 0000000000000003 01 00000000`);
const HARD_STATE: WalRecord = { type: 'hardState', hardState: { term: 7, vote: 'n1', commit: 4 } };
const HARD_STATE_BYTES = unhex('00000014 2ac6f6b6 02 0000000000000007 0000000000000004 0002 6e31');
const NO_VOTE: WalRecord = { type: 'hardState', hardState: { term: 0, vote: undefined, commit: 0 } };
const NO_VOTE_BYTES = unhex('00000012 24155963 02 0000000000000000 0000000000000000 0000');
const SNAPSHOT: WalRecord = { type: 'snapshot', snapshot: { index: 0x1_0000_0001, term: 9 } };
const SNAPSHOT_BYTES = unhex('00000010 64b91321 03 0000000100000001 0000000000000009');

t('golden: segment header is "AWAL", version 1, reserved 0', () => {
  is(hex(encodeSegmentHeader()), '4157414c00010000');
  is(checkSegmentHeader(encodeSegmentHeader()), undefined);
});

t('golden: entries record (type 1)', () => {
  is(hex(encodeRecord(ENTRIES)), hex(ENTRIES_BYTES));
});

t('golden: hard state record (type 2), with and without a vote', () => {
  is(hex(encodeRecord(HARD_STATE)), hex(HARD_STATE_BYTES));
  is(hex(encodeRecord(NO_VOTE)), hex(NO_VOTE_BYTES));
});

t('golden: snapshot record (type 3), u64 above 2^32', () => {
  is(hex(encodeRecord(SNAPSHOT)), hex(SNAPSHOT_BYTES));
});

t('decode round-trips every golden record', () => {
  for (const [bytes, rec] of [[ENTRIES_BYTES, ENTRIES], [HARD_STATE_BYTES, HARD_STATE], [NO_VOTE_BYTES, NO_VOTE], [SNAPSHOT_BYTES, SNAPSHOT]] as const) {
    const f = readFrame(bytes, 0);
    equal(f, { kind: 'record', record: rec, end: bytes.length });
  }
});

t('encode validates with exact messages', () => {
  const e = (over: object) => ({ type: 'entries', entries: [{ index: 1, term: 1, type: 'normal', data: new Uint8Array(0), ...over }] }) as WalRecord;
  throws(() => encodeRecord(e({ index: -1 })), /entry index must be a non-negative safe integer, got -1/);
  throws(() => encodeRecord(e({ term: 2 ** 53 })), /entry term must be a non-negative safe integer, got 9007199254740992/);
  throws(() => encodeRecord(e({ type: 'bogus' })), /entry type must be 'normal' or 'conf', got bogus/);
  throws(() => encodeRecord({ type: 'entries', entries: [] }), /needs at least one entry, got 0/);
  throws(() => encodeRecord({ type: 'hardState', hardState: { term: 1, vote: '', commit: 0 } }), /vote must be a non-empty string or undefined, got ""/);
});

t('length-exact: a payload with a byte too many or too few is unreadable, not guessed', () => {
  // Re-frame the snapshot payload with one extra byte and a valid CRC.
  const payload = cat(SNAPSHOT_BYTES.subarray(RecordHeader.size), Uint8Array.of(0));
  const framed = frame(3, payload);
  equal(readFrame(framed, 0), { kind: 'unreadable', reason: 'malformed snapshot record' });
  equal(readFrame(frame(2, HARD_STATE_BYTES.subarray(RecordHeader.size, -1)), 0), { kind: 'unreadable', reason: 'malformed hard state record' });
  equal(readFrame(frame(1, ENTRIES_BYTES.subarray(RecordHeader.size, -1)), 0), { kind: 'unreadable', reason: 'malformed entries record' });
  equal(readFrame(frame(99, new Uint8Array(0)), 0), { kind: 'unreadable', reason: 'record of unknown type 99 (written by a newer agent?)' });
});

t('a record cut anywhere is short; a flipped bit anywhere is damaged', () => {
  for (let cut = 0; cut < ENTRIES_BYTES.length; cut++) equal(readFrame(ENTRIES_BYTES.subarray(0, cut), 0), { kind: 'short' }, `cut ${cut}`);
  for (let i = 0; i < ENTRIES_BYTES.length; i++) {
    const b = ENTRIES_BYTES.slice();
    b[i]! ^= 0x01;
    const f = readFrame(b, 0);
    // A flipped length bit can make the record run past the end: short.
    ok(f.kind === 'damaged' || (i < 4 && f.kind === 'short'), `byte ${i}: ${f.kind}`);
  }
});

t('scan: clean segment, torn tail, corruption followed by a good record', () => {
  const seg = cat(encodeSegmentHeader(), HARD_STATE_BYTES, SNAPSHOT_BYTES);
  const clean = scanSegment(seg);
  is(clean.damage, undefined);
  is(clean.goodEnd, seg.length);
  equal(clean.records.map((r) => r.offset), [SegmentHeader.size, SegmentHeader.size + HARD_STATE_BYTES.length]);

  const torn = scanSegment(seg.subarray(0, seg.length - 3));
  equal(torn.damage, { offset: SegmentHeader.size + HARD_STATE_BYTES.length, reason: 'record runs past the end of the file', unreadable: false, validFollows: false });

  const mid = seg.slice();
  mid[SegmentHeader.size + 12]! ^= 0x40;
  const bad = scanSegment(mid);
  equal(bad.damage, { offset: SegmentHeader.size, reason: 'checksum mismatch', unreadable: false, validFollows: true });
  is(bad.goodEnd, SegmentHeader.size);

  // A damaged last record with nothing after it reads as torn.
  const last = seg.slice();
  last[seg.length - 1]! ^= 0x40;
  equal(scanSegment(last).damage?.validFollows, false);

  // Zeros after the records (a file extended but never written) are a torn tail.
  equal(scanSegment(cat(seg, new Uint8Array(100))).damage, { offset: seg.length, reason: 'checksum mismatch', unreadable: false, validFollows: false });
});

t('segment header problems are named', () => {
  is(checkSegmentHeader(Uint8Array.of(0x41)), 'file is 1 bytes, shorter than the 8-byte header');
  is(checkSegmentHeader(unhex('4157414d00010000')), 'bad magic, not a raft log segment');
  is(checkSegmentHeader(unhex('4157414c00020000')), 'format version 2, this agent reads version 1');
});

/** Frame an arbitrary payload under any type byte, with a correct length and CRC. */
function frame(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(RecordHeader.size + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(RecordHeader.length, payload.length);
  dv.setUint8(RecordHeader.type, type);
  out.set(payload, RecordHeader.size);
  // The CRC covers length, type and payload (record.ts).
  dv.setUint32(RecordHeader.crc, crc32c(out.subarray(RecordHeader.type), crc32c(out.subarray(0, RecordHeader.crc))));
  return out;
}

t.run();
