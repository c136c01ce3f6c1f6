// Golden bytes for the four messages of the encrypted data path
// (agent/datapath/secure/wire-format.ts; DESIGN §4; STYLE habit 7): each
// written out by hand field by field from deterministic keys (seededRand(7)),
// and each field checked again by an independent computation (node:crypto
// HMAC/SHA-256, @noble/ciphers AES-GCM, shared/crypto's HandshakeState), so
// the hex is not only "what the code printed once".
import { createHash, createHmac } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes.js';
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { seededRand } from '../../../../shared/rand.js';
import { dh, generateKeypair } from '../../../../shared/crypto/noise-dh.js';
import { HandshakeState } from '../../../../shared/crypto/noise-handshake.js';
import { defaultSecureConfig } from '../../../../agent/datapath/secure/config.js';
import { CookieChecker, mac1KeyFor, writeMacs } from '../../../../agent/datapath/secure/cookie.js';
import { consumeInitiation, createInitiation, createResponse, prologueFor, tai64n } from '../../../../agent/datapath/secure/handshake.js';
import { Keypair } from '../../../../agent/datapath/secure/keypair.js';
import * as W from '../../../../agent/datapath/secure/wire-format.js';
import { bytes, hex } from './fixture.js';

const t = suite('secure wire format');

// Keys: seededRand(7) draws the initiator's static, the responder's static, then each side's ephemeral.
const r = seededRand(7);
const I = generateKeypair(r);
const R = generateKeypair(r);
const EI = generateKeypair(r);
const ER = generateKeypair(r);
const PSK = new Uint8Array(32).fill(7);
const COOKIE = new Uint8Array(16).fill(0xc0);
const TS_WALL_MS = Date.UTC(2026, 0, 1, 0, 0, 0, 250);

function initiation(): Uint8Array {
  const m = createInitiation({ vni: 4097, localIndex: 0x01020304, s: I, rs: R.publicKey, ss: dh(I, R.publicKey), timestamp: tai64n(TS_WALL_MS), generation: 7, e: EI });
  if (typeof m === 'number') throw new Error('createInitiation failed');
  writeMacs(m.msg, W.INIT_MAC1_OFFSET, mac1KeyFor(R.publicKey), COOKIE);
  return m.msg;
}

const GOLDEN_INITIATION = bytes(
  '01' + //                                                                  type: handshake initiation
    '001001' + //                                                            VNI 4097 (u24 BE)
    '01020304' + //                                                          sender_index (u32 BE)
    '8d3e2aacc4d34a38b331cfaf93878123453471f965b99f83ca49acad317fc222' + //  ephemeral public key
    '2c4a843b5bdf990997e14e7c4f1ece634dea5b87d0ebaa979c4988b86c12eee5' + //  encrypted static (32) ...
    'f13405bd48eb3427bdcddab422903083' + //                                  ... and its tag (16)
    'c224c9b435f394c6612258c6435d6b7b' + //                                  encrypted timestamp (12) + generation (4) ...
    'b0aad5e56d706d5133040b38a5679ee4' + //                                  ... and its tag
    'cc7c6c171ae54baaa5d767f47c4a0df2' + //                                  mac1
    '71ea922211f63372eb3719e994d14aab', //                                   mac2 (cookie c0 x16)
);

t('layout constants add up (152 / 92 / 52 / 32 + n)', () => {
  is(W.INIT_EPHEMERAL_OFFSET, 8);
  is(W.INIT_STATIC_OFFSET, W.INIT_EPHEMERAL_OFFSET + W.KEY_BYTES);
  is(W.INIT_PAYLOAD_OFFSET, W.INIT_STATIC_OFFSET + W.INIT_STATIC_BYTES);
  is(W.INIT_PAYLOAD_BYTES, W.TIMESTAMP_BYTES + W.GENERATION_BYTES + W.TAG_BYTES);
  is(W.INIT_MAC1_OFFSET, W.INIT_PAYLOAD_OFFSET + W.INIT_PAYLOAD_BYTES);
  is(W.INITIATION_BYTES, W.INIT_MAC2_OFFSET + W.MAC_BYTES);
  is(W.INITIATION_BYTES, 148 + 4, "WireGuard's 148 plus the generation");
  is(W.RESP_MAC1_OFFSET, W.RESP_EMPTY_OFFSET + W.TAG_BYTES);
  is(W.RESPONSE_BYTES, 92);
  is(W.COOKIE_REPLY_BYTES, W.COOKIE_SEALED_OFFSET + W.COOKIE_BYTES + W.TAG_BYTES);
  is(W.SECURE_OVERHEAD_BYTES, W.DATA_HEADER_BYTES + W.TAG_BYTES);
  is(W.MAX_PLAINTEXT_BYTES, 65_535 - 20 - 8 - 32);
  ok([W.MSG_INITIATION, W.MSG_RESPONSE, W.MSG_COOKIE_REPLY, W.MSG_TRANSPORT].every((m: number) => (m & 0x08) === 0), 'no type has the VXLAN I flag (0x08) set');
});

