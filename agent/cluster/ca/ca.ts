// The cluster CA (DESIGN §1): an Ed25519 key made by `swarm init` that signs
// node certificates, plus the list of certificates revoked before their
// time. Pure: time comes from the injected Clock (wall clock, since
// certificate times are compared across machines), serials and the key from
// the injected Rand.
//
// Where the private key lives: only in the managers' replicated store
// (ClusterSettings.rootCa = { certificate: root.bytes, key: serialize() },
// committed through Raft, so every manager can issue) and, through the
// store's snapshots, in managers' state dirs. Workers receive the root and
// the revocation list, never serialize()'s output.
//
//   state = CBOR array(4) [ context: tstr "agent/ca-state", version: uint 1,
//                           secretKey: bstr(32) Ed25519 seed (RFC 8032 §5.1.5),
//                           revoked: array of [serial: bstr(16), notAfterMs: uint], sorted by serial ]
import { ed25519 } from '@noble/curves/ed25519.js';
import type { Clock } from '../../../shared/clock.js';
import type { Rand } from '../../../shared/rand.js';
import type { NodeRole } from '../store/types.js';
import { caRootOf, type CaRoot } from './ca-root.js';
import { CERT_SIZES, decodeCertificate, encodeCertificate, encodeTbs, verifyCertificate, type Certificate, type CertificateBody, type CertVerdict } from './certificate.js';
import { fromHex, toHex } from './hex.js';
import { decodeCbor, encodeCbor, type Cbor } from './strict-cbor.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** swarmkit's DefaultNodeCertExpiration (ca/config.go): 90 days. */
export const DEFAULT_CERT_VALIDITY_MS = 90 * DAY_MS;
/**
 * notBefore is set this far before the issuing instant so a node whose clock
 * runs a little behind the manager's accepts its fresh certificate
 * (swarmkit's CertBackdate, ca/config.go: 1 h).
 */
export const CERT_BACKDATE_MS = 60 * 60 * 1000;
/**
 * Renew once less than this share of a certificate's lifetime remains: a
 * 90-day certificate is renewed from day 60, leaving 30 days for a node that
 * is down or cut off from the managers to come back and renew in time.
 * certbot uses the same 30-of-90 days for Let's Encrypt certificates
 * (renew_before_expiry); swarmkit renews at a jittered 50-80% of the
 * lifetime (ca/certificates.go, calculateRandomExpiry), and 2/3 lies in
 * that window.
 */
export const RENEW_REMAINING_FRACTION = 1 / 3;

export const CA_STATE_CONTEXT = 'agent/ca-state';
export const CA_STATE_VERSION = 1;
const ED25519_SEED_BYTES = 32;
const SERIAL_HEX = /^[0-9a-f]{32}$/;

export interface IssueRequest {
  nodeId: string;
  role: NodeRole;
  /** The node's X25519 static key. */
  publicKey: Uint8Array;
  /** Lifetime from now; DEFAULT_CERT_VALIDITY_MS unless a test wants it short. */
  validityMs?: number;
}

/** A revoked certificate, kept on the list until it would have expired anyway. */
export interface Revocation {
  serial: string;
  notAfterMs: number;
}

/** When a certificate should be renewed (Unix ms). */
export function renewAtMs(cert: Pick<CertificateBody, 'notBeforeMs' | 'notAfterMs'>): number {
  // The lifetime counts from the issuing instant, not from the back-dated
  // notBefore: with a short validity (tests, `--cert-expiry 1m`) the hour of
  // back-dating would otherwise make every certificate due at once.
  const issued = Math.min(cert.notAfterMs, cert.notBeforeMs + CERT_BACKDATE_MS);
  return cert.notAfterMs - Math.floor((cert.notAfterMs - issued) * RENEW_REMAINING_FRACTION);
}

/** True once less than a third of the certificate's lifetime remains (or it has expired). */
export function shouldRenew(cert: Pick<CertificateBody, 'notBeforeMs' | 'notAfterMs'>, nowMs: number): boolean {
  return nowMs >= renewAtMs(cert);
}

function stateFail(what: string): never {
  throw new Error(`malformed CA state: ${what}`);
}

export class CertificateAuthority {
  readonly root: CaRoot;
  readonly #secretKey: Uint8Array;
  readonly #rand: Rand;
  readonly #clock: Clock;
  readonly #revoked = new Map<string, number>();
  // Kept in step with #revoked for verifyCertificate, which wants a Set.
  readonly #revokedSerials = new Set<string>();

