// The SWIM packet codec (packet-wire.ts): golden bytes for every message
// type (STYLE habit 7), encodedSize() equal to the encoded length, and every
// decode rejection with its exact message.
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { decodePacket, encodePacket, encodedSize, SwimWireError, type SimpleMessage, type SwimMessage } from '../../../../agent/gossip/swim/index.js';
import { isHostPort, MAX_COMPOUND_PARTS } from '../../../../agent/gossip/swim/packet-wire.js';
import { seededRand, type Rand } from '../../../../shared/rand.js';

const t = suite('swim packet wire');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

// type | fields, as drawn at the top of packet-wire.ts
const golden: [SwimMessage, string][] = [
  [{ type: 'ping', seq: 1, target: 'b' }, '01 00000001 01 62'],
  [{ type: 'ack', seq: 0x01020304 }, '02 01020304'],
  [{ type: 'ping-req', seq: 7, target: 'c', targetAddr: '10.0.0.3:7946', nack: true }, '03 00000007 01 01 63 0d 31302e302e302e333a37393436'],
  [{ type: 'ping-req', seq: 7, target: 'c', targetAddr: '10.0.0.3:7946', nack: false }, '03 00000007 00 01 63 0d 31302e302e302e333a37393436'],
  [{ type: 'nack', seq: 7 }, '04 00000007'],
  [{ type: 'suspect', incarnation: 2, node: 'c', from: 'a' }, '05 00000002 01 63 01 61'],
  [{ type: 'alive', incarnation: 3, node: 'c', addr: '10.0.0.3:7946' }, '06 00000003 01 63 0d 31302e302e302e333a37393436'],
  [{ type: 'dead', incarnation: 3, node: 'c', from: 'c' }, '07 00000003 01 63 01 63'],
  [{ type: 'user', payload: Uint8Array.from([0xde, 0xad]) }, '08 dead'],
  [{ type: 'compound', parts: [{ type: 'ack', seq: 9 }, { type: 'user', payload: Uint8Array.from([1]) }] }, '09 02 0005 02 00000009 0002 08 01'],
];

t('golden bytes for every message type, and back', () => {
  for (const [m, h] of golden) {
    is(hex(encodePacket(m)), h.replace(/\s+/g, ''), m.type);
    equal(decodePacket(bytes(h)), m, m.type);
  }
});

t('type numbers are the ones drawn at the top of the file (only ever appended)', () => {
  equal(
    golden.map(([m, h]) => [m.type, parseInt(h.slice(0, 2), 16)]),
    [['ping', 1], ['ack', 2], ['ping-req', 3], ['ping-req', 3], ['nack', 4], ['suspect', 5], ['alive', 6], ['dead', 7], ['user', 8], ['compound', 9]],
  );
});

function randomId(r: Rand): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-é日';
  let s = '';
  const n = 1 + r.int(10);
  for (let i = 0; i < n; i++) s += alphabet[r.int(alphabet.length)];
  return s;
}

function randomSimple(r: Rand): SimpleMessage {
  const addr = `10.${r.int(256)}.${r.int(256)}.${r.int(256)}:${1 + r.int(65535)}`;
  switch (r.int(8)) {
    case 0:
      return { type: 'ping', seq: r.u32(), target: randomId(r) };
    case 1:
      return { type: 'ack', seq: r.u32() };
    case 2:
      return { type: 'ping-req', seq: r.u32(), target: randomId(r), targetAddr: addr, nack: r.int(2) === 1 };
    case 3:
      return { type: 'nack', seq: r.u32() };
    case 4:
      return { type: 'suspect', incarnation: r.u32(), node: randomId(r), from: randomId(r) };
    case 5:
      return { type: 'alive', incarnation: r.u32(), node: randomId(r), addr };
    case 6:
      return { type: 'dead', incarnation: r.u32(), node: randomId(r), from: randomId(r) };
    default:
      return { type: 'user', payload: r.bytes(1 + r.int(64)) };
  }
}

function randomMessage(r: Rand): SwimMessage {
  if (r.int(3) > 0) return randomSimple(r);
  return { type: 'compound', parts: Array.from({ length: 1 + r.int(6) }, () => randomSimple(r)) };
}

t('encodedSize() is exactly the encoded length, and every message round-trips (5,000 seeded messages)', () => {
  const r = seededRand(5);
  for (let i = 0; i < 5_000; i++) {
    const m = randomMessage(r);
    const b = encodePacket(m);
    is(encodedSize(m), b.length, JSON.stringify(m));
    equal(decodePacket(b), m);
  }
});

function refusal(h: string | Uint8Array): string {
  try {
    decodePacket(typeof h === 'string' ? bytes(h) : h);
    return 'accepted';
  } catch (e) {
    ok(e instanceof SwimWireError, String(e));
    is((e as SwimWireError).code, 'ESWIMWIRE');
    return (e as Error).message;
  }
}

