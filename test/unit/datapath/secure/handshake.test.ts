// The session handshake (agent/datapath/secure/handshake.ts) against
// shared/crypto's HandshakeState for Noise_IKpsk2_25519_AESGCM_SHA256 (Noise
// spec rev 34 §7.5, §9; STYLE habit 5): each side of ours talks to the other
// side of theirs, and the transport keys agree (checked by sealing the same
// message under both). Then what must fail, and the TAI64N timestamps.
import { suite, equal, is, ok } from '../../../harness.js';
import { seededRand } from '../../../../shared/rand.js';
import { dh, generateKeypair, type KeyPair } from '../../../../shared/crypto/noise-dh.js';
import { HandshakeState } from '../../../../shared/crypto/noise-handshake.js';
import type { CipherState } from '../../../../shared/crypto/noise-cipher-state.js';
import { defaultSecureConfig } from '../../../../agent/datapath/secure/config.js';
import {
  HS_FAIL_AUTH, HS_FAIL_UNKNOWN_PEER, PROTOCOL_NAME, compareTimestamps, consumeInitiation, consumeResponse, createInitiation, createResponse, nextTimestamp,
  prologueFor, tai64n, type SessionKeys,
} from '../../../../agent/datapath/secure/handshake.js';
import { Keypair } from '../../../../agent/datapath/secure/keypair.js';
import { encodeInitiation, encodeResponse, writeTransportHeader, readU32 } from '../../../../agent/datapath/secure/wire-format.js';
import { SEED, hex } from './fixture.js';

const t = suite('secure handshake');
const VNI = 4097;
const PSK = new Uint8Array(32).fill(0x5a);

interface Keys {
  I: KeyPair;
  R: KeyPair;
}

function keys(seed: number): Keys {
  const r = seededRand(seed);
  return { I: generateKeypair(r), R: generateKeypair(r) };
}

/** Our keys and a Noise CipherState must seal the same message to the same bytes (so they hold the same key). */
function sameKey(ours: Uint8Array, theirs: CipherState, what: string): void {
  const kp = new Keypair({ localIndex: 1, remoteIndex: 9, isInitiator: true, nowMs: 0, generation: 1, owner: null, send: ours, recv: new Uint8Array(32), cfg: defaultSecureConfig() });
  const dg = Uint8Array.from({ length: 40 }, (_, i) => i);
  for (let i = 0; i < 3; i++) kp.seal(dg, dg.length);
  const sealed = kp.seal(dg, dg.length); // counter 3
  const header = new Uint8Array(16);
  writeTransportHeader(header, 9, 3);
  theirs.setNonce(3);
  is(hex(sealed.subarray(16)), hex(theirs.encryptWithAd(header, dg)), what);
}

function initiate(k: Keys, e: KeyPair, generation = 3, vni = VNI) {
  const m = createInitiation({ vni, localIndex: 0x2345, s: k.I, rs: k.R.publicKey, ss: dh(k.I, k.R.publicKey), timestamp: tai64n(1_767_225_600_123), generation, e });
  if (typeof m === 'number') throw new Error('createInitiation failed');
  return m;
}

t('the protocol name is exactly HASHLEN (32) bytes, so h starts as the name itself (Noise §5.2)', () => {
  is(PROTOCOL_NAME, 'Noise_IKpsk2_25519_AESGCM_SHA256');
  is(new TextEncoder().encode(PROTOCOL_NAME).length, 32);
  is(hex(prologueFor(0x010203)), hex(new TextEncoder().encode('agent overlay v1')) + '010203');
});

t('our initiator against HandshakeState as responder: same transcript, same keys both ways', () => {
  for (let n = 0; n < 5; n++) {
    const k = keys(SEED + n);
    const rand = seededRand(SEED + 100 + n);
    const eI = generateKeypair(rand);
    const { msg, hs } = initiate(k, eI);
    const resp = new HandshakeState({ pattern: 'IKpsk2', initiator: false, prologue: prologueFor(VNI), s: k.R, psks: [PSK], rand });
    const payload = resp.readMessage(msg.subarray(8, 120));
    is(readU32(payload, 12), 3, 'the generation rides in the payload');
    equal(resp.remoteStatic, k.I.publicKey);
    const m2 = resp.writeMessage();
    is(m2.length, 48, 'e (32) + the tag of the empty payload (16)');
    const response = encodeResponse({ senderIndex: 0x777, receiverIndex: hs.localIndex, ephemeral: m2.subarray(0, 32), encryptedEmpty: m2.subarray(32) });
    const got = consumeResponse(response, hs, k.I, PSK);
    if (typeof got === 'number') throw new Error(`consumeResponse failed: ${got}`);
    is(got.senderIndex, 0x777);
    const theirs = resp.splitSendRecv();
    sameKey(got.keys.send, theirs.recv, 'initiator -> responder (k1)');
    sameKey(got.keys.recv, theirs.send, 'responder -> initiator (k2)');
  }
});

