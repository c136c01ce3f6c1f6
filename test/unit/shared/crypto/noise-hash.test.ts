// SHA-256, HMAC-SHA256 and the Noise HKDF (Noise spec rev 34 §4.3).
import { hkdfSync } from 'node:crypto';
import { suite, equal, is } from '../../../harness.js';
import { seededRand } from '../../../../shared/rand.js';
import { hkdf2, hkdf3, hmacSha256, sha256 } from '../../../../shared/crypto/hash.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const t = suite('hash (SHA-256, HMAC, Noise HKDF)');

t('SHA-256 (FIPS 180-2 "abc") and multi-part input', () => {
  is(toHex(sha256(new TextEncoder().encode('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  is(toHex(sha256(new TextEncoder().encode('a'), new TextEncoder().encode('bc'))), toHex(sha256(new TextEncoder().encode('abc'))));
});

t('HMAC-SHA256 (RFC 4231 test case 1)', () => {
  is(toHex(hmacSha256(hex('0b'.repeat(20)), new TextEncoder().encode('Hi There'))), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
});

t('HKDF with empty salt and info is RFC 5869 test case 3 (output1 || output2)', () => {
  const [o1, o2] = hkdf2(new Uint8Array(0), hex('0b'.repeat(22)));
  is(toHex(new Uint8Array([...o1, ...o2])).slice(0, 84), '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8');
});

t('hkdf2/hkdf3 equal RFC 5869 HKDF(salt = ck, info = empty) from node:crypto (200 seeded inputs)', () => {
  const r = seededRand(4242);
  for (let i = 0; i < 200; i++) {
    const ck = r.bytes(32);
    const ikm = r.bytes(r.int(4) === 0 ? 0 : 32);
    const ref = new Uint8Array(hkdfSync('sha256', ikm, ck, new Uint8Array(0), 96));
    const [a, b, c] = hkdf3(ck, ikm);
    equal(new Uint8Array([...a, ...b, ...c]), ref, `case ${i}`);
    const [d, e] = hkdf2(ck, ikm);
    equal(new Uint8Array([...d, ...e]), ref.subarray(0, 64));
  }
});

t.run();
