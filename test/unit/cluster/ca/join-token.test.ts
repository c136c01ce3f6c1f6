// Join tokens: format, parsing, rotation, the constant-time check and the joiner's CA pin.
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { ManualClock } from '../../../../shared/clock.js';
import { seededRand } from '../../../../shared/rand.js';
import { CertificateAuthority } from '../../../../agent/cluster/ca/ca.js';
import { caDigest } from '../../../../agent/cluster/ca/ca-root.js';
import {
  checkCaDigest, checkTokenSecret, formatJoinToken, newJoinTokens, parseJoinToken, roleOfJoinToken, rotateJoinToken,
} from '../../../../agent/cluster/ca/join-token.js';
import { CA_ROOT, OTHER_ROOT } from './fixtures.js';

const t = suite('join token');
const SHAPE = /^AGTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/;

t('format: AGTKN-1-<CA digest, 50 base36>-<secret, 25 base36>; golden for a fixed CA and seed', () => {
  const tokens = newJoinTokens(CA_ROOT.digest, seededRand(1));
  equal(tokens, {
    worker: 'AGTKN-1-1iaj81zh5i1k1ln3hmh8azqs0su4hqfkpgcrjdp7rz2k4b126d-9d37vctdwj6inwrhxb3kqiqnx',
    manager: 'AGTKN-1-1iaj81zh5i1k1ln3hmh8azqs0su4hqfkpgcrjdp7rz2k4b126d-bhnn6mz98lx46b0dd1jacorrd',
  });
  ok(SHAPE.test(tokens.worker) && SHAPE.test(tokens.manager));
  is(parseJoinToken(tokens.worker).caDigest, CA_ROOT.digest);
});

t('the two roles get independent secrets', () => {
  const r = seededRand(2);
  for (let i = 0; i < 200; i++) {
    const { worker, manager } = newJoinTokens(CA_ROOT.digest, r);
    ok(parseJoinToken(worker).secret !== parseJoinToken(manager).secret);
  }
});

t('parse: round trip, surrounding whitespace ignored', () => {
  const { worker } = newJoinTokens(CA_ROOT.digest, seededRand(3));
  const p = parseJoinToken(`  ${worker}\n`);
  is(p.text, worker);
  is(formatJoinToken(p.caDigest, p.secret), worker);
});

t('parse: exact errors, and never the secret in them', () => {
  const d = CA_ROOT.digest;
  const s = 'k'.repeat(25);
  const cases: [string, string][] = [
    ['', 'empty'],
    ['   ', 'empty'],
    ['AGTKN-1-abc', "expected AGTKN-1-<CA digest>-<secret>, got 3 parts separated by '-'"],
    ['nodashes', "expected AGTKN-1-<CA digest>-<secret>, got 1 part separated by '-'"],
    [`AGTKN-1-${d}-${s}-x`, "expected AGTKN-1-<CA digest>-<secret>, got 5 parts separated by '-'"],
    [`SWMTKN-1-${d}-${s}`, 'prefix must be AGTKN, got "SWMTKN" (a Docker Swarm token; this cluster needs its own)'],
    [`agtkn-1-${d}-${s}`, 'prefix must be AGTKN, got "agtkn"'],
    [`AGTKN-2-${d}-${s}`, 'unsupported version "2" (this agent reads 1)'],
    [`AGTKN-1-${d.slice(1)}-${s}`, 'CA digest must be 50 characters of [0-9a-z], got 49 characters'],
    [`AGTKN-1-${d.toUpperCase()}-${s}`, 'CA digest must be 50 characters of [0-9a-z], got 50 characters'],
    [`AGTKN-1-${'z'.repeat(50)}-${s}`, 'CA digest is out of range for SHA-256'],
    [`AGTKN-1-${d}-${s.slice(1)}`, 'secret must be 25 characters of [0-9a-z], got 24 characters'],
    [`AGTKN-1-${d}-${'K'.repeat(25)}`, 'secret must be 25 characters of [0-9a-z], got 25 characters'],
    [`AGTKN-1-${d}-${'z'.repeat(25)}`, 'secret is out of range for 128 bits'],
  ];
  for (const [text, msg] of cases) {
    throws(() => parseJoinToken(text), (e: Error) => e.message === `invalid join token: ${msg}` && !e.message.includes(s.slice(1)), JSON.stringify(text));
  }
});

