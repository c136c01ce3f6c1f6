// HandshakeState behaviour beyond the vectors (Noise spec rev 34 §5.3, §7, §9):
// every pattern round-trips with random keys, the WireGuard-shaped IKpsk2
// message sizes, and failures as NoiseError codes that leave the state intact.
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { seededRand, type Rand } from '../../../../shared/rand.js';
import { generateKeypair, type KeyPair } from '../../../../shared/crypto/noise-dh.js';
import { NoiseError, type NoiseErrorCode } from '../../../../shared/crypto/noise-error.js';
import { HandshakeState, NOISE_MAX_MESSAGE_BYTES } from '../../../../shared/crypto/noise-handshake.js';
import { PATTERN_NAMES, parsePattern, protocolName } from '../../../../shared/crypto/noise-patterns.js';
import { CipherState } from '../../../../shared/crypto/noise-cipher-state.js';

const t = suite('noise handshake');

function code(fn: () => unknown): NoiseErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof NoiseError) return e.code;
    throw e;
  }
  return undefined;
}

interface Pair { init: HandshakeState; resp: HandshakeState; is: KeyPair; rsKp: KeyPair }

function pair(pattern: string, r: Rand, psk?: Uint8Array, prologue = new Uint8Array([1, 2, 3])): Pair {
  const p = parsePattern(pattern);
  const is = generateKeypair(r);
  const rsKp = generateKeypair(r);
  const psks = Array.from({ length: p.pskCount }, () => psk ?? new Uint8Array(32).fill(7));
  const init = new HandshakeState({
    pattern, initiator: true, prologue, s: is, rs: p.responderPre.includes('s') ? rsKp.publicKey : undefined, psks, rand: r.fork(),
  });
  const resp = new HandshakeState({
    pattern, initiator: false, prologue, s: rsKp, rs: p.initiatorPre.includes('s') ? is.publicKey : undefined, psks, rand: r.fork(),
  });
  return { init, resp, is, rsKp };
}

function run(init: HandshakeState, resp: HandshakeState, r: Rand): void {
  for (let i = 0; !init.complete; i++) {
    const [w, rd] = i % 2 === 0 ? [init, resp] : [resp, init];
    const payload = r.bytes(r.int(40));
    equal(rd.readMessage(w.writeMessage(payload)), payload, `message ${i}`);
  }
}

const ALL = [...PATTERN_NAMES, 'IKpsk2', 'XXpsk3', 'NNpsk0+psk2', 'XKpsk3', 'KKpsk0', 'IXpsk2'];

t('every pattern (and psk variants) completes with seeded random keys; both sides agree', () => {
  for (const [n, pattern] of ALL.entries()) {
    const seed = 100 + n;
    const r = seededRand(seed);
    const { init, resp, is: iKp, rsKp } = pair(pattern, r);
    run(init, resp, r);
    ok(resp.complete, `${pattern} seed ${seed}`);
    equal(init.handshakeHash, resp.handshakeHash, `${pattern}: handshake hash`);
    const respSends = init.pattern.messages.some((m, i) => i % 2 === 1 && m.includes('s')) || init.pattern.responderPre.includes('s');
    if (respSends) equal(init.remoteStatic, rsKp.publicKey, `${pattern}: initiator knows rs`);
    else is(init.remoteStatic, null, `${pattern}: no responder static`);
    const initSends = init.pattern.messages.some((m, i) => i % 2 === 0 && m.includes('s')) || init.pattern.initiatorPre.includes('s');
    if (initSends) equal(resp.remoteStatic, iKp.publicKey, `${pattern}: responder learns rs`);
    const a = init.splitSendRecv();
    const b = resp.splitSendRecv();
    for (let i = 0; i < 5; i++) {
      const m = r.bytes(r.int(100));
      equal(b.recv.decryptWithAd(new Uint8Array(0), a.send.encryptWithAd(new Uint8Array(0), m)), m);
      if (init.pattern.oneWay) continue;
      equal(a.recv.decryptWithAd(new Uint8Array(0), b.send.encryptWithAd(new Uint8Array(0), m)), m);
    }
  }
});

t('protocol names (§8) and IKpsk2 sizes: initiation 32+48+16+payload, response 32+16+payload', () => {
  is(protocolName('IKpsk2'), 'Noise_IKpsk2_25519_AESGCM_SHA256');
  const r = seededRand(9);
  const { init, resp } = pair('IKpsk2', r);
  is(init.protocolName, 'Noise_IKpsk2_25519_AESGCM_SHA256');
  const m1 = init.writeMessage(new Uint8Array(12)); // WireGuard's TAI64N timestamp is 12 bytes
  is(m1.length, 32 + 48 + 12 + 16);
  resp.readMessage(m1);
  const m2 = resp.writeMessage();
  is(m2.length, 32 + 16);
  init.readMessage(m2);
  ok(init.complete && resp.complete);
  throws(() => parsePattern('QQ'), /unknown handshake pattern "QQ"/);
  throws(() => parsePattern('NNpsk3'), /has psk3 but only 2 message/);
});

