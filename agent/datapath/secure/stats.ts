// Counters of the secure plane: one Float64Array (exact to 2^53), indexed by
// the constants below, snapshotted into SecureStats on demand. The hot path
// only does c[i]++ (STYLE habit 8: a bad packet is a counter and a return).
//
// Every receive() call ends as exactly one of: a drop (one reason), a
// datagram delivered, a keepalive received, or a handshake message consumed
// (initiation answered, response or cookie reply taken). Every send() call
// ends as a drop, a datagram sealed at once, or a staged one, and every
// staged datagram later as sealed or as one drop ('queue-full', 'gave-up',
// 'no-key', 'no-peer' or 'closed'), or is still queued. So, always:
//   received.packets + sendCalls.packets
//     = sum(drops) + delivered.packets + keepalivesReceived + initiationsReceived
//       + responsesReceived + cookieRepliesReceived + sealed.packets + queued

/** Why a message or datagram was dropped. Only ever appended: diagnostics show these names. */
export const SECURE_DROP_REASONS = [
  /** Wrong length for its type, unknown type, reserved bytes set, a plaintext that is no VXLAN datagram. */
  'malformed',
  /** From a VTEP (or with a static key) that is not among setPeers, or a peer not allowed on that network. */
  'not-member',
  /** A receiver index we did not hand out, or no longer hold. */
  'unknown-index',
  /** A message under a session of a peer that lives at another VTEP. */
  'wrong-source',
  /** A transport counter seen before, too far behind the window, or past the message limit; an initiation timestamp not newer than the last. */
  'replay',
  /** Under a keypair older than rejectAfterMs. */
  'expired',
  /** An AEAD tag that did not verify, or a handshake DH with a low-order point. */
  'auth',
  /** A handshake message whose mac1 is not ours. */
  'mac',
  /** This node holds no data key for the network (send, initiation, or a staged datagram when the keys went). */
  'no-key',
  /** An initiation names a data key generation this node does not hold. */
  'unknown-key',
  /** The sealed VXLAN datagram's VNI is not the session's network (or send's datagram is not vni's). */
  'wrong-vni',
  /** send() to a VTEP that is not among setPeers, or a staged datagram whose peer went. */
  'no-peer',
  /** Under load, a handshake message without a valid mac2: answered with a cookie reply instead. */
  'cookie-required',
  /** Under load, a source's messages with a valid mac2 beyond its rate. */
  'rate-limited',
  /** A staged datagram pushed out by a newer one (queuePackets per session). */
  'queue-full',
  /** Staged datagrams dropped when a handshake gave up after giveUpMs. */
  'gave-up',
  /** After close(). */
  'closed',
] as const;
export type SecureDropReason = (typeof SECURE_DROP_REASONS)[number];

export interface TrafficCounter {
  packets: number;
  bytes: number;
}

export interface SecureStats {
  /** receive() calls; bytes of valid lengths. */
  received: TrafficCounter;
  /** Datagrams opened and handed to deliver(); bytes of the VXLAN datagrams. */
  delivered: TrafficCounter;
  /** send() calls; bytes of valid lengths. */
  sendCalls: TrafficCounter;
  /** Datagrams sealed and sent (at once or from a queue); bytes of the VXLAN datagrams. */
  sealed: TrafficCounter;
  /** Datagrams queued while a handshake ran ... */
  staged: number;
  /** ... and those still queued now. */
  queued: number;
  keepalivesSent: number;
  keepalivesReceived: number;
  initiationsSent: number;
  initiationsReceived: number;
  responsesSent: number;
  responsesReceived: number;
  cookieRepliesSent: number;
  cookieRepliesReceived: number;
  /** Keypairs that became usable: on the response (initiator), on the first packet under them (responder). */
  handshakesCompleted: number;
  /** SecureOutput.send threw (the message counted as sent is lost; not a drop of an input). */
  sendErrors: number;
  drops: Record<SecureDropReason, number>;
}