t('golden initiation: every field, and mac1/mac2 recomputed with node:crypto', () => {
  const m = initiation();
  is(hex(m), hex(GOLDEN_INITIATION));
  is(W.readInitVni(m), 4097);
  const mac1Key = createHash('sha256').update('mac1----').update(R.publicKey).digest();
  is(hex(m.subarray(120, 136)), createHmac('sha256', mac1Key).update(m.subarray(0, 120)).digest('hex').slice(0, 32));
  is(hex(m.subarray(136, 152)), createHmac('sha256', COOKIE).update(m.subarray(0, 136)).digest('hex').slice(0, 32));
  // The Noise part (ephemeral .. payload) is message 1 of IKpsk2 for shared/crypto's HandshakeState.
  const resp = new HandshakeState({ pattern: 'IKpsk2', initiator: false, prologue: prologueFor(4097), s: R, psks: [PSK], rand: seededRand(1) });
  const payload = resp.readMessage(m.subarray(8, 120));
  is(hex(payload), '400000006955b900' + '0ee6b280' + '00000007', 'TAI64N 2026-01-01T00:00:00.250Z (2^62 + seconds, nanoseconds), generation 7');
  equal(resp.remoteStatic, I.publicKey);
});

t('golden response: every field', () => {
  const ci = consumeInitiation(initiation(), R, () => dh(R, I.publicKey));
  if (typeof ci === 'number') throw new Error('consumeInitiation failed');
  const out = createResponse(ci, { localIndex: 0x0a0b0c0d, psk: PSK, e: ER });
  if (typeof out === 'number') throw new Error('createResponse failed');
  writeMacs(out.msg, W.RESP_MAC1_OFFSET, mac1KeyFor(I.publicKey), null);
  const golden = bytes(
    '02' + //                                                                  type: handshake response
      '000000' + //                                                            reserved
      '0a0b0c0d' + //                                                          sender_index
      '01020304' + //                                                          receiver_index = the initiation's sender_index
      '7021744f121150e223eee5476dbf6166b52c91e223963cd46eeeacff4a2cf80c' + //  ephemeral public key
      'd3aa34824939693db1ff91b55661ef6b' + //                                  encrypted empty payload: the tag alone
      '5770ab0e156505126ec6cb1e0aa29502' + //                                  mac1, keyed by the initiator's static
      '00000000000000000000000000000000', //                                   mac2: no cookie
  );
  is(hex(out.msg), hex(golden));
  is(hex(out.keys.send), '4644751b8a6cd88c28c2fb91b4c182d28a61b4bf350db9db29bc422459eae702', "the responder's sending key (k2)");
  is(hex(out.keys.recv), '4bc0f1dad8a9a1933764d9c215c7f162e23d7a1f378a713d305f80d70a109837', "the responder's receiving key (k1)");
  const mac1Key = createHash('sha256').update('mac1----').update(I.publicKey).digest();
  is(hex(out.msg.subarray(60, 76)), createHmac('sha256', mac1Key).update(out.msg.subarray(0, 60)).digest('hex').slice(0, 32));
});

