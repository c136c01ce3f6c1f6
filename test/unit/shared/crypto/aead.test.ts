// AES-256-GCM with the Noise nonce layout (Noise spec rev 34 §12.4):
// McGrew–Viega GCM test cases 13–18 (the AES-256 ones) on both
// implementations, a seeded node:crypto vs @noble/ciphers twin comparison,
// tampering, and the in-place/aliasing rules of sealInto/openInto.
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { seededRand } from '../../../../shared/rand.js';
import {
  AesGcmKey, AEAD_TAG_BYTES, nobleAesGcm, nodeAesGcm, noiseNonce, writeNoiseNonce, type AesGcmImpl,
} from '../../../../shared/crypto/aead.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const IMPLS: AesGcmImpl[] = [nodeAesGcm, nobleAesGcm];

const t = suite('aead (AES-256-GCM, Noise nonces)');

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Appendix B,
// test cases 13–18 (256-bit key). 16–18 carry associated data; 17 and 18 use
// 64- and 480-bit IVs, which exercise GHASH-derived J0.
const K1 = 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308';
const P60 = 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39';
const A20 = 'feedfacedeadbeeffeedfacedeadbeefabaddad2';
const GCM_CASES = [
  { tc: 13, k: '00'.repeat(32), iv: '00'.repeat(12), p: '', a: '', c: '', t: '530f8afbc74536b9a963b4f1c4cb738b' },
  { tc: 14, k: '00'.repeat(32), iv: '00'.repeat(12), p: '00'.repeat(16), a: '', c: 'cea7403d4d606b6e074ec5d3baf39d18', t: 'd0d1c8a799996bf0265b98b5d48ab919' },
  {
    tc: 15, k: K1, iv: 'cafebabefacedbaddecaf888', p: P60 + '1aafd255', a: '',
    c: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad',
    t: 'b094dac5d93471bdec1a502270e3cc6c',
  },
  {
    tc: 16, k: K1, iv: 'cafebabefacedbaddecaf888', p: P60, a: A20,
    c: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    t: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
  {
    tc: 17, k: K1, iv: 'cafebabefacedbad', p: P60, a: A20,
    c: 'c3762df1ca787d32ae47c13bf19844cbaf1ae14d0b976afac52ff7d79bba9de0feb582d33934a4f0954cc2363bc73f7862ac430e64abe499f47c9b1f',
    t: '3a337dbf46a792c45e454913fe2ea8f2',
  },
  {
    tc: 18, k: K1, iv: '9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b', p: P60, a: A20,
    c: '5a8def2f0c9e53f1f75d7853659e2a20eeb2b22aafde6419a058ab4f6f746bf40fc0c3b780f244452da3ebf1c5d82cdea2418997200ef82e44ae7e3f',
    t: 'a44a8266ee1c8eb0c8b5d4cf5ae9f19a',
  },
];

for (const impl of IMPLS) {
  t(`McGrew–Viega test cases 13–18 via ${impl.name}`, () => {
    for (const v of GCM_CASES) {
      const p = hex(v.p);
      const out = new Uint8Array(p.length + AEAD_TAG_BYTES);
      impl.sealInto(hex(v.k), hex(v.iv), hex(v.a), p, out, 0);
      is(toHex(out), v.c + v.t, `test case ${v.tc} seal`);
      const back = new Uint8Array(p.length);
      ok(impl.openInto(hex(v.k), hex(v.iv), hex(v.a), out, back, 0), `test case ${v.tc} open`);
      is(toHex(back), v.p);
      out[out.length - 1]! ^= 1;
      is(impl.openInto(hex(v.k), hex(v.iv), hex(v.a), out, back, 0), false, `test case ${v.tc} tampered tag`);
    }
  });
}

t('nonce layout: 4 zero bytes then the big-endian 64-bit counter (§12.4)', () => {
  equal([...noiseNonce(0)], Array(12).fill(0));
  equal([...noiseNonce(1)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  equal([...noiseNonce(2 ** 32)], [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  equal([...noiseNonce(0x000a0b0c0d0e0f10)], [0, 0, 0, 0, 0x00, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10]);
  equal([...noiseNonce(Number.MAX_SAFE_INTEGER)], [0, 0, 0, 0, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  for (const bad of [-1, 1.5, 2 ** 53, NaN]) throws(() => writeNoiseNonce(new Uint8Array(12), bad), /counter must be an integer/);
});

function randomCounter(r: ReturnType<typeof seededRand>): number {
  switch (r.int(4)) {
    case 0: return r.int(1000);
    case 1: return 2 ** 32 - 2 + r.int(4); // around the 32-bit carry
    case 2: return r.u32() * 0x200000 + (r.u32() >>> 11); // anywhere below 2^53
    default: return Number.MAX_SAFE_INTEGER - r.int(3);
  }
}

t('node:crypto and noble agree byte for byte and open each other (1000 seeded inputs)', () => {
  const seed = 20260;
  const r = seededRand(seed);
  for (let i = 0; i < 1000; i++) {
    const key = r.bytes(32);
    const counter = randomCounter(r);
    const ad = r.bytes(r.int(64));
    const pt = r.bytes(r.int(4) === 0 ? r.int(32) : r.int(1500));
    const node = new AesGcmKey(key, nodeAesGcm);
    const noble = new AesGcmKey(key, nobleAesGcm);
    const a = node.seal(counter, ad, pt);
    const b = noble.seal(counter, ad, pt);
    is(toHex(a), toHex(b), `seed ${seed} case ${i}`);
    equal(noble.open(counter, ad, a), pt, `seed ${seed} case ${i}: noble opens node`);
    equal(node.open(counter, ad, b), pt, `seed ${seed} case ${i}: node opens noble`);
  }
});

t('tampering with ciphertext, tag, ad or counter fails to open, without throwing (500 seeded cases)', () => {
  const seed = 777;
  const r = seededRand(seed);
  for (let i = 0; i < 500; i++) {
    const key = r.bytes(32);
    const counter = r.int(1 << 30);
    const ad = r.bytes(1 + r.int(32));
    const pt = r.bytes(1 + r.int(300));
    for (const impl of IMPLS) {
      const k = new AesGcmKey(key, impl);
      const sealed = k.seal(counter, ad, pt);
      const what = r.int(4);
      let adX = ad;
      let ctr = counter;
      const s = Uint8Array.from(sealed);
      if (what === 0) s[r.int(pt.length)]! ^= 1 << r.int(8); // ciphertext
      else if (what === 1) s[pt.length + r.int(AEAD_TAG_BYTES)]! ^= 1 << r.int(8); // tag
      else if (what === 2) { adX = Uint8Array.from(ad); adX[r.int(ad.length)]! ^= 1 << r.int(8); } // ad
      else ctr = counter + 1 + r.int(5); // nonce
      is(k.open(ctr, adX, s), null, `seed ${seed} case ${i} kind ${what} via ${impl.name}`);
      const out = new Uint8Array(pt.length).fill(0xee);
      is(k.openInto(out, 0, ctr, adX, s), -1);
      ok(out.every((x) => x === 0xee), 'openInto leaves out untouched on failure');
    }
  }
  for (const impl of IMPLS) {
    const k = new AesGcmKey(new Uint8Array(32), impl);
    is(k.open(0, new Uint8Array(0), new Uint8Array(15)), null, 'shorter than a tag');
  }
});

t('sealInto/openInto in place over a transport packet: 16-byte header as AD, then payload and tag', () => {
  const r = seededRand(5);
  for (const impl of IMPLS) {
    const key = new AesGcmKey(r.bytes(32), impl);
    const payload = r.bytes(1400);
    const buf = new Uint8Array(16 + payload.length + AEAD_TAG_BYTES);
    buf.set(r.bytes(16), 0);
    buf.set(payload, 16);
    const header = buf.subarray(0, 16);
    const expected = key.seal(42, header, payload);
    is(key.sealInto(buf, 16, 42, header, buf.subarray(16, 16 + payload.length)), payload.length + AEAD_TAG_BYTES);
    equal(buf.subarray(16), expected, `${impl.name}: in-place seal equals the allocating seal`);
    is(key.openInto(buf, 16, 42, header, buf.subarray(16)), payload.length);
    equal(buf.subarray(16, 16 + payload.length), payload, `${impl.name}: in-place open restores the payload`);
  }
});

t('aliasing rules: partial overlap and ad overlapping out are rejected', () => {
  const key = new AesGcmKey(new Uint8Array(32));
  const buf = new Uint8Array(200);
  throws(() => key.sealInto(buf, 10, 0, new Uint8Array(0), buf.subarray(0, 50)), /overlaps the input/);
  throws(() => key.sealInto(buf, 100, 0, buf.subarray(90, 110), buf.subarray(0, 50)), /out overlaps ad/);
  throws(() => key.openInto(buf, 1, 0, new Uint8Array(0), buf.subarray(0, 64)), /overlaps the input/);
  throws(() => key.sealInto(new Uint8Array(10), 0, 0, new Uint8Array(0), new Uint8Array(10)), /out needs 26 bytes/);
  throws(() => new AesGcmKey(new Uint8Array(16)), /key must be 32 bytes, got 16/);
  // disjoint regions of one buffer are fine
  const sealed = key.sealInto(buf, 100, 0, buf.subarray(0, 16), buf.subarray(16, 66));
  is(sealed, 66);
});

t('rekeyBytes is ENCRYPT(k, 2^64-1, empty, zeros(32))[0..32) (§4.2), on both implementations', () => {
  const key = hex(K1);
  const nonce = hex('00000000ffffffffffffffff');
  const out = new Uint8Array(48);
  nobleAesGcm.sealInto(key, nonce, new Uint8Array(0), new Uint8Array(32), out, 0);
  for (const impl of IMPLS) equal(new AesGcmKey(key, impl).rekeyBytes(), out.subarray(0, 32), impl.name);
});

t.run();