export const RECEIVED_PACKETS = 0;
export const RECEIVED_BYTES = 1;
export const DELIVERED_PACKETS = 2;
export const DELIVERED_BYTES = 3;
export const SEND_PACKETS = 4;
export const SEND_BYTES = 5;
export const SEALED_PACKETS = 6;
export const SEALED_BYTES = 7;
export const STAGED = 8;
export const KEEPALIVES_SENT = 9;
export const KEEPALIVES_RECEIVED = 10;
export const INITIATIONS_SENT = 11;
export const INITIATIONS_RECEIVED = 12;
export const RESPONSES_SENT = 13;
export const RESPONSES_RECEIVED = 14;
export const COOKIES_SENT = 15;
export const COOKIES_RECEIVED = 16;
export const HANDSHAKES = 17;
export const SEND_ERRORS = 18;
const DROPS = 19;
export const COUNTERS = DROPS + SECURE_DROP_REASONS.length;

const d = (r: SecureDropReason): number => DROPS + SECURE_DROP_REASONS.indexOf(r);
export const D_MALFORMED = d('malformed');
export const D_NOT_MEMBER = d('not-member');
export const D_UNKNOWN_INDEX = d('unknown-index');
export const D_WRONG_SOURCE = d('wrong-source');
export const D_REPLAY = d('replay');
export const D_EXPIRED = d('expired');
export const D_AUTH = d('auth');
export const D_MAC = d('mac');
export const D_NO_KEY = d('no-key');
export const D_UNKNOWN_KEY = d('unknown-key');
export const D_WRONG_VNI = d('wrong-vni');
export const D_NO_PEER = d('no-peer');
export const D_COOKIE_REQUIRED = d('cookie-required');
export const D_RATE_LIMITED = d('rate-limited');
export const D_QUEUE_FULL = d('queue-full');
export const D_GAVE_UP = d('gave-up');
export const D_CLOSED = d('closed');

export function snapshotStats(c: Float64Array, queued: number): SecureStats {
  const drops = {} as Record<SecureDropReason, number>;
  SECURE_DROP_REASONS.forEach((r, i) => (drops[r] = c[DROPS + i]!));
  return {
    received: { packets: c[RECEIVED_PACKETS]!, bytes: c[RECEIVED_BYTES]! },
    delivered: { packets: c[DELIVERED_PACKETS]!, bytes: c[DELIVERED_BYTES]! },
    sendCalls: { packets: c[SEND_PACKETS]!, bytes: c[SEND_BYTES]! },
    sealed: { packets: c[SEALED_PACKETS]!, bytes: c[SEALED_BYTES]! },
    staged: c[STAGED]!,
    queued,
    keepalivesSent: c[KEEPALIVES_SENT]!,
    keepalivesReceived: c[KEEPALIVES_RECEIVED]!,
    initiationsSent: c[INITIATIONS_SENT]!,
    initiationsReceived: c[INITIATIONS_RECEIVED]!,
    responsesSent: c[RESPONSES_SENT]!,
    responsesReceived: c[RESPONSES_RECEIVED]!,
    cookieRepliesSent: c[COOKIES_SENT]!,
    cookieRepliesReceived: c[COOKIES_RECEIVED]!,
    handshakesCompleted: c[HANDSHAKES]!,
    sendErrors: c[SEND_ERRORS]!,
    drops,
  };
}

export type PeerState = 'up' | 'handshaking' | 'failed' | 'no-key';

/** One session (a peer on one network), for status and onStatus. */
export interface PeerStatus {
  nodeId: string;
  vtep: string;
  state: PeerState;
  /** Why, in words ('' when up with live keys). */
  reason: string;
  lastHandshakeWallMs: number | null;
  /** VXLAN datagrams (keepalives not counted) sealed to / opened from this peer on this network, and their bytes. */
  txBytes: number;
  rxBytes: number;
  txPackets: number;
  rxPackets: number;
  /** Handshakes completed. */
  handshakes: number;
  /** The data key generation (PSK) the current keys were made with, while there are current keys. */
  generation?: number;
}
