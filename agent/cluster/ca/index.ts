// Identity and trust (issue 4): node keys, the cluster CA, node certificates,
// join tokens and the checks built on them. Pure except node-key.ts's and
// secret-file.ts's disk access, which goes through the SecretFileIo seam.
export { encodeBase36, decodeBase36, base36Width } from './base36.js';
export { keyId, KEY_ID_LENGTH } from './key-id.js';
export { diskSecretFiles, memorySecretFiles, type SecretFile, type SecretFileIo } from './secret-file.js';
export {
  NODE_KEY_FILE, NODE_KEY_MODE, generateNodeKey, nodeKeyFromPrivate, nodeIdOf, nodeKeyPath,
  encodeNodeKeyFile, decodeNodeKeyFile, loadNodeKey, saveNodeKey, loadOrCreateNodeKey, type NodeKey,
} from './node-key.js';
export {
  CERT_SIZES, encodeTbs, encodeCertificate, decodeCertificate, verifyCertificate,
  type Certificate, type CertificateBody, type CertRejection, type CertVerdict,
} from './certificate.js';
export { CA_DIGEST_LENGTH, caDigest, caRootOf, decodeCaRoot, type CaRoot } from './ca-root.js';
export {
  CertificateAuthority, DEFAULT_CERT_VALIDITY_MS, CERT_BACKDATE_MS, RENEW_REMAINING_FRACTION, renewAtMs, shouldRenew,
  type IssueRequest, type Revocation,
} from './ca.js';
export {
  JOIN_TOKEN_PREFIX, formatJoinToken, newJoinToken, newJoinTokens, rotateJoinToken, parseJoinToken, checkTokenSecret,
  roleOfJoinToken, checkCaDigest, type JoinToken, type JoinTokens, type CaPinVerdict,
} from './join-token.js';
export { JoinRateLimiter, defaultJoinRateLimiterConfig, type JoinRateLimiterConfig, type JoinRateDecision } from './join-rate-limiter.js';
export { acceptPeer, acceptManagerForJoin, type TrustRejection, type TrustVerdict } from './peer-trust.js';