t('golden cookie reply: every field, opened with @noble/ciphers', () => {
  const m = initiation();
  const cc = new CookieChecker({ publicKey: R.publicKey, rand: seededRand(9), nowMs: 0, secretMs: 120_000 });
  const reply = cc.reply(m, W.INIT_SENDER_OFFSET, W.INIT_MAC1_OFFSET, '10.0.0.1', 0);
  const golden = bytes(
    '03' + //                                  type: cookie reply
      '000000' + //                            reserved
      '01020304' + //                          receiver_index = the answered message's sender_index
      '80b721cf4e221ea3967db1f5' + //          nonce (12 random bytes)
      '73c77c323cf0c9f7ed862ab3f8d129c0' + //  encrypted cookie ...
      '0aafe9b1505853bcae64d47eece41292', //   ... and its tag
  );
  is(hex(reply), hex(golden));
  const g = seededRand(9);
  const secret = g.bytes(32); // what the checker drew first
  const nonce = g.bytes(12);
  is(hex(nonce), '80b721cf4e221ea3967db1f5');
  const key = createHash('sha256').update('cookie--').update(R.publicKey).digest();
  const cookie = gcm(key, nonce, m.subarray(120, 136)).decrypt(reply.subarray(20, 52));
  is(hex(cookie), createHmac('sha256', secret).update('10.0.0.1').digest('hex').slice(0, 32), 'cookie = HMAC(secret, source VTEP)[0..16]');
});

t('golden transport message: header, ciphertext, tag; opened with @noble/ciphers', () => {
  const kp = new Keypair({ localIndex: 5, remoteIndex: 0x01020304, isInitiator: true, nowMs: 0, generation: 7, owner: null, send: new Uint8Array(32).fill(0x11), recv: new Uint8Array(32).fill(0x22), cfg: defaultSecureConfig() });
  for (let i = 0; i < 258; i++) kp.seal(new Uint8Array(0), 0);
  const dg = bytes('0800000000100100' + 'ffffffffffff' + '02420a000002' + '0800' + 'deadbeef');
  const out = kp.seal(dg, dg.length);
  const golden = bytes(
    '04' + //                                                      type: transport data
      '000000' + //                                                reserved
      '01020304' + //                                              receiver_index: the peer's
      '0000000000000102' + //                                      counter 258 (u64 BE)
      'f0519224c7e5522f375e994a60fbd68adeb81b610ec70baf9952' + //  AES-256-GCM of the 26-byte VXLAN datagram
      '1108ae5bbac03b909a2995784cebe610', //                       tag
  );
  is(hex(out), hex(golden));
  is(out.length, dg.length + W.SECURE_OVERHEAD_BYTES);
  const nonce = bytes('00000000' + '0000000000000102');
  equal(gcm(new Uint8Array(32).fill(0x11), nonce, out.subarray(0, 16)).decrypt(out.subarray(16)), dg);
  is(W.readCounter(out), 258);
  is(W.readU32(out, W.DATA_RECEIVER_OFFSET), 0x01020304);
});

t('readers: u32 and u64 big-endian, counters past 2^53 saturate, reserved bytes', () => {
  const h = new Uint8Array(16);
  W.writeTransportHeader(h, 0xfedcba98, 2 ** 40 + 5);
  is(hex(h), '04000000' + 'fedcba98' + '0000010000000005');
  is(W.readCounter(h), 2 ** 40 + 5);
  h.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 8);
  is(W.readCounter(h), Number.MAX_SAFE_INTEGER + 1);
  ok(W.reservedClear(h));
  h[2] = 1;
  ok(!W.reservedClear(h));
  is(W.fixedLength(1), 152);
  is(W.fixedLength(2), 92);
  is(W.fixedLength(3), 52);
  is(W.fixedLength(4), -1);
  is(W.fixedLength(9), -1);
  is(W.mac1Offset(1), 120);
  is(W.mac1Offset(2), 60);
  is(W.mac1Offset(3), -1);
});

t('encoders refuse parts of the wrong size with exact messages', () => {
  const z = (n: number): Uint8Array => new Uint8Array(n);
  throws(() => W.encodeInitiation({ vni: 1, senderIndex: 1, ephemeral: z(31), encryptedStatic: z(48), encryptedPayload: z(32) }), /encodeInitiation: ephemeral must be 32 bytes, got 31/);
  throws(() => W.encodeResponse({ senderIndex: 1, receiverIndex: 2, ephemeral: z(32), encryptedEmpty: z(15) }), /encodeResponse: encryptedEmpty must be 16 bytes, got 15/);
  throws(() => W.encodeCookieReply(1, z(24), z(32)), /encodeCookieReply: nonce must be 12 bytes, got 24/);
});

t.run();