t('a wrong PSK, a different prologue or a wrong responder key fails with ENOISE_AUTH', () => {
  const r = seededRand(11);
  {
    const p = pair('IKpsk2', r);
    const bad = new HandshakeState({ pattern: 'IKpsk2', initiator: false, prologue: new Uint8Array([1, 2, 3]), s: p.rsKp, psks: [new Uint8Array(32).fill(8)], rand: r.fork() });
    bad.readMessage(p.init.writeMessage()); // psk2 is mixed in only at the end of message 2
    is(code(() => p.init.readMessage(bad.writeMessage())), 'ENOISE_AUTH');
  }
  {
    const p = pair('XX', r);
    const other = new HandshakeState({ pattern: 'XX', initiator: false, prologue: new Uint8Array([9]), s: p.rsKp, rand: r.fork() });
    other.readMessage(p.init.writeMessage());
    is(code(() => p.init.readMessage(other.writeMessage())), 'ENOISE_AUTH');
  }
  {
    const p = pair('IK', r);
    const impostor = new HandshakeState({ pattern: 'IK', initiator: false, s: generateKeypair(r), prologue: new Uint8Array([1, 2, 3]), rand: r.fork() });
    is(code(() => impostor.readMessage(p.init.writeMessage())), 'ENOISE_AUTH');
  }
});

t('a failed readMessage leaves the state unchanged: the genuine message is accepted after forgeries', () => {
  const seed = 12;
  const r = seededRand(seed);
  const { init, resp } = pair('IKpsk2', r);
  const m1 = init.writeMessage(new Uint8Array([5]));
  for (let i = 0; i < 50; i++) {
    const forged = Uint8Array.from(m1);
    forged[r.int(forged.length)]! ^= 1 << r.int(8);
    const c = code(() => resp.readMessage(forged));
    ok(c === 'ENOISE_AUTH' || c === 'ENOISE_DH', `seed ${seed} forgery ${i}: ${c}`);
  }
  is(code(() => resp.readMessage(m1.subarray(0, 40))), 'ENOISE_SHORT');
  equal(resp.readMessage(m1), new Uint8Array([5]));
  const m2 = resp.writeMessage();
  const forged = Uint8Array.from(m2);
  forged[forged.length - 1]! ^= 0x80;
  is(code(() => init.readMessage(forged)), 'ENOISE_AUTH');
  init.readMessage(m2);
  equal(init.handshakeHash, resp.handshakeHash);
});

t('low-order ephemeral key: ENOISE_DH', () => {
  const r = seededRand(13);
  const { init, resp } = pair('IK', r);
  const m1 = init.writeMessage();
  const zeroE = Uint8Array.from(m1);
  zeroE.fill(0, 0, 32);
  is(code(() => resp.readMessage(zeroE)), 'ENOISE_DH');
});

t('state errors: out of turn, after completion, split too early or twice', () => {
  const r = seededRand(14);
  const { init, resp } = pair('NN', r);
  is(code(() => resp.writeMessage()), 'ENOISE_STATE');
  is(code(() => init.readMessage(new Uint8Array(32))), 'ENOISE_STATE');
  is(code(() => init.split()), 'ENOISE_STATE');
  run(init, resp, r);
  is(code(() => init.writeMessage()), 'ENOISE_STATE');
  init.split();
  is(code(() => init.split()), 'ENOISE_STATE');
});

t('message size limit 65535 (§3): ENOISE_LONG on write and read, state unchanged', () => {
  const r = seededRand(15);
  const { init, resp } = pair('NN', r);
  is(code(() => init.writeMessage(new Uint8Array(NOISE_MAX_MESSAGE_BYTES))), 'ENOISE_LONG');
  is(code(() => resp.readMessage(new Uint8Array(NOISE_MAX_MESSAGE_BYTES + 1))), 'ENOISE_LONG');
  const m = init.writeMessage(new Uint8Array(NOISE_MAX_MESSAGE_BYTES - 32)); // NN msg 1: e + plaintext payload
  is(m.length, NOISE_MAX_MESSAGE_BYTES);
  resp.readMessage(m);
});

t('configuration errors name what is missing', () => {
  const r = seededRand(16);
  throws(() => new HandshakeState({ pattern: 'IK', initiator: true, rand: r }), /needs a local static key \(s\) for the initiator/);
  throws(() => new HandshakeState({ pattern: 'IK', initiator: true, s: generateKeypair(r), rand: r }), /needs the remote static key \(rs\)/);
  throws(() => new HandshakeState({ pattern: 'IKpsk2', initiator: false, s: generateKeypair(r), rand: r }), /needs 1 psk\(s\), got 0/);
  throws(() => new HandshakeState({ pattern: 'NN', initiator: true }), /needs rand/);
  throws(() => new HandshakeState({ pattern: 'NNpsk0', initiator: true, rand: r, psks: [new Uint8Array(16)] }), /psks\[0\] must be 32 bytes, got 16/);
});

t('CipherState: failed decrypt keeps n, rekey stays in step, nonce exhaustion, detach hands over the nonce', () => {
  const r = seededRand(17);
  const k = r.bytes(32);
  const a = new CipherState();
  const b = new CipherState();
  a.initializeKey(k);
  b.initializeKey(k);
  const ad = new Uint8Array([1]);
  const c0 = a.encryptWithAd(ad, new Uint8Array([1, 2, 3]));
  const bad = Uint8Array.from(c0);
  bad[0]! ^= 1;
  is(code(() => b.decryptWithAd(ad, bad)), 'ENOISE_AUTH');
  is(b.nonce, 0);
  equal(b.decryptWithAd(ad, c0), new Uint8Array([1, 2, 3]));
  a.rekey();
  b.rekey();
  equal(b.decryptWithAd(ad, a.encryptWithAd(ad, new Uint8Array([4]))), new Uint8Array([4]));
  is(a.nonce, 2);
  const { key, nextNonce } = a.detach();
  is(nextNonce, 2);
  ok(!a.hasKey());
  equal(b.decryptWithAd(ad, key.seal(nextNonce, ad, new Uint8Array([5]))), new Uint8Array([5]));
  b.setNonce(Number.MAX_SAFE_INTEGER);
  is(code(() => b.encryptWithAd(ad, new Uint8Array(0))), 'ENOISE_NONCE');
});

t.run();
