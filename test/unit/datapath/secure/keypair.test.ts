// One keypair (agent/datapath/secure/keypair.ts): the node:crypto hot path
// against @noble/ciphers (the twin in shared/crypto/aead.ts), tampering,
// replays and reordering, and the age and message limits (DESIGN §4).
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { nobleAesGcm, noiseNonce } from '../../../../shared/crypto/aead.js';
import { resolveSecureConfig, type SecureConfig } from '../../../../agent/datapath/secure/config.js';
import { Keypair, OPEN_AUTH, OPEN_EXPIRED, OPEN_OK, OPEN_REPLAY } from '../../../../agent/datapath/secure/keypair.js';
import { writeTransportHeader } from '../../../../agent/datapath/secure/wire-format.js';
import { REPLAY_WINDOW } from '../../../../agent/datapath/secure/replay-window.js';
import { SEED, datagram, hex, seededRand } from './fixture.js';

const t = suite('secure keypair');
const K1 = new Uint8Array(32).fill(0x31);
const K2 = new Uint8Array(32).fill(0x32);

function pair(cfg: Partial<SecureConfig> = {}, nowMs = 0): { a: Keypair; b: Keypair } {
  const c = resolveSecureConfig(cfg);
  return {
    a: new Keypair({ localIndex: 1, remoteIndex: 2, isInitiator: true, nowMs, generation: 1, owner: 'a', send: K1, recv: K2, cfg: c }),
    b: new Keypair({ localIndex: 2, remoteIndex: 1, isInitiator: false, nowMs, generation: 1, owner: 'b', send: K2, recv: K1, cfg: c }),
  };
}

t('seal matches @noble/ciphers byte for byte, and open takes what noble sealed (random sizes)', () => {
  const r = seededRand(SEED);
  const { a, b } = pair();
  const b2 = pair().b;
  for (let i = 0; i < 200; i++) {
    const len = r.int(1500);
    const dg = r.bytes(len + r.int(3)); // a buffer longer than len: only [0, len) is sealed
    const sealed = a.seal(dg, len);
    const header = new Uint8Array(16);
    writeTransportHeader(header, 2, i);
    is(hex(sealed.subarray(0, 16)), hex(header), `header ${i}`);
    const twin = new Uint8Array(len + 16);
    nobleAesGcm.sealInto(K1, noiseNonce(i), header, dg.subarray(0, len), twin, 0);
    is(hex(sealed.subarray(16)), hex(twin), `ciphertext and tag ${i}`);
    is(b.open(sealed, sealed.length, 0), OPEN_OK);
    equal(Uint8Array.from(b.plain), dg.subarray(0, len));
    // The other way: noble seals under b's receive key (another receiver with the same keys).
    const other = new Uint8Array(16 + len + 16);
    writeTransportHeader(other, 2, 1_000_000 + i);
    nobleAesGcm.sealInto(K1, noiseNonce(1_000_000 + i), other.subarray(0, 16), dg.subarray(0, len), other, 16);
    is(b2.open(other, other.length, 0), OPEN_OK, `noble-sealed ${i}`);
    equal(Uint8Array.from(b2.plain), dg.subarray(0, len));
  }
  is(a.sent, 200);
});

t('every flipped bit fails the tag (header, ciphertext, tag); the window does not move for it', () => {
  const { a, b } = pair();
  const sealed = a.seal(datagram(4097, 1, 40), 40);
  for (let i = 0; i < sealed.length; i++) {
    const bad = Uint8Array.from(sealed);
    bad[i]! ^= 1 << i % 8;
    const want: number[] = i >= 8 && i < 16 ? [OPEN_AUTH, OPEN_REPLAY] : [OPEN_AUTH]; // a changed counter may read as a far-future one
    ok(want.includes(b.open(bad, bad.length, 0)), `byte ${i}`);
  }
  is(b.open(sealed, sealed.length, 0), OPEN_OK, 'the genuine one still opens');
  is(b.open(sealed, sealed.length, 0), OPEN_REPLAY, 'once');
});

