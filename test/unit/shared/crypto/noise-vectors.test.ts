// The published Noise test vectors (cacophony format) for every
// Noise_*_25519_AESGCM_SHA256 entry we keep in test/fixtures/noise/: both
// sides, every handshake message byte for byte, the handshake hash, then the
// transport messages after Split() (Noise spec rev 34 §5.2, §5.3).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, equal, is, ok } from '../../../harness.js';
import { nobleAesGcm, nodeAesGcm } from '../../../../shared/crypto/aead.js';
import { keyPairFromPrivate } from '../../../../shared/crypto/noise-dh.js';
import { HandshakeState } from '../../../../shared/crypto/noise-handshake.js';

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_psks?: string[];
  init_static?: string;
  init_ephemeral: string;
  init_remote_static?: string;
  resp_prologue: string;
  resp_psks?: string[];
  resp_static?: string;
  resp_ephemeral?: string;
  resp_remote_static?: string;
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}

const FIXTURE = 'test/fixtures/noise/vectors-25519-aesgcm-sha256.json';
const { vectors } = JSON.parse(readFileSync(join(process.cwd(), FIXTURE), 'utf8')) as { vectors: Vector[] };

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const kp = (s: string | undefined) => (s === undefined ? undefined : keyPairFromPrivate(hex(s)));
const pub = (s: string | undefined) => (s === undefined ? undefined : hex(s));

const t = suite('noise vectors (cacophony, 25519_AESGCM_SHA256)');

t('the fixture holds the patterns we implement, all for our suite', () => {
  const names = vectors.map((v) => v.protocol_name.split('_')[1]);
  for (const want of ['NN', 'NK', 'XX', 'IK', 'XK', 'IKpsk2', 'XXpsk3']) ok(names.includes(want), `fixture lacks ${want}`);
  for (const v of vectors) ok(v.protocol_name.endsWith('_25519_AESGCM_SHA256'), v.protocol_name);
});

for (const impl of [nodeAesGcm, nobleAesGcm]) {
  for (const v of vectors) {
    t(`${v.protocol_name} via ${impl.name}`, () => {
      const pattern = v.protocol_name.split('_')[1]!;
      const init = new HandshakeState({
        pattern, initiator: true, prologue: hex(v.init_prologue), s: kp(v.init_static), e: kp(v.init_ephemeral),
        rs: pub(v.init_remote_static), psks: v.init_psks?.map(hex), aead: impl,
      });
      const resp = new HandshakeState({
        pattern, initiator: false, prologue: hex(v.resp_prologue), s: kp(v.resp_static), e: kp(v.resp_ephemeral),
        rs: pub(v.resp_remote_static), psks: v.resp_psks?.map(hex), aead: impl,
      });
      is(init.protocolName, v.protocol_name);
      const hsCount = init.pattern.messages.length;
      for (let i = 0; i < hsCount; i++) {
        const m = v.messages[i]!;
        const [w, r] = i % 2 === 0 ? [init, resp] : [resp, init];
        is(toHex(w.writeMessage(hex(m.payload))), m.ciphertext, `handshake message ${i}`);
        is(toHex(r.readMessage(hex(m.ciphertext))), m.payload, `handshake payload ${i}`);
      }
      ok(init.complete && resp.complete);
      is(toHex(init.handshakeHash), v.handshake_hash);
      is(toHex(resp.handshakeHash), v.handshake_hash);
      if (v.init_static && v.resp_remote_static === undefined) equal(resp.remoteStatic, kp(v.init_static)!.publicKey);
      if (v.resp_static) equal(init.remoteStatic, kp(v.resp_static)!.publicKey);

      // Transport: cacophony keeps alternating senders after the handshake
      // (one-way patterns: initiator only), continuing from the last turn.
      const [ic1, ic2] = init.split();
      const [rc1, rc2] = resp.split();
      for (let i = hsCount; i < v.messages.length; i++) {
        const m = v.messages[i]!;
        const fromInit = init.pattern.oneWay || i % 2 === 0;
        const [send, recv] = fromInit ? [ic1, rc1] : [rc2, ic2];
        is(toHex(send.encryptWithAd(new Uint8Array(0), hex(m.payload))), m.ciphertext, `transport message ${i}`);
        is(toHex(recv.decryptWithAd(new Uint8Array(0), hex(m.ciphertext))), m.payload, `transport payload ${i}`);
      }
    });
  }
}

t.run();
