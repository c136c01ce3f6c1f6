// Node certificates: golden bytes, round trip and every verdict of verifyCertificate.
import { Encoder } from 'cbor-x';
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { seededRand } from '../../../../shared/rand.js';
import { decodeCertificate, encodeCertificate, encodeTbs, verifyCertificate, type CertVerdict } from '../../../../agent/cluster/ca/certificate.js';
import { encodeCbor } from '../../../../agent/cluster/ca/strict-cbor.js';
import { ALICE, BODY, CA_ROOT, CA_SEED, DAY, OTHER_ROOT, OTHER_SEED, T0, hex, signed, unhex } from './fixtures.js';

const t = suite('certificate');
const none = new Set<string>();
const GOLDEN =
  '8258' + '95' + // array(2), bstr(149) tbs
  '89' + // array(9)
  '6f6167656e742f6e6f64652d63657274' + // "agent/node-cert"
  '01' + // version 1
  '50000102030405060708090a0b0c0d0e0f' + // serial bstr(16)
  '7819' + '3275656e366e72307334797879336270636f66677370783564' + // node id "2uen6nr0s4yxy3bpcofgspx5d"
  '676d616e61676572' + // "manager"
  '5820' + '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a' + // X25519 public key
  '1b0000019b76daa800' + // notBeforeMs 1767225600000
  '1b0000019d463b88c0' + // notAfterMs
  '7819' + '353376756d667a6b376338636975636a7a757366336c34747a' + // CA id "53vumfzk7c8ciucjzusf3l4tz"
  '5840' + // bstr(64) signature
  '51eda41fa8e61fc5d29b543ee0d68778ea33919d92ac0b82b00b191f12ac64e89354664c8a38cd4b07b9b554a7efc2c058b51f1e94bff0526e6699cdd0a8e404';

function reason(v: CertVerdict): string {
  return v.ok ? 'ok' : v.reason;
}

t('golden bytes (fixed CA seed, RFC 7748 Alice as the node)', () => {
  is(ALICE.nodeId, '2uen6nr0s4yxy3bpcofgspx5d');
  is(CA_ROOT.id, '53vumfzk7c8ciucjzusf3l4tz');
  is(hex(signed()), GOLDEN);
  is(signed().length, 218);
});

t('round trip: decode gives back every field and the exact bytes', () => {
  const c = decodeCertificate(unhex(GOLDEN));
  equal({ serial: c.serial, nodeId: c.nodeId, role: c.role, publicKey: c.publicKey, notBeforeMs: c.notBeforeMs, notAfterMs: c.notAfterMs, caId: c.caId }, BODY);
  is(c.version, 1);
  is(hex(c.bytes), GOLDEN);
  is(hex(encodeCertificate(encodeTbs(c), c.signature)), GOLDEN);
  equal(c.tbs, encodeTbs(BODY));
});

t('any CBOR decoder reads it (cbor-x)', () => {
  const dec = new Encoder({ useRecords: false, mapsAsObjects: true });
  const [tbs, sig] = dec.decode(unhex(GOLDEN)) as [Uint8Array, Uint8Array];
  is(sig.length, 64);
  const f = dec.decode(tbs) as unknown[];
  equal(f.slice(0, 2), ['agent/node-cert', 1]);
  is(f[3], ALICE.nodeId);
  is(f[6], BigInt(T0));
});

t('verify: a good certificate, from notBefore (inclusive) to notAfter (exclusive)', () => {
  const cert = signed();
  is(reason(verifyCertificate(cert, CA_ROOT.publicKey, T0, none)), 'ok');
  is(reason(verifyCertificate(cert, CA_ROOT.publicKey, BODY.notAfterMs - 1, none)), 'ok');
  const v = verifyCertificate(cert, CA_ROOT.publicKey, T0 + DAY, none);
  ok(v.ok && v.cert.nodeId === ALICE.nodeId && v.cert.role === 'manager');
});