t('keepalives (empty) and reordering within the window; too old is a replay', () => {
  const { a, b } = pair();
  const msgs = Array.from({ length: REPLAY_WINDOW + 10 }, () => a.seal(new Uint8Array(0), 0));
  is(msgs[0]!.length, 32);
  is(b.open(msgs[REPLAY_WINDOW + 5]!, 32, 0), OPEN_OK);
  is(b.open(msgs[5]!, 32, 0), OPEN_OK, 'exactly 8160 behind');
  is(b.open(msgs[4]!, 32, 0), OPEN_REPLAY, '8161 behind');
  is(b.open(msgs[REPLAY_WINDOW + 9]!, 32, 0), OPEN_OK);
  is(b.open(msgs[REPLAY_WINDOW + 6]!, 32, 0), OPEN_OK, 'late but in the window');
  is(b.plain.length, 0);
});

t('limits: rekey wanted by count (either side) and by age (initiator only); reject by count and age', () => {
  const { a, b } = pair({ rekeyAfterMessages: 3, rejectAfterMessages: 5, rekeyAfterMs: 100, rejectAfterMs: 200, wipeAfterMs: 600 });
  const e = new Uint8Array(0);
  ok(!a.wantsRekey(0));
  ok(!a.wantsRekey(99));
  ok(a.wantsRekey(100), 'initiator, 100 ms old');
  ok(!b.wantsRekey(150), 'a responder does not rekey by age');
  for (let i = 0; i < 3; i++) b.seal(e, 0);
  ok(b.wantsRekey(0), 'responder, 3 sealed');
  b.seal(e, 0);
  ok(b.canSend(0));
  b.seal(e, 0);
  ok(!b.canSend(0), 'five sealed: no more');
  ok(a.canSend(199));
  ok(!a.canSend(200), 'reject after 200 ms');
  const m = a.seal(e, 0);
  is(b.open(m, 32, 199), OPEN_OK);
  const m2 = a.seal(e, 0);
  is(b.open(m2, 32, 200), OPEN_EXPIRED);
  // A counter at the message limit is refused before any AES.
  const big = new Uint8Array(32);
  writeTransportHeader(big, 2, 5);
  is(b.open(big, 32, 0), OPEN_REPLAY);
});

t('wipe zeroes the keys: nothing seals or opens afterwards', () => {
  const { a, b } = pair();
  const m = a.seal(datagram(4097, 1), 64);
  b.wipe();
  ok(b.wiped);
  ok(!b.canSend(0));
  is(b.open(m, m.length, 0), OPEN_EXPIRED);
  throws(() => new Keypair({ localIndex: 1, remoteIndex: 2, isInitiator: true, nowMs: 0, generation: 1, owner: null, send: new Uint8Array(31), recv: K2, cfg: resolveSecureConfig({}) }), /Keypair: keys must be 32 bytes, got 31 and 32/);
});

t('config validation names the field', () => {
  throws(() => resolveSecureConfig({ rekeyAfterMs: 200_000 }), /config.rekeyAfterMs must be an integer in 1..180000, got 200000/);
  throws(() => resolveSecureConfig({ rekeyAfterMessages: 2 ** 29 }), /config.rekeyAfterMessages must be an integer in 1..268435456/);
  throws(() => resolveSecureConfig({ wipeAfterMs: 10 }), /config.wipeAfterMs must be an integer in 180000/);
  is(resolveSecureConfig({ handshakesPerSecond: 0 }).handshakesPerSecond, 0);
  is(resolveSecureConfig({ rejectAfterMs: 600_000 }).wipeAfterMs, 1_800_000, 'erasure follows the reject time unless given');
  is(resolveSecureConfig({}).wipeAfterMs, 540_000);
});

t.run();
