// The control plane's trust decisions: a joiner judging a manager, a member judging a peer.
import { suite, equal, is, ok } from '../../../harness.js';
import { ManualClock } from '../../../../shared/clock.js';
import { seededRand } from '../../../../shared/rand.js';
import { CertificateAuthority } from '../../../../agent/cluster/ca/ca.js';
import { newJoinTokens, parseJoinToken } from '../../../../agent/cluster/ca/join-token.js';
import { acceptManagerForJoin, acceptPeer, type TrustVerdict } from '../../../../agent/cluster/ca/peer-trust.js';
import { ALICE, BOB, DAY } from './fixtures.js';

const t = suite('peer trust');

function cluster() {
  const clock = new ManualClock();
  const ca = CertificateAuthority.create(seededRand(21), clock);
  const mallory = CertificateAuthority.create(seededRand(22), clock);
  const token = parseJoinToken(newJoinTokens(ca.digest(), seededRand(23)).worker);
  const manager = ca.issue({ nodeId: ALICE.nodeId, role: 'manager', publicKey: ALICE.publicKey });
  const worker = ca.issue({ nodeId: BOB.nodeId, role: 'worker', publicKey: BOB.publicKey });
  return { clock, ca, mallory, token, manager, worker, now: clock.wallMs() };
}

const reason = (v: TrustVerdict) => (v.ok ? 'ok' : v.reason);

t('joiner accepts the real manager: pinned root, manager certificate, the handshake key', () => {
  const { ca, token, manager, now } = cluster();
  const v = acceptManagerForJoin(token, ca.root.bytes, manager.bytes, ALICE.publicKey, now);
  ok(v.ok && v.cert.nodeId === ALICE.nodeId && v.root.id === ca.id);
});

t('man in the middle with its own CA, root and certificate: ca-mismatch', () => {
  const { mallory, token, now } = cluster();
  const fake = mallory.issue({ nodeId: BOB.nodeId, role: 'manager', publicKey: BOB.publicKey });
  const v = acceptManagerForJoin(token, mallory.root.bytes, fake.bytes, BOB.publicKey, now);
  is(reason(v), 'ca-mismatch');
  ok(!v.ok && v.message.includes('man in the middle'));
});

t('man in the middle relaying the real root with its own certificate: wrong-ca', () => {
  const { ca, mallory, token, now } = cluster();
  const fake = mallory.issue({ nodeId: BOB.nodeId, role: 'manager', publicKey: BOB.publicKey });
  is(reason(acceptManagerForJoin(token, ca.root.bytes, fake.bytes, BOB.publicKey, now)), 'wrong-ca');
});

t('man in the middle replaying the real manager certificate without its key: key-mismatch', () => {
  const { ca, token, manager, now } = cluster();
  const v = acceptManagerForJoin(token, ca.root.bytes, manager.bytes, BOB.publicKey, now);
  equal(v, { ok: false, reason: 'key-mismatch', message: `certificate ${manager.serial} of node ${ALICE.nodeId} is for another key than the one the peer proved it holds` });
});

t('a worker posing as a manager to a joiner: wrong-role', () => {
  const { ca, token, worker, now } = cluster();
  const v = acceptManagerForJoin(token, ca.root.bytes, worker.bytes, BOB.publicKey, now);
  equal(v, { ok: false, reason: 'wrong-role', message: `node ${BOB.nodeId} is a worker, not a manager` });
});

t('members accept valid peers and refuse revoked, expired and foreign ones', () => {
  const { ca, mallory, worker, manager, now } = cluster();
  is(reason(acceptPeer(ca.root, ca.revokedSerials(), worker.bytes, BOB.publicKey, now)), 'ok');
  is(reason(acceptPeer(ca.root, ca.revokedSerials(), manager.bytes, ALICE.publicKey, now, 'manager')), 'ok');
  ca.revoke(worker); // the node was removed
  is(reason(acceptPeer(ca.root, ca.revokedSerials(), worker.bytes, BOB.publicKey, now)), 'revoked');
  is(reason(acceptPeer(ca.root, ca.revokedSerials(), manager.bytes, ALICE.publicKey, now + 91 * DAY)), 'expired');
  const foreign = mallory.issue({ nodeId: BOB.nodeId, role: 'worker', publicKey: BOB.publicKey });
  is(reason(acceptPeer(ca.root, ca.revokedSerials(), foreign.bytes, BOB.publicKey, now)), 'wrong-ca');
  is(reason(acceptPeer(ca.root, ca.revokedSerials(), Uint8Array.from([0x80]), BOB.publicKey, now)), 'malformed');
});

t.run();