t('verify: not yet valid, expired, revoked, each with a human message', () => {
  const cert = signed();
  equal(verifyCertificate(cert, CA_ROOT.publicKey, T0 - 1, none), {
    ok: false, reason: 'not-yet-valid',
    message: `certificate ${BODY.serial} of node ${ALICE.nodeId} is not valid before 2026-01-01T00:00:00.000Z (now 2025-12-31T23:59:59.999Z; check the clocks)`,
  });
  equal(verifyCertificate(cert, CA_ROOT.publicKey, BODY.notAfterMs, none), {
    ok: false, reason: 'expired',
    message: `certificate ${BODY.serial} of node ${ALICE.nodeId} expired at 2026-03-31T23:30:00.000Z (now 2026-03-31T23:30:00.000Z)`,
  });
  equal(verifyCertificate(cert, CA_ROOT.publicKey, T0, new Set([BODY.serial])), {
    ok: false, reason: 'revoked', message: `certificate ${BODY.serial} of node ${ALICE.nodeId} is revoked`,
  });
  is(reason(verifyCertificate(cert, CA_ROOT.publicKey, T0, new Set(['ffffffffffffffffffffffffffffffff']))), 'ok');
});

t('verify: another CA -> wrong-ca; a forged CA id -> bad-signature', () => {
  const v = verifyCertificate(signed(), OTHER_ROOT.publicKey, T0, none);
  equal(v, { ok: false, reason: 'wrong-ca', message: `certificate ${BODY.serial} of node ${ALICE.nodeId} was issued by CA ${CA_ROOT.id}, not by this cluster's CA ${OTHER_ROOT.id}` });
  // The other CA signs a certificate claiming to come from ours.
  is(reason(verifyCertificate(signed(BODY, OTHER_SEED), CA_ROOT.publicKey, T0, none)), 'bad-signature');
});

t('verify: a tampered byte -> bad-signature (node id, role, key, times, signature)', () => {
  const good = signed();
  const tbsStart = 3;
  const at = (needle: string) => tbsStart + hex(encodeTbs(BODY)).indexOf(needle) / 2;
  const edits: [string, number, number][] = [
    ['node id char', at('3275656e'), 0x33], // '2' -> '3'
    ['public key', at('8520f009') + 5, 0x00],
    ['notAfter', at('1b0000019d463b88c0') + 6, 0x99],
    ['signature', good.length - 1, good[good.length - 1]! ^ 1],
  ];
  for (const [what, i, b] of edits) {
    const bad = good.slice();
    bad[i] = b;
    const r = reason(verifyCertificate(bad, CA_ROOT.publicKey, T0, none));
    is(r, 'bad-signature', what);
  }
  // Promote nothing: "manager" -> "worker" still decodes (tbs one byte shorter), but the signature no longer fits.
  const asWorker = unhex(hex(good).replace('676d616e61676572', '66776f726b6572').replace('825895', '825894'));
  is(reason(verifyCertificate(asWorker, CA_ROOT.publicKey, T0, none)), 'bad-signature');
});

t('verify: checks run by severity: a forged certificate that is also expired and revoked says bad-signature', () => {
  const forged = signed(BODY, OTHER_SEED.map((x) => x ^ 0xff));
  is(reason(verifyCertificate(forged, CA_ROOT.publicKey, BODY.notAfterMs + DAY, new Set([BODY.serial]))), 'bad-signature');
});

t('verify: a decoded certificate whose fields were edited is judged by its bytes', () => {
  const c = decodeCertificate(signed());
  c.notAfterMs = T0 + 1000 * DAY;
  is(reason(verifyCertificate(c, CA_ROOT.publicKey, T0 + 500 * DAY, none)), 'expired');
});

t('verify: every truncation and junk input -> malformed, with the decoder message', () => {
  const good = signed();
  for (let n = 0; n < good.length; n++) is(reason(verifyCertificate(good.subarray(0, n), CA_ROOT.publicKey, T0, none)), 'malformed', `length ${n}`);
  const extra = new Uint8Array(good.length + 1);
  extra.set(good);
  equal(verifyCertificate(extra, CA_ROOT.publicKey, T0, none), { ok: false, reason: 'malformed', message: 'malformed certificate: outer: cbor: trailing bytes after the item at offset 218' });
  equal(verifyCertificate(new Uint8Array(0), CA_ROOT.publicKey, T0, none), { ok: false, reason: 'malformed', message: 'malformed certificate: outer: cbor: truncated input at offset 0' });
  is(reason(verifyCertificate(signed(), new Uint8Array(5), T0, none)), 'wrong-ca');
});

