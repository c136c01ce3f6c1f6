// The knobs of the encrypted data path (DESIGN §4, issue 7). Timers are
// WireGuard's (wireguard-go device/constants.go; the WireGuard paper §6);
// message limits are AES-GCM's, far below WireGuard's ChaCha20 2^60.
//
// Every value has its unit in its name. defaultSecureConfig() is production;
// tests pass a Partial<SecureConfig> over it (small message limits, a cookie
// threshold of 0), validated by resolveSecureConfig with exact messages.

export interface SecureConfig {
  /** An initiator starts a new handshake on send once its keypair is this old (WireGuard REKEY_AFTER_TIME). */
  rekeyAfterMs: number;
  /** A keypair neither seals nor opens once this old (REJECT_AFTER_TIME). */
  rejectAfterMs: number;
  /**
   * Either side starts a new handshake once it has sealed this many messages.
   * RFC 9001 §6.6 / Appendix B: AES-GCM's confidentiality limit is 2^23 full
   * 64 KiB packets, about 2^28 for the ~2 KiB packets of a 1400-byte underlay.
   */
  rekeyAfterMessages: number;
  /** No keypair seals, nor accepts a counter, at or past this many messages. */
  rejectAfterMessages: number;
  /** Passive keepalive: after receiving data and sending nothing for this long, send an empty packet (KEEPALIVE_TIMEOUT). */
  keepaliveMs: number;
  /** Resend a handshake initiation that got no response after this long (REKEY_TIMEOUT) ... */
  handshakeRetryMs: number;
  /** ... plus a uniform jitter in [0, this] so that peers do not retry in lock-step. */
  handshakeJitterMs: number;
  /** Stop retrying a handshake this long after its first attempt: the peer is 'failed' (REKEY_ATTEMPT_TIME). */
  giveUpMs: number;
  /** Erase every key of a session this long after its last handshake (3 x REJECT_AFTER_TIME; by default 3 x rejectAfterMs). */
  wipeAfterMs: number;
  /** Packets kept per session while a handshake runs; the oldest is dropped beyond this. */
  queuePackets: number;
  /** The cookie secret rotates, and a received cookie is used for mac2, for this long (COOKIE_REFRESH_TIME). */
  cookieSecretMs: number;
  /**
   * Handshake messages per second the node takes before it is under load and
   * demands a valid mac2 (a cookie) from everyone; 0 = always demand one.
   * One handshake costs three to four X25519 (~1 ms in pure JS), so 100/s keeps
   * the event loop mostly free.
   */
  handshakesPerSecond: number;
  /** Once under load, stay so for this long (WireGuard: UnderLoadAfterTime, 1 s). */
  underLoadHoldMs: number;
  /** Per source: handshake messages per second, and the burst, before that source must show mac2 ... */
  sourceHandshakesPerSecond: number;
  sourceHandshakeBurst: number;
  // ... and the same rate and burst again for its messages with a valid mac2, beyond which they are 'rate-limited'.
}

export function defaultSecureConfig(): SecureConfig {
  return {
    rekeyAfterMs: 120_000,
    rejectAfterMs: 180_000,
    rekeyAfterMessages: 2 ** 27,
    rejectAfterMessages: 2 ** 28,
    keepaliveMs: 10_000,
    handshakeRetryMs: 5_000,
    handshakeJitterMs: 333,
    giveUpMs: 90_000,
    wipeAfterMs: 540_000,
    queuePackets: 32,
    cookieSecretMs: 120_000,
    handshakesPerSecond: 100,
    underLoadHoldMs: 1_000,
    // A node has one session per shared network with us, all rekeyed every 2 minutes.
    sourceHandshakesPerSecond: 20,
    sourceHandshakeBurst: 40,
  };
}

/** Counters are JS numbers, exact to 2^53 (shared/crypto/aead.ts); the wire's u64 never needs more. */
const MAX_MESSAGES = Number.MAX_SAFE_INTEGER;

/** defaultSecureConfig() overridden by o; throws a RangeError naming the first bad field. */
export function resolveSecureConfig(o: Partial<SecureConfig> | undefined): SecureConfig {
  const c = { ...defaultSecureConfig(), ...(o ?? {}) };
  // Unless given, erasure follows the reject time (3 x, as WireGuard), so shortening or stretching rejectAfterMs alone stays valid.
  if (o?.wipeAfterMs === undefined) c.wipeAfterMs = 3 * c.rejectAfterMs;
  const pos = (k: keyof SecureConfig, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    const v = c[k];
    if (!Number.isSafeInteger(v) || v < min || v > max) throw new RangeError(`SecurePlane: config.${k} must be an integer in ${min}..${max}, got ${v}`);
  };
  pos('rejectAfterMs', 1);
  pos('rekeyAfterMs', 1, c.rejectAfterMs);
  pos('rejectAfterMessages', 1, MAX_MESSAGES);
  pos('rekeyAfterMessages', 1, c.rejectAfterMessages);
  pos('keepaliveMs', 1);
  pos('handshakeRetryMs', 1);
  pos('handshakeJitterMs', 0, 0xffff_ffff);
  pos('giveUpMs', 1);
  pos('wipeAfterMs', c.rejectAfterMs);
  pos('queuePackets', 0);
  pos('cookieSecretMs', 1);
  pos('handshakesPerSecond', 0);
  pos('underLoadHoldMs', 0);
  pos('sourceHandshakesPerSecond', 0);
  pos('sourceHandshakeBurst', 1);
  return c;
}
