// The cluster CA: root and digest, issuing, renewal timing, revocation, and its serialized state.
import { createHash } from 'node:crypto';
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { ManualClock } from '../../../../shared/clock.js';
import { seededRand } from '../../../../shared/rand.js';
import {
  CERT_BACKDATE_MS, CertificateAuthority, DEFAULT_CERT_VALIDITY_MS, renewAtMs, shouldRenew,
} from '../../../../agent/cluster/ca/ca.js';
import { caDigest, decodeCaRoot } from '../../../../agent/cluster/ca/ca-root.js';
import { decodeCertificate, verifyCertificate } from '../../../../agent/cluster/ca/certificate.js';
import { keyId } from '../../../../agent/cluster/ca/key-id.js';
import { encodeCbor } from '../../../../agent/cluster/ca/strict-cbor.js';
import { ALICE, BOB, DAY, T0, hex } from './fixtures.js';

const t = suite('certificate authority');
const HOUR = 3_600_000;

function fresh(seed = 7) {
  const clock = new ManualClock(); // wall clock starts at 2026-01-01T00:00:00Z = T0
  return { clock, ca: CertificateAuthority.create(seededRand(seed), clock) };
}

t('root: id and digest are derived from the public key; golden values for seed 7', () => {
  const { ca } = fresh();
  is(ca.id, keyId(ca.root.publicKey));
  is(ca.root.bytes.length, 50);
  is(hex(ca.root.bytes), '836d6167656e742f63612d726f6f74015820' + hex(ca.root.publicKey));
  const sha = createHash('sha256').update(ca.root.bytes).digest('hex');
  is(ca.digest(), BigInt(`0x${sha}`).toString(36).padStart(50, '0'));
  is(ca.digest(), '02v1p18afacb6z0wbc1vq0kilf65200c3hhu32amrqnuhbtxtw');
  is(ca.id, 'd67igocqpmz4mct83brbzk5q1');
  equal(decodeCaRoot(ca.root.bytes), ca.root);
  is(caDigest(ca.root.bytes), ca.digest());
});

t('root: decode refuses junk with exact messages', () => {
  const bad: [Uint8Array, string][] = [
    [new Uint8Array(0), 'cbor: truncated input at offset 0'],
    [encodeCbor(['agent/ca-root', 1]), 'expected an array of 3 (context, version, public key)'],
    [encodeCbor(['agent/other', 1, new Uint8Array(32)]), 'context must be "agent/ca-root"'],
    [encodeCbor(['agent/ca-root', 2, new Uint8Array(32)]), 'unsupported version 2 (this agent reads 1)'],
    [encodeCbor(['agent/ca-root', 1, 'key']), 'public key must be a byte string'],
    [encodeCbor(['agent/ca-root', 1, new Uint8Array(31)]), 'public key must be 32 bytes, got 31'],
    [encodeCbor(['agent/ca-root', 1, new Uint8Array(32).fill(0xff)]), 'public key is not a valid Ed25519 point'],
  ];
  for (const [b, msg] of bad) throws(() => decodeCaRoot(b), (e: Error) => e.message === `malformed CA root: ${msg}`, msg);
});

t('issue: 90 days by default, backdated 1 h, signed by the CA, verifiable with the root alone', () => {
  const { clock, ca } = fresh();
  const c = ca.issue({ nodeId: ALICE.nodeId, role: 'worker', publicKey: ALICE.publicKey });
  is(c.notBeforeMs, T0 - CERT_BACKDATE_MS);
  is(c.notAfterMs, T0 + DEFAULT_CERT_VALIDITY_MS);
  is(DEFAULT_CERT_VALIDITY_MS, 90 * DAY);
  is(c.caId, ca.id);
  is(c.role, 'worker');
  equal(c.publicKey, ALICE.publicKey);
  ok(ca.verify(c).ok);
  ok(verifyCertificate(c.bytes, ca.root.publicKey, clock.wallMs(), new Set()).ok);
  // A node whose clock is 30 min behind the manager's already accepts it.
  ok(verifyCertificate(c.bytes, ca.root.publicKey, clock.wallMs() - 30 * 60_000, new Set()).ok);
  is(hex(ca.issue({ nodeId: ALICE.nodeId, role: 'worker', publicKey: ALICE.publicKey, validityMs: HOUR }).bytes).length / 2, c.bytes.length);
});