t('decode: exact messages for wrong shapes', () => {
  const sig = new Uint8Array(64);
  const tbs = (f: unknown[]) => encodeCbor([encodeCbor(f as never), sig]);
  const fields = ['agent/node-cert', 1, new Uint8Array(16), 'abc', 'worker', new Uint8Array(32), 1, 2, CA_ROOT.id];
  const swap = (i: number, v: unknown) => tbs(fields.map((x, j) => (j === i ? v : x)));
  const cases: [Uint8Array, string][] = [
    [encodeCbor([1, 2, 3]), 'expected an array of 2 (tbs, signature)'],
    [encodeCbor([new Uint8Array(1), new Uint8Array(63)]), 'signature must be 64 bytes, got 63'],
    [encodeCbor([Uint8Array.from([0xa0]), sig]), 'tbs: cbor: unsupported major type 5 at offset 0'],
    [encodeCbor([Uint8Array.from([0x00]), sig]), 'tbs must be an array of 9'],
    [tbs(fields.slice(0, 8)), 'tbs must be an array of 9'],
    [swap(0, 'agent/other'), 'tbs context must be "agent/node-cert"'],
    [swap(1, 2), 'unsupported version 2 (this agent reads 1)'],
    [swap(2, new Uint8Array(15)), 'serial must be 16 bytes, got 15'],
    [swap(3, 'ABC'), 'node id must be 1-64 characters of [0-9a-z], got "ABC"'],
    [swap(3, 7), 'node id must be a text string'],
    [swap(4, 'admin'), 'role must be "manager" or "worker", got "admin"'],
    [swap(5, new Uint8Array(31)), 'public key must be 32 bytes, got 31'],
    [swap(7, 1), 'notAfterMs (1) must be after notBeforeMs (1)'],
    [swap(6, 'x'), 'notBeforeMs must be an unsigned integer'],
    [swap(8, 'short'), 'CA id must be 25 characters of [0-9a-z], got "short"'],
    [new Uint8Array(1025), '1025 bytes, more than the 1024 allowed'],
  ];
  for (const [bytes, msg] of cases) {
    throws(() => decodeCertificate(bytes), (e: Error) => e.message === `malformed certificate: ${msg}`, msg);
  }
});

t('fuzz: 10k seeded mutations never throw out of verify, and only the original bytes verify', () => {
  const r = seededRand(20260101);
  const good = signed();
  const counts: Record<string, number> = {};
  for (let i = 0; i < 10_000; i++) {
    let input: Uint8Array;
    const mode = r.int(4);
    if (mode === 0) {
      input = good.slice();
      for (let k = 1 + r.int(3); k > 0; k--) input[r.int(input.length)] = r.int(256);
    } else if (mode === 1) input = good.slice(0, r.int(good.length));
    else if (mode === 2) {
      const at = r.int(good.length);
      input = new Uint8Array([...good.subarray(0, at), ...r.bytes(1 + r.int(4)), ...good.subarray(at)]);
    } else input = r.bytes(r.int(300));
    let v: CertVerdict;
    try {
      v = verifyCertificate(input, CA_ROOT.publicKey, T0 + DAY, none);
    } catch (e) {
      throw new Error(`seed 20260101 case ${i}: verify threw ${String(e)}`);
    }
    counts[reason(v)] = (counts[reason(v)] ?? 0) + 1;
    if (v.ok) is(hex(input), hex(good), `case ${i}: a changed certificate verified`);
    else ok(v.message.length > 0);
  }
  ok((counts['malformed'] ?? 0) > 3000 && (counts['bad-signature'] ?? 0) > 100, JSON.stringify(counts));
});

t.run();