t('rotation: the rotated role gets a new token, the old one fails at once, the other role is untouched', () => {
  const r = seededRand(4);
  const before = newJoinTokens(CA_ROOT.digest, r);
  is(roleOfJoinToken(before, before.worker), 'worker');
  is(roleOfJoinToken(before, before.manager), 'manager');
  const after = rotateJoinToken(before, 'worker', r);
  ok(after.worker !== before.worker);
  is(after.manager, before.manager);
  is(parseJoinToken(after.worker).caDigest, CA_ROOT.digest);
  is(roleOfJoinToken(after, before.worker), undefined);
  is(roleOfJoinToken(after, after.worker), 'worker');
  is(roleOfJoinToken(after, before.manager), 'manager');
  const again = rotateJoinToken(after, 'manager', r);
  is(roleOfJoinToken(again, before.manager), undefined);
  is(roleOfJoinToken(again, again.manager), 'manager');
  is(again.worker, after.worker);
});

t('roleOfJoinToken: junk, a pasted newline, and a token for another CA with the same secret', () => {
  const tokens = newJoinTokens(CA_ROOT.digest, seededRand(5));
  is(roleOfJoinToken(tokens, 'garbage'), undefined);
  is(roleOfJoinToken(tokens, ''), undefined);
  is(roleOfJoinToken(tokens, `${tokens.worker}\n`), 'worker');
  const secret = parseJoinToken(tokens.worker).secret;
  is(roleOfJoinToken(tokens, formatJoinToken(OTHER_ROOT.digest, secret)), undefined);
});

t('checkTokenSecret: equal accepted; one character off, other lengths and empty refused without throwing', () => {
  const s = 'bhnn6mz98lx46b0dd1jacorrd';
  is(checkTokenSecret(s, s), true);
  is(checkTokenSecret(`${s.slice(0, -1)}e`, s), false);
  is(checkTokenSecret(`x${s.slice(1)}`, s), false);
  is(checkTokenSecret(s.slice(0, 24), s), false);
  is(checkTokenSecret(`${s}0`, s), false);
  is(checkTokenSecret('', s), false);
  is(checkTokenSecret('', ''), true);
  is(checkTokenSecret('é', 'e'), false);
});

t('MITM: the joiner accepts the root whose digest the token pins, and refuses any other', () => {
  const clock = new ManualClock();
  const real = CertificateAuthority.create(seededRand(10), clock);
  const attacker = CertificateAuthority.create(seededRand(11), clock);
  const token = parseJoinToken(newJoinTokens(real.digest(), seededRand(12)).worker);
  const good = checkCaDigest(token, real.root.bytes);
  ok(good.ok && good.root.id === real.id);
  const bad = checkCaDigest(token, attacker.root.bytes);
  equal(bad, {
    ok: false,
    message: `the manager presented CA ${attacker.digest()}, but the join token pins CA ${real.digest()}: not this token's cluster, or a man in the middle`,
  });
  // A root one byte off has another digest too.
  const tampered = real.root.bytes.slice();
  tampered[tampered.length - 1]! ^= 1;
  ok(!checkCaDigest(token, tampered).ok);
  // Bytes that match the pinned digest but are not a root are still refused.
  const junk = Uint8Array.from([1, 2, 3]);
  const junkPin = parseJoinToken(formatJoinToken(caDigest(junk), 'a'.repeat(25)));
  equal(checkCaDigest(junkPin, junk), { ok: false, message: 'malformed CA root: cbor: trailing bytes after the item at offset 1' });
});

t.run();
