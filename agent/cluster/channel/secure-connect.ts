// The initiator of a 2377 channel: a member dialling a manager, or a joiner
// with a join token (flow in protocol.ts).
import type { Clock } from '../../../shared/clock.js';
import { HandshakeState } from '../../../shared/crypto/noise-handshake.js';
import { NoiseError } from '../../../shared/crypto/noise-error.js';
import type { Rand } from '../../../shared/rand.js';
import { addrKey, type Addr, type StreamTransport } from '../../../shared/transport/types.js';
import type { CaRoot } from '../ca/ca-root.js';
import type { Certificate } from '../ca/certificate.js';
import { parseJoinToken, type JoinToken } from '../ca/join-token.js';
import type { NodeKey } from '../ca/node-key.js';
import { acceptManagerForJoin, acceptPeer, type TrustVerdict } from '../ca/peer-trust.js';
import type { NodeRole } from '../store/types.js';
import { ChannelError } from './errors.js';
import { FramedStream } from './framed-stream.js';
import { decodeResponderHello, decodeVerdict, encodeInitiatorHello, type InitiatorHello } from './handshake-payload.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, PROLOGUE, PROTOCOL_PATTERN } from './protocol.js';
import { SecureChannel, type SecureConn } from './secure-conn.js';
import { newChannelStats, type ChannelStats } from './stats.js';
import { TransportSession } from './transport-session.js';

/** How the initiator judges the responder, and what it proves about itself. */
export type TrustConfig =
  | {
      kind: 'member';
      root: CaRoot;
      /** Serials revoked now (read at each handshake). */
      revoked: () => ReadonlySet<string>;
      /** This node's certificate (encoded). */
      cert: Uint8Array;
      /** Role the responder must hold; 2377 is the managers' port, so 'manager' by default. */
      wantRole?: NodeRole;
    }
  | { kind: 'join'; token: string };

export interface ConnectOptions {
  key: NodeKey;
  trust: TrustConfig;
  clock: Clock;
  rand: Rand;
  /** Dial timeout, then handshake timeout (each). */
  timeoutMs?: number;
  stats?: ChannelStats;
  maxMessageBytes?: number;
}

function untrusted(join: boolean, v: Extract<TrustVerdict, { ok: false }>, where: string): ChannelError {
  if (join && (v.reason === 'ca-mismatch' || v.reason === 'wrong-ca' || v.reason === 'bad-signature')) {
    return new ChannelError('ECHAN_UNTRUSTED', `manager certificate does not chain to the CA in the join token (possible man in the middle): ${v.message}`);
  }
  return new ChannelError('ECHAN_UNTRUSTED', `${where} presented an unacceptable certificate: ${v.message}`);
}

/** Dial addr and run the handshake; resolves with an open channel or rejects once with a ChannelError (or the transport's error). */
export async function secureConnect(transport: StreamTransport, addr: Addr, opts: ConnectOptions): Promise<SecureConn> {
  const { key, trust, clock, rand } = opts;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new RangeError(`secureConnect: timeoutMs must be a positive integer, got ${timeoutMs}`);
  const stats = opts.stats ?? newChannelStats();
  // Parse before dialling: a mistyped token fails here with parseJoinToken's exact message.
  const token: JoinToken | undefined = trust.kind === 'join' ? parseJoinToken(trust.token) : undefined;
  const where = addrKey(addr);
  const hs = new HandshakeState({ pattern: PROTOCOL_PATTERN, initiator: true, prologue: PROLOGUE, s: key, rand });
  const stream = await transport.connect(addr, { timeoutMs });

  return new Promise<SecureConn>((resolve, reject) => {
    const framed = new FramedStream(stream);
    let session: TransportSession | undefined;
    let peerCert: Certificate | undefined;
    let settled = false;

    const fail = (err: ChannelError): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      stats.handshakeFailures++;
      if (err.code === 'ECHAN_TIMEOUT') stats.handshakeTimeouts++;
      if (err.code === 'ECHAN_PROTOCOL') stats.badFrames++;
      if (err.code === 'ECHAN_UNTRUSTED') stats.untrustedPeers++;
      session?.wipe();
      framed.destroy();
      reject(err);
    };
    const timer = clock.after(timeoutMs, () => fail(new ChannelError('ECHAN_TIMEOUT', `handshake with ${where} did not finish within ${timeoutMs} ms`)));

    const step = (body: Uint8Array): void => {
      if (session === undefined) {
        // Message 2: the responder's static key and its hello.
        const hello = decodeResponderHello(hs.readMessage(body));
        const rs = hs.remoteStatic!;
        const now = clock.wallMs();
        const v =
          token !== undefined
            ? acceptManagerForJoin(token, hello.root, hello.cert, rs, now)
            : trust.kind === 'member'
              ? acceptPeer(trust.root, trust.revoked(), hello.cert, rs, now, trust.wantRole ?? 'manager')
              : undefined;
        if (v === undefined || !v.ok) throw untrusted(token !== undefined, v ?? { ok: false, reason: 'malformed', message: 'no trust' }, where);
        peerCert = v.cert;
        // Message 3: only now, with the responder proven, does the token (or our certificate) leave.
        const mine: InitiatorHello = token !== undefined ? { kind: 'join', token: token.text } : { kind: 'member', cert: (trust as { cert: Uint8Array }).cert };
        framed.write([hs.writeMessage(encodeInitiatorHello(mine))]);
        const { send, recv } = hs.splitSendRecv();
        session = new TransportSession(send, recv, opts.maxMessageBytes);
        return;
      }
      // The verdict: first transport message.
      const m = session.open(body);
      if (m === undefined) return;
      const verdict = decodeVerdict(m);
      if (!verdict.accept) throw new ChannelError('ECHAN_REFUSED', `${where} refused the connection: ${verdict.message}`, verdict.reason);
      settled = true;
      timer.cancel();
      stats.handshakes++;
      const c = peerCert!;
      resolve(new SecureChannel(framed, session, { nodeId: c.nodeId, role: c.role, joining: false, cert: c, publicKey: c.publicKey }, verdict.role, stats));
    };

    framed.handler = {
      frame(body) {
        if (settled) return;
        try {
          step(body);
        } catch (e) {
          fail(
            e instanceof ChannelError
              ? e
              : new ChannelError('ECHAN_PROTOCOL', `handshake with ${where} failed: ${e instanceof NoiseError ? `${e.code} ` : ''}${(e as Error).message}`),
          );
        }
      },
      bad: (err) => fail(err),
      closed: (err) => fail(new ChannelError('ECHAN_CLOSED', `${where} closed the connection during the handshake${err ? ` (${err.message})` : ''}`)),
    };
    // Message 1: our ephemeral key, empty payload.
    try {
      framed.write([hs.writeMessage()]);
    } catch (e) {
      fail(new ChannelError('ECHAN_PROTOCOL', `handshake with ${where} failed: ${(e as Error).message}`));
    }
  });
}