t('issue: validity is settable (tests use short ones) and serials never repeat', () => {
  const { ca } = fresh();
  const short = ca.issue({ nodeId: 'n1', role: 'manager', publicKey: BOB.publicKey, validityMs: 5_000 });
  is(short.notAfterMs - T0, 5_000);
  const serials = new Set<string>();
  for (let i = 0; i < 500; i++) serials.add(ca.issue({ nodeId: 'n1', role: 'worker', publicKey: BOB.publicKey, validityMs: 5_000 }).serial);
  is(serials.size, 500);
});

t('issue: bad requests are refused with exact messages', () => {
  const { ca } = fresh();
  const req = { nodeId: ALICE.nodeId, role: 'worker' as const, publicKey: ALICE.publicKey };
  throws(() => ca.issue({ ...req, validityMs: 0 }), (e: Error) => e instanceof RangeError && e.message === 'cannot issue certificate: validityMs must be a positive integer, got 0');
  throws(() => ca.issue({ ...req, validityMs: 1.5 }), /validityMs must be a positive integer, got 1.5/);
  throws(() => ca.issue({ ...req, nodeId: 'Node-1' }), (e: Error) => e.message === 'cannot issue certificate: node id must be 1-64 characters of [0-9a-z], got "Node-1"');
  throws(() => ca.issue({ ...req, publicKey: new Uint8Array(31) }), (e: Error) => e.message === 'cannot issue certificate: public key must be 32 bytes, got 31');
  throws(() => ca.issue({ ...req, role: 'admin' as never }), (e: Error) => e.message === 'cannot issue certificate: role must be "manager" or "worker", got "admin"');
});

t('shouldRenew: once less than a third of the lifetime remains', () => {
  const { ca } = fresh();
  const c = ca.issue({ nodeId: ALICE.nodeId, role: 'worker', publicKey: ALICE.publicKey });
  // The lifetime counts from issuing, not from the back-dated notBefore.
  const life = c.notAfterMs - c.notBeforeMs - CERT_BACKDATE_MS;
  is(renewAtMs(c), c.notAfterMs - Math.floor(life / 3));
  is(shouldRenew(c, T0), false);
  is(shouldRenew(c, renewAtMs(c) - 1), false);
  is(shouldRenew(c, renewAtMs(c)), true);
  is(shouldRenew(c, c.notAfterMs + DAY), true);
  // For the default lifetime: 30 days before expiry.
  is(c.notAfterMs - renewAtMs(c), 30 * DAY);
  // A one-minute certificate is due after 40 s, not at once.
  const short = ca.issue({ nodeId: ALICE.nodeId, role: 'worker', publicKey: ALICE.publicKey, validityMs: 60_000 });
  is(renewAtMs(short) - (short.notBeforeMs + CERT_BACKDATE_MS), 40_000);
});

t('scenario: a node checking every 10 min renews before expiry, for a year of 1-day certificates', () => {
  const { clock, ca } = fresh();
  const issue = () => ca.issue({ nodeId: ALICE.nodeId, role: 'worker', publicKey: ALICE.publicKey, validityMs: DAY });
  let cert = issue();
  let renewals = 0;
  for (let step = 0; step < 365 * 144; step++) {
    clock.advance(10 * 60_000);
    // Time checks only (a signature check per step would make this slow); the fresh certificate is verified in full.
    const now = clock.wallMs();
    ok(now >= cert.notBeforeMs && now < cert.notAfterMs, `step ${step}: certificate not valid at ${now}`);
    if (shouldRenew(cert, now)) {
      cert = issue();
      ok(ca.verify(cert).ok);
      renewals++;
    }
  }
  // Renewed at 2/3 of 24 h: about 1.5 times a day.
  ok(renewals > 365 && renewals < 365 * 1.6, String(renewals));
});

