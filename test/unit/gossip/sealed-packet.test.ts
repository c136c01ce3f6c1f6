// The sealed gossip packet (agent/gossip/sealed-packet.ts): golden bytes
// (computed independently with Python's `cryptography` AESGCM), node:crypto
// against @noble/ciphers both ways, and the drop-and-count rules: every
// single-bit flip, every truncation, and seeded random junk are refused and
// counted once, never thrown. Streams: one sealed message per u32 frame.
import { suite, equal, is, ok, throws, unreachable } from '../../harness.js';
import { seededRand, type Rand } from '../../../shared/rand.js';
import { nobleAesGcm, nodeAesGcm, AEAD_NONCE_BYTES, AEAD_TAG_BYTES } from '../../../shared/crypto/aead.js';
import { encodeFrame, FrameReader, FrameTooLargeError } from '../../../shared/wire/frame.js';
import { GossipKeyring, type GossipKey, type GossipDrops } from '../../../agent/gossip/keyring.js';
import {
  open, seal, CIPHERTEXT_OFFSET, GENERATION_OFFSET, HEADER_BYTES, NONCE_OFFSET, SEALED_OVERHEAD_BYTES, SEALED_PACKET_VERSION, TAG_BYTES, VERSION_OFFSET,
} from '../../../agent/gossip/sealed-packet.js';

const t = suite('gossip sealed packet');
const SEED = Number(process.env.TEST_SEED ?? 0x5ea1ed);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const IMPLS = [nodeAesGcm, nobleAesGcm];

function keyOf(generation: number): GossipKey {
  return { generation, key: seededRand(SEED + generation).bytes(32) };
}
const ring = (...gens: number[]): GossipKey[] => gens.map(keyOf);
const NO_DROPS: GossipDrops = { unknownKey: 0, badTag: 0, tooShort: 0, badVersion: 0 };
const total = (d: GossipDrops): number => d.unknownKey + d.badTag + d.tooShort + d.badVersion;

/** A Rand whose bytes() are a0 a1 a2 ...: a fixed nonce salt for golden bytes. */
function fixedSaltRand(): Rand {
  const no = (): never => unreachable('fixedSaltRand: only bytes() is used') as never;
  return { u32: no, float: no, int: no, fork: no, bytes: (n) => Uint8Array.from({ length: n }, (_, i) => 0xa0 + i) };
}

t('layout constants add up', () => {
  is(VERSION_OFFSET, 0);
  is(GENERATION_OFFSET, VERSION_OFFSET + 1);
  is(HEADER_BYTES, GENERATION_OFFSET + 4);
  is(NONCE_OFFSET, HEADER_BYTES);
  is(CIPHERTEXT_OFFSET, NONCE_OFFSET + AEAD_NONCE_BYTES);
  is(TAG_BYTES, AEAD_TAG_BYTES);
  is(SEALED_OVERHEAD_BYTES, CIPHERTEXT_OFFSET + TAG_BYTES);
  is(SEALED_PACKET_VERSION, 1);
});

// key = 00 01 .. 1f, generation 0x01020304, salt a0 .. a7; counters 0, 1, 258.
const GOLDEN = [
  { counter: 0, pt: 'gossip', hex: '0101020304' + 'a0a1a2a3a4a5a6a7' + '00000000' + '99369ddb3842' + '7fb556e85f6fbef6634d2b4728eda066' },
  { counter: 1, pt: '', hex: '0101020304' + 'a0a1a2a3a4a5a6a7' + '00000001' + '' + 'b7e0ecc568b08517062408fdf0e3c24e' },
  { counter: 258, pt: 'x', hex: '0101020304' + 'a0a1a2a3a4a5a6a7' + '00000102' + '5e' + 'b9250a3265cdf5ef65455547907e7e97' },
];

for (const impl of IMPLS) {
  t(`golden bytes via ${impl.name}: version, BE generation, salt || BE counter, ciphertext, tag`, () => {
    const key: GossipKey = { generation: 0x01020304, key: Uint8Array.from({ length: 32 }, (_, i) => i) };
    const r = new GossipKeyring([key], { rand: fixedSaltRand(), aead: impl });
    for (const g of GOLDEN) {
      while (r.primary().sealed < g.counter) seal(r, enc('skip'));
      const p = seal(r, enc(g.pt));
      is(hex(p), g.hex, `counter ${g.counter}`);
      is(p.length, SEALED_OVERHEAD_BYTES + g.pt.length);
      is(new TextDecoder().decode(open(r, p)), g.pt);
    }
  });
}

