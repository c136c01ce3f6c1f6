// Join tokens, in the shape of docker's (swarmkit ca/config.go):
//
//   AGTKN-1-<CA digest>-<secret>
//     AGTKN     our prefix (docker's is SWMTKN), so the two are never confused
//     1         format version
//     digest    SHA-256 of the encoded CA root (ca-root.ts), 50 base36 characters
//     secret    128 random bits, 25 base36 characters, as swarmkit's
//
// One token per role, with independent secrets: the manager token is worth a
// seat in Raft, the worker token only tasks. The digest lets a joiner pin the
// CA before it trusts anything a manager says (checkCaDigest: a man in the
// middle cannot present a root with the same digest); the secret lets a
// manager decide who may join and in which role (roleOfJoinToken, in
// constant time). Rotating a role's token draws a new secret, so the old
// token stops working at once. Error messages never echo a secret.
import { timingSafeEqual } from 'node:crypto';
import type { Rand } from '../../../shared/rand.js';
import type { NodeRole } from '../store/types.js';
import { base36Width, decodeBase36, encodeBase36 } from './base36.js';
import { CA_DIGEST_LENGTH, caDigest, decodeCaRoot, type CaRoot } from './ca-root.js';
import { sha256 } from './key-id.js';

export const JOIN_TOKEN_PREFIX = 'AGTKN';
export const JOIN_TOKEN_VERSION = '1';
/** 128 bits: swarmkit's secret size; guessing it is hopeless even without the rate limiter. */
export const JOIN_SECRET_BYTES = 16;
export const JOIN_SECRET_LENGTH = base36Width(JOIN_SECRET_BYTES);

export interface JoinToken {
  caDigest: string;
  secret: string;
  /** The canonical text: AGTKN-1-<digest>-<secret>. */
  text: string;
}

/** The cluster's two current tokens (the store's Token object holds the same strings). */
export interface JoinTokens {
  worker: string;
  manager: string;
}

function invalid(what: string): never {
  throw new Error(`invalid join token: ${what}`);
}

export function formatJoinToken(digest: string, secret: string): string {
  return `${JOIN_TOKEN_PREFIX}-${JOIN_TOKEN_VERSION}-${digest}-${secret}`;
}

/** A token with a fresh secret from `rand` (cryptoRand() in the daemon). */
export function newJoinToken(digest: string, rand: Rand): string {
  if (decodeBase36(digest, 32) === undefined) throw new RangeError(`newJoinToken: digest must be ${CA_DIGEST_LENGTH} characters of [0-9a-z]`);
  return formatJoinToken(digest, encodeBase36(rand.bytes(JOIN_SECRET_BYTES)));
}

/** `swarm init`: one token per role, independent secrets. */
export function newJoinTokens(digest: string, rand: Rand): JoinTokens {
  return { worker: newJoinToken(digest, rand), manager: newJoinToken(digest, rand) };
}

/** `join-token --rotate <role>`: that role's token gets a new secret (same CA); the other is kept. */
export function rotateJoinToken(tokens: JoinTokens, role: NodeRole, rand: Rand): JoinTokens {
  const fresh = newJoinToken(parseJoinToken(tokens[role]).caDigest, rand);
  return role === 'worker' ? { worker: fresh, manager: tokens.manager } : { worker: tokens.worker, manager: fresh };
}

/** Parse a token as a user pasted it (surrounding whitespace ignored); throws `invalid join token: ...`. */
export function parseJoinToken(text: string): JoinToken {
  const t = text.trim();
  if (t === '') invalid('empty');
  const parts = t.split('-');
  if (parts.length !== 4) invalid(`expected ${JOIN_TOKEN_PREFIX}-${JOIN_TOKEN_VERSION}-<CA digest>-<secret>, got ${parts.length} part${parts.length === 1 ? '' : 's'} separated by '-'`);
  const [prefix, version, digest, secret] = parts as [string, string, string, string];
  if (prefix !== JOIN_TOKEN_PREFIX) {
    const hint = prefix === 'SWMTKN' ? ' (a Docker Swarm token; this cluster needs its own)' : '';
    invalid(`prefix must be ${JOIN_TOKEN_PREFIX}, got ${JSON.stringify(prefix.slice(0, 16))}${hint}`);
  }
  if (version !== JOIN_TOKEN_VERSION) invalid(`unsupported version ${JSON.stringify(version.slice(0, 16))} (this agent reads ${JOIN_TOKEN_VERSION})`);
  if (digest.length !== CA_DIGEST_LENGTH || !/^[0-9a-z]+$/.test(digest)) {
    invalid(`CA digest must be ${CA_DIGEST_LENGTH} characters of [0-9a-z], got ${digest.length} characters`);
  }
  if (decodeBase36(digest, 32) === undefined) invalid('CA digest is out of range for SHA-256');
  if (secret.length !== JOIN_SECRET_LENGTH || !/^[0-9a-z]+$/.test(secret)) {
    invalid(`secret must be ${JOIN_SECRET_LENGTH} characters of [0-9a-z], got ${secret.length} characters`);
  }
  if (decodeBase36(secret, JOIN_SECRET_BYTES) === undefined) invalid('secret is out of range for 128 bits');
  return { caDigest: digest, secret, text: formatJoinToken(digest, secret) };
}

/**
 * Constant-time equality of two secrets of any lengths: both are hashed
 * first, so timingSafeEqual always compares 32 bytes and neither the content
 * nor the length of the expected value leaks through timing.
 */
export function checkTokenSecret(presented: string, expected: string): boolean {
  const enc = new TextEncoder();
  return timingSafeEqual(sha256(enc.encode(presented)), sha256(enc.encode(expected)));
}

/**
 * The role a presented token grants, or undefined. Whole tokens are compared
 * (so a token for another CA fails too), always against both roles, so the
 * time taken does not tell which one matched.
 */
export function roleOfJoinToken(tokens: JoinTokens, presented: string): NodeRole | undefined {
  let canonical: string;
  try {
    canonical = parseJoinToken(presented).text;
  } catch {
    return undefined;
  }
  const worker = checkTokenSecret(canonical, tokens.worker);
  const manager = checkTokenSecret(canonical, tokens.manager);
  return manager ? 'manager' : worker ? 'worker' : undefined;
}

export type CaPinVerdict = { ok: true; root: CaRoot } | { ok: false; message: string };

/**
 * The joiner's check of the CA root a manager presented (the man-in-the-
 * middle defence): its digest must equal the token's. Only then is the root
 * used to verify the manager's certificate.
 */
export function checkCaDigest(token: JoinToken, presentedRoot: Uint8Array): CaPinVerdict {
  const got = caDigest(presentedRoot);
  if (got !== token.caDigest) {
    return { ok: false, message: `the manager presented CA ${got}, but the join token pins CA ${token.caDigest}: not this token's cluster, or a man in the middle` };
  }
  try {
    return { ok: true, root: decodeCaRoot(presentedRoot) };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}