t('revocation: a removed node fails with revoked, others still pass; idempotent; pruned after expiry', () => {
  const { clock, ca } = fresh();
  const a = ca.issue({ nodeId: ALICE.nodeId, role: 'worker', publicKey: ALICE.publicKey, validityMs: DAY });
  const b = ca.issue({ nodeId: BOB.nodeId, role: 'worker', publicKey: BOB.publicKey, validityMs: 2 * DAY });
  ca.revoke(a);
  ca.revoke(a);
  is(ca.isRevoked(a.serial), true);
  equal(ca.revocations(), [{ serial: a.serial, notAfterMs: a.notAfterMs }]);
  const v = ca.verify(a);
  ok(!v.ok && v.reason === 'revoked' && v.message === `certificate ${a.serial} of node ${ALICE.nodeId} is revoked`);
  ok(ca.verify(b).ok);
  ok(!verifyCertificate(a.bytes, ca.root.publicKey, clock.wallMs(), ca.revokedSerials()).ok);
  is(ca.pruneRevocations(), 0);
  clock.advance(DAY);
  is(ca.pruneRevocations(), 1);
  equal(ca.revocations(), []);
  const after = ca.verify(a);
  ok(!after.ok && after.reason === 'expired', 'still refused, now as expired');
  throws(() => ca.revoke({ serial: 'XYZ', notAfterMs: 1 }), /revoke: serial must be 32 lowercase hex characters, got "XYZ"/);
});

t('serialize/restore: same key, same digest, same revocations, same bytes', () => {
  const { clock, ca } = fresh();
  const c1 = ca.issue({ nodeId: ALICE.nodeId, role: 'manager', publicKey: ALICE.publicKey });
  const c2 = ca.issue({ nodeId: BOB.nodeId, role: 'worker', publicKey: BOB.publicKey });
  ca.revoke(c2);
  ca.revoke(c1);
  const state = ca.serialize();
  const back = CertificateAuthority.restore(state, seededRand(99), clock);
  is(back.digest(), ca.digest());
  equal(back.root, ca.root);
  equal(back.revocations(), ca.revocations());
  equal(back.serialize(), state);
  // The restored CA's certificates verify under the original, and the other way round.
  const c3 = back.issue({ nodeId: 'n3', role: 'worker', publicKey: BOB.publicKey });
  ok(ca.verify(c3).ok);
  ok(!back.verify(c1).ok);
  // A fresh CA has a different digest.
  ok(fresh(8).ca.digest() !== ca.digest());
  is(hex(fresh().ca.serialize()), '846e6167656e742f63612d73746174650158202022dc3befa92183e910ec729410372c37bacf90d157397949d36183ba35595b80');
});

t('restore refuses junk with exact messages', () => {
  const clock = new ManualClock();
  const bad: [Uint8Array, string][] = [
    [Uint8Array.from([0xf4]), 'cbor: unsupported major type 7 at offset 0'],
    [encodeCbor(['agent/ca-state', 1, new Uint8Array(32)]), 'expected an array of 4 (context, version, key, revoked)'],
    [encodeCbor(['agent/ca-root', 1, new Uint8Array(32), []]), 'context must be "agent/ca-state"'],
    [encodeCbor(['agent/ca-state', 2, new Uint8Array(32), []]), 'unsupported version 2 (this agent reads 1)'],
    [encodeCbor(['agent/ca-state', 1, new Uint8Array(16), []]), 'key must be 32 bytes'],
    [encodeCbor(['agent/ca-state', 1, new Uint8Array(32), 5]), 'revoked must be an array'],
    [encodeCbor(['agent/ca-state', 1, new Uint8Array(32), [[new Uint8Array(16)]]]), 'a revocation must be [serial, notAfterMs]'],
    [encodeCbor(['agent/ca-state', 1, new Uint8Array(32), [[new Uint8Array(8), 1]]]), 'a revoked serial must be 16 bytes'],
    [encodeCbor(['agent/ca-state', 1, new Uint8Array(32), [[new Uint8Array(16), 'x']]]), 'a revocation notAfterMs must be an unsigned integer'],
  ];
  for (const [b, msg] of bad) throws(() => CertificateAuthority.restore(b, seededRand(1), clock), (e: Error) => e.message === `malformed CA state: ${msg}`, msg);
});

t('the issued certificate decodes to what was asked for', () => {
  const { ca } = fresh();
  const c = ca.issue({ nodeId: BOB.nodeId, role: 'manager', publicKey: BOB.publicKey, validityMs: HOUR });
  const d = decodeCertificate(c.bytes);
  equal([d.nodeId, d.role, hex(d.publicKey), d.notAfterMs - d.notBeforeMs], [BOB.nodeId, 'manager', hex(BOB.publicKey), HOUR + CERT_BACKDATE_MS]);
});

t.run();