t('round trip across implementations, both ways, sizes 0 to 64 KiB', () => {
  const sizes = [0, 1, 15, 16, 17, 255, 1367, 1400, 65_536];
  const rand = seededRand(SEED);
  for (const sender of IMPLS) {
    for (const receiver of IMPLS) {
      const a = new GossipKeyring(ring(1, 2, 3), { aead: sender, rand: rand.fork() });
      const b = new GossipKeyring(ring(3, 1, 2), { aead: receiver, rand: rand.fork() });
      for (const n of sizes) {
        const pt = rand.bytes(n);
        const p = seal(a, pt);
        is(p[0], 1);
        is(new DataView(p.buffer, p.byteOffset).getUint32(GENERATION_OFFSET, false), 2, 'sealed under the primary');
        equal(open(b, p), pt, `${sender.name} -> ${receiver.name}, ${n} bytes`);
        equal(open(a, seal(b, pt)), pt, `${receiver.name} -> ${sender.name}, ${n} bytes`);
      }
      equal(a.drops, NO_DROPS);
      equal(b.drops, NO_DROPS);
    }
  }
});

t('seal() refuses a plaintext that is not bytes', () => {
  const r = new GossipKeyring(ring(1));
  throws(() => seal(r, 'text' as never), (e: Error) => e instanceof TypeError && e.message === 'seal: plaintext must be a Uint8Array, got string');
});

t('unknown generation: dropped and counted', () => {
  const sender = new GossipKeyring(ring(7));
  const receiver = new GossipKeyring(ring(1, 2, 3));
  for (let i = 0; i < 5; i++) is(open(receiver, seal(sender, enc('hi'))), undefined);
  equal(receiver.drops, { ...NO_DROPS, unknownKey: 5 });
});

for (const impl of IMPLS) {
  t(`every single-bit flip is refused and counted once (opened via ${impl.name})`, () => {
    const sender = new GossipKeyring(ring(1, 2, 3), { rand: seededRand(SEED) });
    const receiver = new GossipKeyring(ring(1, 2, 3), { aead: impl });
    const p = seal(sender, enc('abc'));
    ok(open(receiver, p) !== undefined);
    const expected = { ...NO_DROPS };
    for (let bit = 0; bit < p.length * 8; bit++) {
      const q = Uint8Array.from(p);
      q[bit >>> 3]! ^= 1 << (bit & 7);
      const byte = bit >>> 3;
      if (byte === VERSION_OFFSET) expected.badVersion++;
      else if (byte < HEADER_BYTES) {
        const g = new DataView(q.buffer).getUint32(GENERATION_OFFSET, false);
        // Generation 2 with one bit flipped can name another ring key (3, 0 is not in it): then it is the tag that fails.
        if (receiver.generations.includes(g)) expected.badTag++;
        else expected.unknownKey++;
      } else expected.badTag++;
      is(open(receiver, q), undefined, `bit ${bit} flipped`);
      equal(receiver.drops, expected, `bit ${bit} flipped`);
    }
    is(total(receiver.drops), p.length * 8);
    ok(receiver.drops.badTag > 0 && receiver.drops.unknownKey > 0 && receiver.drops.badVersion === 8);
  });
}

t('truncation at every length, and one byte too many, are refused and counted', () => {
  const sender = new GossipKeyring(ring(1), { rand: seededRand(SEED) });
  const receiver = new GossipKeyring(ring(1));
  const p = seal(sender, seededRand(SEED).bytes(20));
  for (let n = 0; n < p.length; n++) is(open(receiver, p.subarray(0, n)), undefined, `first ${n} bytes`);
  equal(receiver.drops, { ...NO_DROPS, tooShort: SEALED_OVERHEAD_BYTES, badTag: p.length - SEALED_OVERHEAD_BYTES });
  const longer = new Uint8Array(p.length + 1);
  longer.set(p);
  is(open(receiver, longer), undefined);
  is(receiver.drops.badTag, p.length - SEALED_OVERHEAD_BYTES + 1);
  ok(open(receiver, p) !== undefined, 'the whole packet still opens');
});

