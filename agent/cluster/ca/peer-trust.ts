// The two trust decisions of the control plane (issue 4), made after a Noise
// handshake has authenticated the remote's static X25519 key:
//
//   - a joiner accepts a manager only if the CA root it presents has the
//     digest pinned in the join token and the manager's certificate chains
//     to that root, names the role manager, and binds the very key the
//     handshake authenticated (a certificate replayed by someone without
//     the key fails here);
//   - a member accepts a peer only with a valid, unrevoked certificate of the
//     cluster CA binding the handshake's key.
//
// A manager's side of a join (the token secret, the rate limit) is
// roleOfJoinToken and JoinRateLimiter.
import type { NodeRole } from '../store/types.js';
import type { CaRoot } from './ca-root.js';
import { verifyCertificate, type Certificate, type CertRejection } from './certificate.js';
import { checkCaDigest, type JoinToken } from './join-token.js';

export type TrustRejection = CertRejection | 'ca-mismatch' | 'key-mismatch' | 'wrong-role';

export type TrustVerdict = { ok: true; root: CaRoot; cert: Certificate } | { ok: false; reason: TrustRejection; message: string };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** Member side: is this peer's certificate good, and is it the certificate of the key the handshake authenticated? */
export function acceptPeer(
  root: CaRoot,
  revoked: ReadonlySet<string>,
  peerCert: Uint8Array,
  remoteStaticKey: Uint8Array,
  nowMs: number,
  wantRole?: NodeRole,
): TrustVerdict {
  const v = verifyCertificate(peerCert, root.publicKey, nowMs, revoked);
  if (!v.ok) return v;
  const c = v.cert;
  if (!sameBytes(c.publicKey, remoteStaticKey)) {
    return { ok: false, reason: 'key-mismatch', message: `certificate ${c.serial} of node ${c.nodeId} is for another key than the one the peer proved it holds` };
  }
  if (wantRole !== undefined && c.role !== wantRole) {
    return { ok: false, reason: 'wrong-role', message: `node ${c.nodeId} is a ${c.role}, not a ${wantRole}` };
  }
  return { ok: true, root, cert: c };
}

/** Joiner side: pin the CA through the token's digest, then require a manager's certificate for the handshake's key. */
export function acceptManagerForJoin(
  token: JoinToken,
  presentedRoot: Uint8Array,
  managerCert: Uint8Array,
  remoteStaticKey: Uint8Array,
  nowMs: number,
): TrustVerdict {
  const pin = checkCaDigest(token, presentedRoot);
  if (!pin.ok) return { ok: false, reason: 'ca-mismatch', message: pin.message };
  // A joiner has no revocation list yet; the CA pin and a live certificate are what it can check.
  return acceptPeer(pin.root, new Set(), managerCert, remoteStaticKey, nowMs, 'manager');
}
