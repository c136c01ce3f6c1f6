// The one error class of the 2377 secure channel (issue 4). secureConnect
// rejects with it; a SecureConn's onClose gets it when the channel breaks.
// Callers branch on `code` (and, for ECHAN_REFUSED, on `reason`), never on
// the message, which is written for an operator to read once.

export type ChannelErrorCode =
  /** The responder's certificate (or CA root) was not acceptable to us. */
  | 'ECHAN_UNTRUSTED'
  /** The responder refused us; `reason` says why. */
  | 'ECHAN_REFUSED'
  /** The handshake did not finish within its timeout. */
  | 'ECHAN_TIMEOUT'
  /** A frame did not decode or did not authenticate. */
  | 'ECHAN_PROTOCOL'
  /** The stream closed (or reset) before the handshake finished. */
  | 'ECHAN_CLOSED';

/** Why a responder refused an initiator (carried in the verdict, handshake-payload.ts). */
export type RefuseReason = 'bad-token' | 'rate-limited' | 'untrusted-cert' | 'no-tokens';

export class ChannelError extends Error {
  override name = 'ChannelError';
  constructor(
    readonly code: ChannelErrorCode,
    message: string,
    readonly reason?: RefuseReason,
  ) {
    super(message);
  }
}