t('other versions are refused before their length is judged', () => {
  const r = new GossipKeyring(ring(1));
  for (const v of [0, 2, 0xff]) is(open(r, Uint8Array.of(v)), undefined);
  is(open(r, new Uint8Array(0)), undefined);
  equal(r.drops, { ...NO_DROPS, badVersion: 3, tooShort: 1 });
});

t('seeded random junk never throws and is counted exactly once per packet', () => {
  const rand = seededRand(SEED);
  for (const impl of IMPLS) {
    const r = new GossipKeyring(ring(1, 2, 3), { aead: impl });
    const N = 4000;
    for (let i = 0; i < N; i++) {
      const junk = rand.bytes(rand.int(120));
      // Reach the deeper checks often: a right version, then a ring generation.
      if (junk.length > 0 && rand.int(2) === 0) junk[0] = SEALED_PACKET_VERSION;
      if (junk.length >= HEADER_BYTES && rand.int(2) === 0) new DataView(junk.buffer).setUint32(GENERATION_OFFSET, 1 + rand.int(3), false);
      let got: Uint8Array | undefined;
      try {
        got = open(r, junk);
      } catch (e) {
        throw new Error(`open threw on junk #${i} (TEST_SEED=${SEED}): ${(e as Error).message}`);
      }
      is(got, undefined, `junk #${i} opened (TEST_SEED=${SEED})`);
      is(total(r.drops), i + 1, `junk #${i} counted once (TEST_SEED=${SEED})`);
    }
    ok(r.drops.badTag > 0 && r.drops.unknownKey > 0 && r.drops.tooShort > 0 && r.drops.badVersion > 0, 'every reason was reached');
  }
});

t('streams: one sealed message per u32 frame, reassembled from arbitrary chunks, across implementations', () => {
  const rand = seededRand(SEED);
  const a = new GossipKeyring(ring(1, 2), { aead: nodeAesGcm, rand: rand.fork() });
  const b = new GossipKeyring(ring(1, 2), { aead: nobleAesGcm, rand: rand.fork() });
  const messages = [0, 1, 1400, 70_000, 3].map((n) => rand.bytes(n));
  const wire = Buffer.concat(messages.map((m) => encodeFrame(seal(a, m))));
  const reader = new FrameReader(1024 * 1024);
  const got: Uint8Array[] = [];
  for (let off = 0; off < wire.length; ) {
    const n = 1 + rand.int(3000);
    for (const body of reader.push(wire.subarray(off, off + n))) {
      const m = open(b, body);
      ok(m !== undefined);
      got.push(m!);
    }
    off += n;
  }
  equal(got, messages);
  is(reader.buffered, 0);
  equal(b.drops, NO_DROPS);
});

t('streams: a tampered frame is dropped and counted, the frames around it still open', () => {
  const a = new GossipKeyring(ring(1), { rand: seededRand(SEED) });
  const frames = ['one', 'two', 'three'].map((s) => encodeFrame(seal(a, enc(s))));
  frames[1]![frames[1]!.length - 1]! ^= 0x80; // last tag byte of frame two
  const reader = new FrameReader();
  const got = reader.push(Buffer.concat(frames)).map((body) => open(a, body));
  equal(got.map((m) => (m === undefined ? undefined : new TextDecoder().decode(m))), ['one', undefined, 'three']);
  equal(a.drops, { ...NO_DROPS, badTag: 1 });
});

t('streams: a changed length prefix desynchronises the stream; open() counts, only the reader may throw', () => {
  const a = new GossipKeyring(ring(1), { rand: seededRand(SEED) });
  const frames = ['first', 'second', 'third', 'fourth'].map((s) => encodeFrame(seal(a, enc(s))));
  const second = frames[1]!;
  new DataView(second.buffer, second.byteOffset).setUint32(0, second.length - 4 - 1, false);
  const reader = new FrameReader(4096);
  const opened: string[] = [];
  let bodies = 0;
  try {
    // Frame by frame as they arrive; the reader fails for good once it meets an impossible length.
    for (const f of frames) {
      for (const body of reader.push(f)) {
        bodies++;
        const m = open(a, body);
        if (m !== undefined) opened.push(new TextDecoder().decode(m));
      }
    }
  } catch (e) {
    ok(e instanceof FrameTooLargeError, `only the frame reader's own limit may throw, got ${(e as Error).message}`);
  }
  equal(opened, ['first']);
  is(total(a.drops), bodies - 1);
  ok(a.drops.badTag >= 1);
});

t.run();