t('HandshakeState as initiator against our responder: same transcript, same keys both ways', () => {
  for (let n = 0; n < 5; n++) {
    const k = keys(SEED + 10 + n);
    const rand = seededRand(SEED + 200 + n);
    const init = new HandshakeState({ pattern: 'IKpsk2', initiator: true, prologue: prologueFor(VNI), s: k.I, rs: k.R.publicKey, psks: [PSK], rand });
    const ts = tai64n(1_767_225_600_000 + n);
    const m1 = init.writeMessage(Uint8Array.from([...ts, 0, 0, 0, 9]));
    is(m1.length, 112);
    const msg = encodeInitiation({ vni: VNI, senderIndex: 0x1234, ephemeral: m1.subarray(0, 32), encryptedStatic: m1.subarray(32, 80), encryptedPayload: m1.subarray(80) });
    const ci = consumeInitiation(msg, k.R, (rs) => (hex(rs) === hex(k.I.publicKey) ? dh(k.R, rs) : null));
    if (typeof ci === 'number') throw new Error(`consumeInitiation failed: ${ci}`);
    is(ci.generation, 9);
    is(ci.senderIndex, 0x1234);
    equal(ci.timestamp, ts);
    const out = createResponse(ci, { localIndex: 0x4321, psk: PSK, e: generateKeypair(rand) });
    if (typeof out === 'number') throw new Error('createResponse failed');
    init.readMessage(out.msg.subarray(12, 60));
    ok(init.complete);
    const theirs = init.splitSendRecv();
    sameKey(out.keys.send, theirs.recv, 'responder -> initiator (k2)');
    sameKey(out.keys.recv, theirs.send, 'initiator -> responder (k1)');
  }
});

t('our two sides agree with each other', () => {
  const k = keys(SEED + 20);
  const rand = seededRand(SEED + 21);
  const { msg, hs } = initiate(k, generateKeypair(rand));
  const ci = consumeInitiation(msg, k.R, (rs) => dh(k.R, rs));
  if (typeof ci === 'number') throw new Error('consumeInitiation failed');
  const out = createResponse(ci, { localIndex: 5, psk: PSK, e: generateKeypair(rand) });
  if (typeof out === 'number') throw new Error('createResponse failed');
  const got = consumeResponse(out.msg, hs, k.I, PSK) as { keys: SessionKeys };
  is(hex(got.keys.send), hex(out.keys.recv));
  is(hex(got.keys.recv), hex(out.keys.send));
  ok(hex(got.keys.send) !== hex(got.keys.recv));
});

t('initiations that must fail: another network (prologue), another responder, a stranger, a flipped bit, a low-order ephemeral', () => {
  const k = keys(SEED + 30);
  const rand = seededRand(SEED + 31);
  const ss = (rs: Uint8Array): Uint8Array => dh(k.R, rs);
  const { msg } = initiate(k, generateKeypair(rand));
  const otherVni = Uint8Array.from(msg);
  otherVni[3]! ^= 1; // VNI 4096: the prologue differs, so the static's tag fails
  is(consumeInitiation(otherVni, k.R, ss), HS_FAIL_AUTH);
  is(consumeInitiation(msg, generateKeypair(rand), ss), HS_FAIL_AUTH, 'not addressed to this static key');
  is(consumeInitiation(msg, k.R, () => null), HS_FAIL_UNKNOWN_PEER);
  for (const at of [8, 40, 87, 88, 119]) {
    const bad = Uint8Array.from(msg);
    bad[at]! ^= 0x80;
    is(consumeInitiation(bad, k.R, ss), HS_FAIL_AUTH, `bit flipped at ${at}`);
  }
  const lowOrder = Uint8Array.from(msg);
  lowOrder.fill(0, 8, 40);
  is(consumeInitiation(lowOrder, k.R, ss), HS_FAIL_AUTH, 'an all-zero ephemeral (X25519 gives zero)');
  const ok1 = consumeInitiation(msg, k.R, ss);
  ok(typeof ok1 !== 'number', 'the untouched message still reads');
});

t('responses that must fail leave the handshake usable for the genuine one: other PSK, flipped bits', () => {
  const k = keys(SEED + 40);
  const rand = seededRand(SEED + 41);
  const { msg, hs } = initiate(k, generateKeypair(rand));
  const ci = consumeInitiation(msg, k.R, (rs) => dh(k.R, rs));
  if (typeof ci === 'number') throw new Error('consumeInitiation failed');
  const out = createResponse(ci, { localIndex: 5, psk: PSK, e: generateKeypair(rand) });
  if (typeof out === 'number') throw new Error('createResponse failed');
  is(consumeResponse(out.msg, hs, k.I, new Uint8Array(32).fill(0x5b)), HS_FAIL_AUTH, 'another data key');
  for (const at of [12, 43, 44, 59]) {
    const bad = Uint8Array.from(out.msg);
    bad[at]! ^= 1;
    is(consumeResponse(bad, hs, k.I, PSK), HS_FAIL_AUTH, `bit flipped at ${at}`);
  }
  const got = consumeResponse(out.msg, hs, k.I, PSK);
  ok(typeof got !== 'number', 'the genuine response still completes');
  if (typeof got !== 'number') is(hex(got.keys.send), hex(out.keys.recv));
});

t('TAI64N: 2^62 + Unix seconds, then nanoseconds; order is byte order; nextTimestamp never repeats', () => {
  is(hex(tai64n(0)), '4000000000000000' + '00000000');
  is(hex(tai64n(1_767_225_600_999)), '400000006955b900' + '3b8b87c0', '999 ms = 999,000,000 ns');
  ok(compareTimestamps(tai64n(1000), tai64n(999)) > 0);
  is(compareTimestamps(tai64n(5), tai64n(5)), 0);
  const a = nextTimestamp(null, 2000);
  const b = nextTimestamp(a, 2000);
  is(hex(b), '4000000000000002' + '00000001', 'same millisecond: one nanosecond later');
  const back = nextTimestamp(b, 1000);
  ok(compareTimestamps(back, b) > 0, 'a clock step back still moves forward');
  const edge = Uint8Array.from([0x40, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x3b, 0x9a, 0xc9, 0xff]); // nanos 999,999,999
  is(hex(nextTimestamp(edge, 0)), '4000000100000000' + '00000000', 'carries into the seconds');
});

t.run();
