// Counters of the 2377 channel (STYLE habit 8: failures are counted, not
// logged per event). One object may be shared by a listener and every
// connection it accepted, or passed to secureConnect.

export interface ChannelStats {
  /** Handshakes that ended in an open channel. */
  handshakes: number;
  /** Handshakes that did not; the counters below say more about some of them. */
  handshakeFailures: number;
  handshakeTimeouts: number;
  /** Join requests whose token matched no current token. */
  badTokens: number;
  /** Join requests refused by the JoinRateLimiter before their token was looked at. */
  rateLimited: number;
  /** Certificates (or CA roots) refused by acceptPeer / acceptManagerForJoin. */
  untrustedPeers: number;
  /** Frames that did not decode or authenticate, during the handshake or after; each closed its connection. */
  badFrames: number;
}

export function newChannelStats(): ChannelStats {
  return { handshakes: 0, handshakeFailures: 0, handshakeTimeouts: 0, badTokens: 0, rateLimited: 0, untrustedPeers: 0, badFrames: 0 };
}
