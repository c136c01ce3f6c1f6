// The secure channel of TCP 2377 (DESIGN §1, issue 4): every connection is a
// Noise_XX_25519_AESGCM_SHA256 session (Noise spec rev 34 §7.5 XX) on the
// nodes' static X25519 keys, prologue "agent/2377/1" (§6: both sides must
// agree on it, so a peer of another protocol or version fails message 2).
//
//   initiator (dialer)                         responder (manager, listens)
//   msg1  -> e                                   payload empty
//   msg2  <- e, ee, s, es                        payload: responder hello {certificate, CA root}
//            the initiator checks it: a member with acceptPeer(root, revoked,
//            cert, rs); a joiner with acceptManagerForJoin(token, root, cert, rs),
//            which pins the root through the token's digest (a man in the
//            middle fails here, before the token is ever sent)
//   msg3  -> s, se                               payload: initiator hello {certificate} | {join token}
//            the responder checks it: a member with acceptPeer; a joiner first
//            with JoinRateLimiter.check(source IP), then roleOfJoinToken
//            (constant time); a bad token is JoinRateLimiter.recordFailure
//   Split(); the first transport message is the responder's verdict:
//         <- accept {role granted} | refuse {reason, message}; after a
//            refusal the responder ends the stream.
//
// Payload layouts: handshake-payload.ts. Every handshake message and every
// transport message is one u32 length-prefixed frame (shared/wire/frame.ts)
// of at most 65535 bytes (§3). Application messages are chunked into Noise
// transport messages: transport-session.ts.
//
// Binding: acceptPeer compares the certificate's X25519 key with the Noise
// remote static key, so a replayed certificate is useless without its key.
// A joiner's node id is keyId of the static key it proved (no certificate yet).
//
// Timeouts: the whole handshake (msg1 to verdict) must finish within
// timeoutMs (default 5 s) on each side; the dial itself has its own
// timeoutMs in the transport before that.
//
// Failures: the initiator's secureConnect rejects once with a ChannelError
// (errors.ts); the responder closes the stream and counts (stats.ts), never
// throwing out of the listener.

export const PROTOCOL_PATTERN = 'XX';
export const PROLOGUE = new TextEncoder().encode('agent/2377/1');
/** Long enough for a loaded manager across a WAN; short enough that a silent peer does not hold a slot. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;