  private constructor(secretKey: Uint8Array, rand: Rand, clock: Clock) {
    this.#secretKey = secretKey.slice();
    this.#rand = rand;
    this.#clock = clock;
    this.root = caRootOf(ed25519.getPublicKey(this.#secretKey));
  }

  /** A new CA (`swarm init`). */
  static create(rand: Rand, clock: Clock): CertificateAuthority {
    return new CertificateAuthority(rand.bytes(ED25519_SEED_BYTES), rand, clock);
  }

  /** The CA that serialize() wrote; throws `malformed CA state: ...`. */
  static restore(state: Uint8Array, rand: Rand, clock: Clock): CertificateAuthority {
    let v: Cbor;
    try {
      v = decodeCbor(state);
    } catch (e) {
      stateFail((e as Error).message);
    }
    if (!Array.isArray(v) || v.length !== 4) stateFail('expected an array of 4 (context, version, key, revoked)');
    if (v[0] !== CA_STATE_CONTEXT) stateFail(`context must be "${CA_STATE_CONTEXT}"`);
    if (v[1] !== CA_STATE_VERSION) stateFail(`unsupported version ${String(v[1])} (this agent reads ${CA_STATE_VERSION})`);
    const key = v[2];
    if (!(key instanceof Uint8Array) || key.length !== ED25519_SEED_BYTES) stateFail(`key must be ${ED25519_SEED_BYTES} bytes`);
    const list = v[3];
    if (!Array.isArray(list)) stateFail('revoked must be an array');
    const ca = new CertificateAuthority(key, rand, clock);
    for (const r of list as readonly Cbor[]) {
      if (!Array.isArray(r) || r.length !== 2) stateFail('a revocation must be [serial, notAfterMs]');
      const [serial, notAfterMs] = r as readonly Cbor[];
      if (!(serial instanceof Uint8Array) || serial.length !== CERT_SIZES.serial) stateFail(`a revoked serial must be ${CERT_SIZES.serial} bytes`);
      if (typeof notAfterMs !== 'number') stateFail('a revocation notAfterMs must be an unsigned integer');
      ca.revoke({ serial: toHex(serial), notAfterMs });
    }
    return ca;
  }

  /** Private key included: for the managers' store only (see the top of this file). */
  serialize(): Uint8Array {
    const revoked = this.revocations().map((r) => [fromHex(r.serial), r.notAfterMs]);
    return encodeCbor([CA_STATE_CONTEXT, CA_STATE_VERSION, this.#secretKey, revoked]);
  }

  get id(): string {
    return this.root.id;
  }

  /** SHA-256 of the encoded root in base36: the digest join tokens carry. */
  digest(): string {
    return this.root.digest;
  }

  /** Sign a certificate valid from (now - CERT_BACKDATE_MS) to (now + validityMs); throws `cannot issue certificate: ...` on a bad request. */
  issue(req: IssueRequest): Certificate {
    const validityMs = req.validityMs ?? DEFAULT_CERT_VALIDITY_MS;
    if (!Number.isSafeInteger(validityMs) || validityMs <= 0) throw new RangeError(`cannot issue certificate: validityMs must be a positive integer, got ${validityMs}`);
    const now = Math.floor(this.#clock.wallMs());
    let tbs: Uint8Array;
    try {
      tbs = encodeTbs({
        serial: toHex(this.#rand.bytes(CERT_SIZES.serial)),
        nodeId: req.nodeId,
        role: req.role,
        publicKey: req.publicKey,
        notBeforeMs: Math.max(0, now - CERT_BACKDATE_MS),
        notAfterMs: now + validityMs,
        caId: this.root.id,
      });
    } catch (e) {
      throw new RangeError((e as Error).message.replace(/^malformed certificate: /, 'cannot issue certificate: '));
    }
    return decodeCertificate(encodeCertificate(tbs, ed25519.sign(tbs, this.#secretKey)));
  }

  /** verifyCertificate against this CA's key and revocation list, at the clock's wall time unless told otherwise. */
  verify(cert: Uint8Array | Certificate, nowMs = this.#clock.wallMs()): CertVerdict {
    return verifyCertificate(cert, this.root.publicKey, nowMs, this.#revokedSerials);
  }

  /** Revoke a certificate (a removed node's, DESIGN §2); a Certificate is itself a Revocation. Idempotent. */
  revoke(r: Revocation): void {
    if (!SERIAL_HEX.test(r.serial)) throw new RangeError(`revoke: serial must be 32 lowercase hex characters, got ${JSON.stringify(r.serial)}`);
    if (!Number.isSafeInteger(r.notAfterMs) || r.notAfterMs < 0) throw new RangeError(`revoke: notAfterMs must be a non-negative integer, got ${r.notAfterMs}`);
    this.#revoked.set(r.serial, r.notAfterMs);
    this.#revokedSerials.add(r.serial);
  }

  isRevoked(serial: string): boolean {
    return this.#revokedSerials.has(serial);
  }

  /** The revoked serials, live: the set members pass to verifyCertificate. */
  revokedSerials(): ReadonlySet<string> {
    return this.#revokedSerials;
  }

  /** The revocation list sorted by serial (a stable order for snapshots and for shipping to members). */
  revocations(): Revocation[] {
    return [...this.#revoked].map(([serial, notAfterMs]) => ({ serial, notAfterMs })).sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));
  }

  /**
   * Forget revocations of certificates that have expired by nowMs: an expired
   * certificate fails verification anyway, so the list stays as short as the
   * certificates still alive. Returns how many were dropped.
   */
  pruneRevocations(nowMs = this.#clock.wallMs()): number {
    let n = 0;
    for (const [serial, notAfterMs] of this.#revoked) {
      if (notAfterMs <= nowMs) {
        this.#revoked.delete(serial);
        this.#revokedSerials.delete(serial);
        n++;
      }
    }
    return n;
  }
}
