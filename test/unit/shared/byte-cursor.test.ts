import { suite, equal, is, ok, throws } from '../../harness.js';
import { seededRand } from '../../../shared/rand.js';
import { ByteCursorError, ByteReader, ByteWriter, describeFault, utf8Length, type ByteCursorFault } from '../../../shared/wire/byte-cursor.js';

const t = suite('byte-cursor');

/** The error a reader call throws (fails the test if it throws nothing). */
function caught(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

function fault(f: () => unknown): ByteCursorFault {
  const e = caught(f);
  ok(e instanceof ByteCursorError, `expected a ByteCursorError, got ${String(e)}`);
  return (e as ByteCursorError).fault;
}

const bytesOf = (...b: number[]) => Uint8Array.from(b);

t('golden bytes: every integer is big-endian, str8 is a length byte then UTF-8', () => {
  const w = new ByteWriter(33);
  w.u8(0xab);
  w.u16(0x0102);
  w.u32(0x0304_0506);
  w.u64(0x0007_0809_0a0b_0c0d);
  w.u64(Number.MAX_SAFE_INTEGER);
  w.str8('hé');
  w.bytes(bytesOf(0xde, 0xad));
  w.str8('\ud800'); // a lone surrogate is written as U+FFFD, as TextEncoder does
  is(w.offset, 33);
  is(w.left, 0);
  // prettier-ignore
  equal([...w.buf], [
    0xab,
    0x01, 0x02,
    0x03, 0x04, 0x05, 0x06,
    0x00, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
    0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x03, 0x68, 0xc3, 0xa9,
    0xde, 0xad,
    0x03, 0xef, 0xbf, 0xbd,
  ]);
});

t('round trips (random values, 200 seeds)', () => {
  const strs = ['a', 'node-1', 'é', '日本', '\u{1f600}', 'x'.repeat(255), '\ufeffbom'];
  for (let seed = 1; seed <= 200; seed++) {
    const r = seededRand(seed);
    const u8 = r.int(0x100);
    const u16 = r.int(0x1_0000);
    const u32 = r.int(0x1_0000) * 0x1_0000 + r.int(0x1_0000);
    const u64 = r.int(0x20_0000) * 0x1_0000_0000 + u32;
    const body = r.bytes(r.int(20));
    const s = strs[r.int(strs.length)]!;
    const sLen = new TextEncoder().encode(s).length;
    const w = new ByteWriter(1 + 2 + 4 + 8 + body.length + 1 + sLen);
    w.u8(u8);
    w.u16(u16);
    w.u32(u32);
    w.u64(u64);
    w.bytes(body);
    w.str8(s);
    is(w.left, 0);
    const rd = new ByteReader(w.buf);
    is(rd.u8('a'), u8);
    is(rd.u16('b'), u16);
    is(rd.u32('c'), u32);
    is(rd.u64('d'), u64);
    equal([...rd.bytes(body.length, 'e')], [...body]);
    is(rd.str8('f', 255), s);
    is(rd.left, 0);
    rd.expectEnd('msg');
  }
});

t('the reader honours start, end and a buffer that is a view into a larger one', () => {
  const backing = bytesOf(0xff, 0xff, 0x00, 0x01, 0x02, 0x03, 0xff);
  const view = backing.subarray(2, 6); // 00 01 02 03
  equal(new ByteReader(view).u32('x'), 0x0001_0203);
  const r = new ByteReader(view, { start: 1, end: 3 });
  is(r.offset, 1);
  is(r.left, 2);
  is(r.u16('x'), 0x0102);
  is(r.left, 0);
  equal(fault(() => r.u8('next')), { kind: 'truncated', what: 'next', need: 1, offset: 3, have: 0 });
  const copy = new ByteReader(view).bytes(2, 'x');
  copy[0] = 0x55;
  is(view[0], 0x00, 'bytes() returns a copy');
  throws(() => new ByteReader(view, { start: 3, end: 2 }), /ByteReader: bad range 3\.\.2 of 4 bytes/);
  throws(() => new ByteReader(view, { end: 5 }), /ByteReader: bad range 0\.\.5 of 4 bytes/);
  throws(() => new ByteReader(view, { start: -1 }), /ByteReader: bad range -1\.\.4 of 4 bytes/);
});

t('every bounds fault of the reader, with absolute offsets', () => {
  const buf = bytesOf(9, 1, 2, 3);
  const at1 = () => new ByteReader(buf, { start: 1 });
  equal(fault(() => new ByteReader(new Uint8Array(0)).u8('type')), { kind: 'truncated', what: 'type', need: 1, offset: 0, have: 0 });
  equal(fault(() => new ByteReader(buf, { start: 1, end: 2 }).u16('seq')), { kind: 'truncated', what: 'seq', need: 2, offset: 1, have: 1 });
  equal(fault(() => at1().u32('seq')), { kind: 'truncated', what: 'seq', need: 4, offset: 1, have: 3 });
  equal(fault(() => at1().u64('ltime')), { kind: 'truncated', what: 'ltime', need: 8, offset: 1, have: 3 });
  equal(fault(() => at1().bytes(4, 'value')), { kind: 'truncated', what: 'value', need: 4, offset: 1, have: 3 });
  equal(fault(() => at1().need(5, 'header')), { kind: 'truncated', what: 'header', need: 5, offset: 1, have: 3 });
  equal(fault(() => at1().skip(4, 'part')), { kind: 'truncated', what: 'part', need: 4, offset: 1, have: 3 });
  equal(fault(() => new ByteReader(buf, { start: 4 }).str8('node', 32)), { kind: 'truncated', what: 'node length', need: 1, offset: 4, have: 0 });
  equal(fault(() => new ByteReader(bytesOf(5, 0x61, 0x62)).str8('node', 32)), { kind: 'truncated', what: 'node', need: 5, offset: 1, have: 2 });
  // A window's end is a hard end, even with more bytes behind it.
  equal(fault(() => new ByteReader(buf, { end: 2 }).bytes(3, 'v')), { kind: 'truncated', what: 'v', need: 3, offset: 0, have: 2 });
  // A failed read consumes nothing.
  const r = at1();
  caught(() => r.u32('seq'));
  is(r.offset, 1);
  is(r.u16('ok'), 0x0102);
  const s = at1();
  s.skip(2, 'x');
  is(s.offset, 3);
});

t('str8 length range, UTF-8 and the byte order mark', () => {
  equal(fault(() => new ByteReader(bytesOf(0)).str8('key', 255)), { kind: 'length', what: 'key', max: 255, got: 0 });
  equal(fault(() => new ByteReader(bytesOf(3, 0x61, 0x62, 0x63)).str8('key', 2)), { kind: 'length', what: 'key', max: 2, got: 3 });
  is(new ByteReader(bytesOf(2, 0x61, 0x62)).str8('key', 2), 'ab');
  equal(fault(() => new ByteReader(bytesOf(2, 0xc3, 0x28)).str8('node', 32)), { kind: 'utf8', what: 'node' });
  equal(fault(() => new ByteReader(bytesOf(3, 0xed, 0xa0, 0x80)).str8('node', 32)), { kind: 'utf8', what: 'node' }); // an encoded surrogate
  const bom = bytesOf(4, 0xef, 0xbb, 0xbf, 0x61);
  is(new ByteReader(bom).str8('s', 32), '\ufeffa', 'exact by default');
  is(new ByteReader(bom).str8('s', 32), '\ufeffa', 'and again: the decoder keeps no state');
  is(new ByteReader(bom, { stripBOM: true }).str8('s', 32), 'a');
  const r = new ByteReader(bytesOf(2, 0xc3, 0x28, 0x7f));
  caught(() => r.str8('s', 32));
  is(r.offset, 1, 'a string that fails to decode is not consumed');
});

t('u64 is limited to 2^53-1', () => {
  is(new ByteReader(bytesOf(0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)).u64('t'), Number.MAX_SAFE_INTEGER);
  const r = new ByteReader(bytesOf(0, 0x20, 0, 0, 0, 0, 0, 0, 0x42));
  equal(fault(() => r.u64('ltime')), { kind: 'u64', what: 'ltime' });
  is(r.offset, 8, 'the eight bytes are consumed');
  equal(fault(() => new ByteReader(bytesOf(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)).u64('ltime')), { kind: 'u64', what: 'ltime' });
});

t('expectEnd: exact length', () => {
  new ByteReader(bytesOf(1), { start: 1 }).expectEnd('ack');
  const r = new ByteReader(bytesOf(1, 2, 3), { end: 3 });
  r.u8('x');
  equal(fault(() => r.expectEnd('ack')), { kind: 'trailing', what: 'ack', have: 2 });
});

t('ByteCursorError: a code, the fault, and a default wording for each fault', () => {
  const e = caught(() => new ByteReader(bytesOf(1, 2), { start: 1 }).u32('seq')) as ByteCursorError;
  is(e.name, 'ByteCursorError');
  is(e.code, 'EBYTECURSOR');
  is(e.message, 'truncated seq: need 4 bytes at offset 1, have 1');
  is(describeFault({ kind: 'length', what: 'node', max: 32, got: 0 }), 'node must be 1..32 bytes, got 0');
  is(describeFault({ kind: 'utf8', what: 'node' }), 'node is not valid UTF-8');
  is(describeFault({ kind: 'u64', what: 'ltime' }), 'ltime exceeds 2^53-1');
  is(describeFault({ kind: 'trailing', what: 'ack', have: 3 }), 'ack has 3 trailing bytes');
});

t("fail: the caller's error is thrown instead, for every fault", () => {
  class CodecError extends Error {
    override name = 'CodecError';
  }
  const seen: ByteCursorFault[] = [];
  const opts = {
    fail: (f: ByteCursorFault) => {
      seen.push(f);
      return new CodecError(`codec: ${f.kind} ${f.what}`);
    },
  };
  const cases: [() => unknown, string][] = [
    [() => new ByteReader(bytesOf(), opts).u8('type'), 'codec: truncated type'],
    [() => new ByteReader(bytesOf(0), opts).str8('node', 1), 'codec: length node'],
    [() => new ByteReader(bytesOf(1, 0xff), opts).str8('node', 1), 'codec: utf8 node'],
    [() => new ByteReader(bytesOf(0xff, 0, 0, 0, 0, 0, 0, 0), opts).u64('ltime'), 'codec: u64 ltime'],
    [() => new ByteReader(bytesOf(0), opts).expectEnd('msg'), 'codec: trailing msg'],
    [() => new ByteReader(bytesOf(), opts).fail({ kind: 'truncated', what: 'own', need: 1, offset: 0, have: 0 }), 'codec: truncated own'],
  ];
  for (const [f, msg] of cases) {
    const e = caught(f);
    ok(e instanceof CodecError, String(e));
    ok(!(e instanceof ByteCursorError));
    is(e.message, msg);
  }
  is(seen.length, cases.length);
});

t('the writer refuses to write past its buffer (a codec bug), without writing', () => {
  const w = new ByteWriter(3);
  w.u8(1);
  throws(() => w.u32(0), /ByteWriter: need 4 bytes at offset 1, have 2/);
  throws(() => w.u64(0), /ByteWriter: need 8 bytes at offset 1, have 2/);
  throws(() => w.bytes(bytesOf(1, 2, 3)), /ByteWriter: need 3 bytes at offset 1, have 2/);
  throws(() => w.str8('abc'), /ByteWriter: str8 does not fit in 1 bytes/);
  is(w.offset, 1);
  w.u16(0x0203);
  throws(() => w.u8(4), /ByteWriter: need 1 bytes at offset 3, have 0/);
  throws(() => w.u16(4), /ByteWriter: need 2 bytes at offset 3, have 0/);
  throws(() => w.str8('a'), /ByteWriter: need 1 bytes at offset 3, have 0/);
  equal([...w.buf], [1, 2, 3]);
  // str8's length is one byte, whatever room is left.
  throws(() => new ByteWriter(300).str8('x'.repeat(256)), /ByteWriter: str8 does not fit in 255 bytes/);
  const ok255 = new ByteWriter(256);
  ok255.str8('x'.repeat(255));
  is(ok255.buf[0], 255);
  is(ok255.left, 0);
});

t('utf8Length is what str8 writes, lone surrogates included', () => {
  for (const s of ['', 'a', 'é', '日本', '\u{1f600}', '\ud800', '\udc00', 'a\ud800b', '\ud83d\ud83d\ude00', '\ufeff']) {
    is(utf8Length(s), new TextEncoder().encode(s).length, JSON.stringify(s));
    const w = new ByteWriter(1 + utf8Length(s));
    w.str8(s);
    is(w.left, 0);
  }
});

t.run();