t('every decode rejection, with its exact message', () => {
  const addr13 = '0d 31302e302e302e333a37393436';
  const cases: [string, string][] = [
    ['', 'empty packet'],
    ['00', 'unknown message type 0'],
    ['0a 00', 'unknown message type 10'],
    ['01 000000', 'truncated seq: need 4 bytes at offset 1, have 3'],
    ['01 00000001', 'truncated target length: need 1 bytes at offset 5, have 0'],
    ['01 00000001 00', 'target must be 1..32 bytes, got 0'],
    ['01 00000001 21' + '61'.repeat(33), 'target must be 1..32 bytes, got 33'],
    ['01 00000001 02 62', 'truncated target: need 2 bytes at offset 6, have 1'],
    ['01 00000001 01 ff', 'target is not valid UTF-8'],
    ['01 00000001 01 62 00', 'ping has 1 trailing bytes'],
    ['02 00000001 00', 'ack has 1 trailing bytes'],
    ['04 0000', 'truncated seq: need 4 bytes at offset 1, have 2'],
    ['03 00000007 02 01 63 ' + addr13, 'ping-req flags has reserved bits set: 0x02'],
    ['03 00000007 01 01 63 04 31323334', 'targetAddr must be host:port, got "1234"'],
    ['03 00000007 01 01 63 41' + '61'.repeat(65), 'targetAddr must be 1..64 bytes, got 65'],
    ['05 00000002 01 63', 'truncated from length: need 1 bytes at offset 7, have 0'],
    ['06 00000003 01 63 0a 31302e302e302e333a30', 'addr must be host:port, got "10.0.0.3:0"'],
    ['06 00000003 01 63 0e 31302e302e302e333a3037393436', 'addr must be host:port, got "10.0.0.3:07946"'],
    ['07 00000003 01 63 01 63 01', 'dead has 1 trailing bytes'],
    ['08', 'user payload must not be empty'],
    ['09', 'truncated compound count: need 1 bytes at offset 1, have 0'],
    ['09 00', 'compound with no parts'],
    ['09 01 00', 'truncated compound part 0 length: need 2 bytes at offset 2, have 1'],
    ['09 01 0000', 'compound part 0 is empty'],
    ['09 01 0006 02 00000009', 'truncated compound part 0: need 6 bytes at offset 4, have 5'],
    ['09 01 0002 09 00', 'compounds do not nest'],
    ['09 01 0004 02 000009', 'truncated seq: need 4 bytes at offset 5, have 3'],
    ['09 01 0005 02 00000009 ff', 'compound has 1 trailing bytes'],
    ['09 02 0005 02 00000009', 'truncated compound part 1 length: need 2 bytes at offset 9, have 0'],
  ];
  for (const [h, msg] of cases) is(refusal(h), msg, h);
});

t('host:port addresses: what is accepted', () => {
  for (const a of ['10.0.0.1:7946', 'node-1.example:1', '[2001:db8::1]:7946', 'h:65535']) ok(isHostPort(a), a);
  for (const a of ['10.0.0.1', ':7946', '10.0.0.1:65536', '10.0.0.1:0', '2001:db8::1:7946', '[zz]:1', 'a b:1', '10.0.0.1:07946']) ok(!isHostPort(a), a);
});

t('20,000 seeded mutations: decoding refuses or returns a well-formed message, never anything else', () => {
  const r = seededRand(2026);
  let refused = 0;
  for (let i = 0; i < 20_000; i++) {
    const buf = Uint8Array.from(encodePacket(randomMessage(r)));
    const mode = r.int(3);
    if (mode === 0) buf[r.int(buf.length)] = r.int(256);
    const input = mode === 1 ? buf.subarray(0, r.int(buf.length)) : mode === 2 ? r.bytes(r.int(40)) : buf;
    try {
      const m = decodePacket(input);
      // Whatever decodes must encode back to the very same bytes.
      is(hex(encodePacket(m)), hex(input));
    } catch (e) {
      ok(e instanceof SwimWireError, String(e));
      refused++;
    }
  }
  ok(refused > 5_000, `only ${refused} refused`);
});

t('the encoder refuses what the decoder would (caller errors throw RangeError)', () => {
  throws(() => encodePacket({ type: 'ping', seq: 1, target: '' }), /target must be 1..32 bytes of UTF-8, got 0/);
  throws(() => encodePacket({ type: 'ping', seq: 1, target: 'x'.repeat(33) }), /target must be 1..32 bytes of UTF-8, got 33/);
  throws(() => encodePacket({ type: 'ack', seq: -1 }), /seq must be an integer in 0..2\^32-1, got -1/);
  throws(() => encodePacket({ type: 'user', payload: new Uint8Array(0) }), /user payload must not be empty/);
  throws(() => encodePacket({ type: 'compound', parts: [] }), /a compound must have 1..255 parts, got 0/);
  const many = Array.from({ length: MAX_COMPOUND_PARTS + 1 }, (): SimpleMessage => ({ type: 'ack', seq: 1 }));
  throws(() => encodePacket({ type: 'compound', parts: many }), /a compound must have 1..255 parts, got 256/);
  throws(() => encodePacket({ type: 'compound', parts: [{ type: 'compound', parts: [] } as never] }), /compounds do not nest/);
});

t.run();
