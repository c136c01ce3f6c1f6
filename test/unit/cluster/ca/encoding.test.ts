// base36 (docker's id and token alphabet) and the strict deterministic CBOR
// subset (RFC 8949 §4.2.1) the CA signs and stores.
import { Encoder } from 'cbor-x';
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { seededRand } from '../../../../shared/rand.js';
import { base36Width, decodeBase36, encodeBase36 } from '../../../../agent/cluster/ca/base36.js';
import { decodeCbor, encodeCbor, type Cbor } from '../../../../agent/cluster/ca/strict-cbor.js';

const t = suite('ca encoding');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

t('base36 widths: 16 bytes -> 25 characters, 32 bytes -> 50 (as docker ids and token digests)', () => {
  is(base36Width(16), 25);
  is(base36Width(32), 50);
  is(base36Width(1), 2);
  throws(() => base36Width(0), /positive integer/);
});

t('base36 agrees with a BigInt twin and round-trips (seeded)', () => {
  const r = seededRand(36);
  for (let i = 0; i < 2000; i++) {
    const n = 1 + r.int(40);
    const b = r.bytes(n);
    if (r.int(4) === 0) b.fill(0, 0, r.int(n + 1)); // leading zero bytes must survive
    const twin = (b.length === 0 ? 0n : BigInt(`0x${hex(b)}`)).toString(36).padStart(base36Width(n), '0');
    const s = encodeBase36(b);
    is(s, twin);
    equal(decodeBase36(s, n), b);
  }
});

t('base36 decode refuses wrong width, other alphabets and values that overflow', () => {
  is(decodeBase36('0'.repeat(24), 16), undefined);
  is(decodeBase36('0'.repeat(26), 16), undefined);
  is(decodeBase36('A'.repeat(25), 16), undefined);
  is(decodeBase36('-'.repeat(25), 16), undefined);
  is(decodeBase36('z'.repeat(25), 16), undefined); // 36^25 - 1 > 2^128 - 1
  equal(decodeBase36(encodeBase36(new Uint8Array(16).fill(0xff)), 16), new Uint8Array(16).fill(0xff));
});

t('cbor golden bytes: shortest heads at every boundary', () => {
  const cases: [Cbor, string][] = [
    [0, '00'], [23, '17'], [24, '1818'], [255, '18ff'], [256, '190100'], [65535, '19ffff'], [65536, '1a00010000'],
    [2 ** 32 - 1, '1affffffff'], [2 ** 32, '1b0000000100000000'], [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
    [1767225600000, '1b0000019b76daa800'],
    [new Uint8Array(0), '40'], [Uint8Array.from([1, 2]), '420102'], ['', '60'], ['ab', '626162'], ['é', '62c3a9'],
    [[], '80'], [[1, [2, 'x']], '8201820261' + '78'],
  ];
  for (const [v, h] of cases) is(hex(encodeCbor(v)), h, JSON.stringify(v));
  equal(decodeCbor(unhex('8201820261' + '78')), [1, [2, 'x']]);
});

t('cbor refuses what deterministic encoding forbids, with the offset', () => {
  const bad: [string, string][] = [
    ['', 'cbor: truncated input at offset 0'],
    ['1817', 'cbor: non-minimal length at offset 0'],
    ['190017', 'cbor: non-minimal length at offset 0'],
    ['1b00000000ffffffff', 'cbor: non-minimal length at offset 0'],
    ['1b0020000000000000', 'cbor: integer above 2^53-1 at offset 0'],
    ['20', 'cbor: unsupported major type 1 at offset 0'],
    ['a0', 'cbor: unsupported major type 5 at offset 0'],
    ['c0', 'cbor: unsupported major type 6 at offset 0'],
    ['f93c00', 'cbor: unsupported major type 7 at offset 0'],
    ['9f', 'cbor: unsupported additional information 31 at offset 0'],
    ['1c', 'cbor: unsupported additional information 28 at offset 0'],
    ['0000', 'cbor: trailing bytes after the item at offset 1'],
    ['4201', 'cbor: truncated input at offset 1'],
    ['62c328', 'cbor: text string is not UTF-8 at offset 0'],
    ['9affffffff', 'cbor: truncated input at offset 5'],
    ['8181818181818181818100', 'cbor: nested too deep at offset 8'],
  ];
  for (const [h, msg] of bad) throws(() => decodeCbor(unhex(h)), (e: Error) => e.message === msg, `${h}: expected ${msg}`);
});

t('cbor output is plain CBOR any decoder reads (cbor-x)', () => {
  const v: Cbor = ['agent', 1, Uint8Array.from([9, 9]), [2 ** 40, 'x']];
  const back = new Encoder({ useRecords: false, mapsAsObjects: true }).decode(encodeCbor(v)) as unknown[];
  is(back[0], 'agent');
  is(back[1], 1);
  equal(new Uint8Array(back[2] as Uint8Array), Uint8Array.from([9, 9]));
  equal(back[3], [BigInt(2 ** 40), 'x']);
});

t('cbor decode of 20k seeded random and mutated inputs: an item or a cbor: error, never anything else', () => {
  const r = seededRand(8949);
  const base = encodeCbor(['agent/node-cert', 1, new Uint8Array(16), 'abc', [1, 2, 3], 2 ** 41]);
  for (let i = 0; i < 20_000; i++) {
    let input: Uint8Array;
    if (r.int(2) === 0) input = r.bytes(r.int(24));
    else {
      input = base.slice(0, r.int(base.length + 1));
      if (input.length > 0) input[r.int(input.length)] = r.int(256);
    }
    try {
      const v = decodeCbor(input);
      equal(encodeCbor(v), input, 'what decodes re-encodes to the same bytes');
    } catch (e) {
      ok(e instanceof Error && e.message.startsWith('cbor: '), String(e));
    }
  }
});

t.run();
