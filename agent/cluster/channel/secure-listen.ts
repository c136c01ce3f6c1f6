// The responder of a 2377 channel: a manager accepting members and joiners
// (flow in protocol.ts). A failed handshake closes its stream and bumps a
// counter; nothing is thrown out of the listener.
import type { Clock, Timer } from '../../../shared/clock.js';
import { HandshakeState } from '../../../shared/crypto/noise-handshake.js';
import type { Rand } from '../../../shared/rand.js';
import type { Addr, Stream, StreamTransport } from '../../../shared/transport/types.js';
import type { CaRoot } from '../ca/ca-root.js';
import { decodeCertificate } from '../ca/certificate.js';
import type { JoinRateLimiter } from '../ca/join-rate-limiter.js';
import { roleOfJoinToken, type JoinTokens } from '../ca/join-token.js';
import { nodeIdOf, type NodeKey } from '../ca/node-key.js';
import { acceptPeer } from '../ca/peer-trust.js';
import type { RefuseReason } from './errors.js';
import { FramedStream } from './framed-stream.js';
import { decodeInitiatorHello, encodeResponderHello, encodeVerdict } from './handshake-payload.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, PROLOGUE, PROTOCOL_PATTERN } from './protocol.js';
import { SecureChannel, type SecurePeer, type SecureConn } from './secure-conn.js';
import { newChannelStats, type ChannelStats } from './stats.js';
import { TransportSession } from './transport-session.js';

export interface ListenOptions {
  key: NodeKey;
  /** This node's certificate (encoded), shown in message 2. */
  cert: Uint8Array;
  root: CaRoot;
  /** Serials revoked now (read at each handshake). */
  revoked: () => ReadonlySet<string>;
  /** The cluster's current join tokens, or undefined to accept no joiners (read at each join). */
  tokens: () => JoinTokens | undefined;
  limiter: JoinRateLimiter;
  clock: Clock;
  rand: Rand;
  /** Each accepted channel; the callee owns it (close it when done). */
  onConn: (conn: SecureConn) => void;
  timeoutMs?: number;
  stats?: ChannelStats;
  maxMessageBytes?: number;
}

export interface SecureListener {
  readonly local: Addr;
  readonly stats: ChannelStats;
  /** Stop accepting and abort handshakes in progress; open channels stay open. Idempotent. */
  close(): Promise<void>;
}

export async function secureListen(transport: StreamTransport, addr: Addr, opts: ListenOptions): Promise<SecureListener> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new RangeError(`secureListen: timeoutMs must be a positive integer, got ${timeoutMs}`);
  // Our own role is the one our certificate names; a broken certificate should fail here, not in every handshake.
  const localRole = decodeCertificate(opts.cert).role;
  const stats = opts.stats ?? newChannelStats();
  const inProgress = new Set<() => void>();
  let closing = false;

  const respond = (stream: Stream): void => {
    if (closing) {
      stream.destroy();
      return;
    }
    const framed = new FramedStream(stream);
    const hs = new HandshakeState({ pattern: PROTOCOL_PATTERN, initiator: false, prologue: PROLOGUE, s: opts.key, rand: opts.rand });
    const source = stream.remote.host;
    let done = false;
    let gotMsg1 = false;

    const finish = (): void => {
      done = true;
      timer.cancel();
      inProgress.delete(abort);
    };
    const abort = (): void => {
      if (done) return;
      finish();
      stats.handshakeFailures++;
      framed.destroy();
    };
    const timer: Timer = opts.clock.after(timeoutMs, () => {
      if (done) return;
      stats.handshakeTimeouts++;
      abort();
    });
    inProgress.add(abort);

    const refuse = (session: TransportSession, reason: RefuseReason, message: string): void => {
      finish();
      stats.handshakeFailures++;
      framed.write(session.seal(encodeVerdict({ accept: false, reason, message })));
      session.wipe();
      framed.end();
    };

    const step = (body: Uint8Array): void => {
      if (!gotMsg1) {
        hs.readMessage(body);
        gotMsg1 = true;
        framed.write([hs.writeMessage(encodeResponderHello({ cert: opts.cert, root: opts.root.bytes }))]);
        return;
      }
      const hello = decodeInitiatorHello(hs.readMessage(body));
      const rs = hs.remoteStatic!;
      const { send, recv } = hs.splitSendRecv();
      const session = new TransportSession(send, recv, opts.maxMessageBytes);
      let peer: SecurePeer;
      if (hello.kind === 'member') {
        const v = acceptPeer(opts.root, opts.revoked(), hello.cert, rs, opts.clock.wallMs());
        if (!v.ok) {
          stats.untrustedPeers++;
          refuse(session, 'untrusted-cert', v.message);
          return;
        }
        peer = { nodeId: v.cert.nodeId, role: v.cert.role, joining: false, cert: v.cert, publicKey: rs.slice() };
      } else {
        // The limit comes before the token is looked at (join-rate-limiter.ts).
        const gate = opts.limiter.check(source);
        if (!gate.ok) {
          stats.rateLimited++;
          refuse(session, 'rate-limited', gate.message);
          return;
        }
        const tokens = opts.tokens();
        if (tokens === undefined) {
          refuse(session, 'no-tokens', 'this node does not accept joiners');
          return;
        }
        const role = roleOfJoinToken(tokens, hello.token);
        if (role === undefined) {
          opts.limiter.recordFailure(source);
          stats.badTokens++;
          // Never echo the presented token: it may be a near-miss of a real secret.
          refuse(session, 'bad-token', 'invalid join token: it is neither the worker nor the manager token of this cluster');
          return;
        }
        peer = { nodeId: nodeIdOf(rs), role, joining: true, publicKey: rs.slice() };
      }
      finish();
      stats.handshakes++;
      framed.write(session.seal(encodeVerdict({ accept: true, role: peer.role })));
      opts.onConn(new SecureChannel(framed, session, peer, localRole, stats));
    };

    framed.handler = {
      frame(body) {
        if (done) return;
        try {
          step(body);
        } catch {
          // Undecodable, unauthenticated or out-of-pattern: the handshake is dead (Noise gives no second try on a stream).
          if (done) return;
          stats.badFrames++;
          abort();
        }
      },
      bad() {
        stats.badFrames++;
        abort();
      },
      closed: () => abort(),
    };
  };

  const listener = await transport.listen(addr, respond);
  return {
    local: listener.local,
    stats,
    async close() {
      closing = true;
      for (const a of [...inProgress]) a();
      await listener.close();
    },
  };
}
