// One session: this node and one peer on one overlay network (DESIGN §4).
// It holds WireGuard's three keypair slots, the initiator side of a running
// handshake, the datagrams queued while it runs, and the timers of the
// WireGuard paper §6 (wireguard-go device/timers.go), all on the injected
// clock. The plane (secure-plane.ts) parses messages and finds the session;
// this object decides.
//
// Keys live in three slots (keypair-slots.ts): we seal with current; the
// responder's new keypair waits in next until the first packet under it. The
// initiator confirms new keys at once: staged datagrams, or a keepalive.
//
// Timers (one clock timer per session, armed at the earliest deadline and
// re-armed only when a deadline moves earlier, so the per-packet path only
// writes numbers):
//   retry      handshakeRetryMs + jitter after an initiation without response: send
//              another (a new ephemeral, a new index, and the next older data key
//              generation, so a peer one rotation behind still answers); giveUpMs
//              after the first: give up ('failed'), drop the queue
//   keepalive  keepaliveMs after a datagram arrived, if we sent nothing since
//   new hs     keepaliveMs + handshakeRetryMs after we sent a datagram, if nothing
//              (not even a keepalive) came back: start a handshake
//   wipe       wipeAfterMs after the last keypair was made: erase every key
// and checks on the packet path: an initiator rekeys on send when its keypair
// is rekeyAfterMs old, either side when it has sealed rekeyAfterMessages, and
// an initiator on receive when its keypair is rejectAfter - keepalive - retry
// old (so a responder-only flow is rekeyed before it stops).
import type { Clock } from '../../../shared/clock.js';
import type { Rand } from '../../../shared/rand.js';
import { generateKeypair, type KeyPair } from '../../../shared/crypto/noise-dh.js';
import type { SecureConfig } from './config.js';
import { openCookieReply, writeMacs } from './cookie.js';
import {
  compareTimestamps, consumeResponse, createInitiation, createResponse, nextTimestamp, wipeInitiator, type ConsumedInitiation, type InitiatorHandshake,
  type SessionKeys,
} from './handshake.js';
import { Keypair } from './keypair.js';
import { EarliestTimer } from './earliest-timer.js';
import { KeypairSlots } from './keypair-slots.js';
import { StagedQueue } from './staged-queue.js';
import type { HeldKey, NetworkRecord, PeerRecord } from './records.js';
import {
  D_AUTH, D_GAVE_UP, D_NO_KEY, D_REPLAY, D_UNKNOWN_INDEX, D_UNKNOWN_KEY, HANDSHAKES, INITIATIONS_SENT, KEEPALIVES_SENT, RESPONSES_SENT, SEALED_BYTES,
  SEALED_PACKETS, type PeerState, type PeerStatus,
} from './stats.js';
import { INIT_MAC1_OFFSET, INITIATION_BYTES, RESP_MAC1_OFFSET, RESPONSE_BYTES, SECURE_OVERHEAD_BYTES } from './wire-format.js';

/** What a session needs from its plane. */
export interface SessionHost {
  readonly cfg: SecureConfig;
  readonly clock: Clock;
  readonly rand: Rand;
  readonly staticKey: KeyPair;
  /** The plane's counters (stats.ts). */
  readonly c: Float64Array;
  /** Onto the underlay (SecureOutput.send). */
  transmit(vtep: string, buf: Uint8Array, len: number): void;
  /** A fresh local index (unique among keypairs and handshakes). */
  newIndex(): number;
  indexKeypair(kp: Keypair<Session>): void;
  indexHandshake(index: number, s: Session): void;
  unindex(index: number): void;
  statusChanged(s: Session, st: PeerStatus): void;
}

/** Returned by the on* methods when the message was taken. */
export const TAKEN = -1;
const EMPTY = new Uint8Array(0);
const TX_BYTES = 0;
const TX_PACKETS = 1;
const RX_BYTES = 2;
const RX_PACKETS = 3;

export class Session {
  readonly vni: number;
  readonly vtep: string;
  readonly peer: PeerRecord;
  readonly net: NetworkRecord;
  readonly slots: KeypairSlots<Session>;
  /** tx bytes, tx packets, rx bytes, rx packets (VXLAN datagrams, keepalives not counted). */
  readonly c = new Float64Array(4);
  handshakes = 0;
  lastHandshakeWallMs: number | null = null;
  readonly #h: SessionHost;
  #hs: InitiatorHandshake | null = null;
  #hsStartedMs = 0;
  #attempts = 0;
  #failed: string | null = null;
  #lastSentTimestamp: Uint8Array | null = null;
  #lastInitTimestamp: Uint8Array | null = null;
  #lastMac1: Uint8Array | null = null;
  #lastMac1Index = -1;
  readonly #queue: StagedQueue;
  #retryAtMs = Infinity;
  #keepaliveAtMs = Infinity;
  #newHandshakeAtMs = Infinity;
  #wipeAtMs = Infinity;
  readonly #timer: EarliestTimer;
  #notified: PeerState | null = null;
  #closed = false;

  constructor(host: SessionHost, net: NetworkRecord, peer: PeerRecord) {
    this.#h = host;
    this.net = net;
    this.peer = peer;
    this.vni = net.vni;
    this.vtep = peer.vtep;
    this.slots = new KeypairSlots<Session>((kp) => host.unindex(kp.localIndex));
    this.#queue = new StagedQueue(host.cfg.queuePackets, host.c);
    this.#timer = new EarliestTimer(host.clock, () => this.#tick());
  }

  get queued(): number {
    return this.#queue.length;
  }

  // ---- packet path -------------------------------------------------------------------------

  /** Seal and send buf[0..len), or queue it and start a handshake. */
  send(buf: Uint8Array, len: number, nowMs: number): void {
    const kp = this.slots.current;
    if (kp !== null && kp.canSend(nowMs)) {
      this.#sendOn(kp, buf, len, nowMs);
      if (this.#hs === null && kp.wantsRekey(nowMs)) this.#initiate(nowMs, false);
      return;
    }
    this.#queue.push(buf, len);
    if (this.#hs === null) this.#initiate(nowMs, false);
  }

  /** A transport message under kp opened (n plaintext bytes, 0 = keepalive); the plane delivers it. */
  onData(kp: Keypair<Session>, n: number, nowMs: number): void {
    if (kp === this.slots.next) this.#confirm(nowMs);
    this.#newHandshakeAtMs = Infinity; // heard from the peer
    if (n > 0) {
      this.c[RX_BYTES]! += n;
      this.c[RX_PACKETS]!++;
      if (this.#keepaliveAtMs === Infinity) this.#arm((this.#keepaliveAtMs = nowMs + this.#h.cfg.keepaliveMs));
    }
    const cfg = this.#h.cfg;
    if (kp === this.slots.current && kp.isInitiator && this.#hs === null && nowMs - kp.createdMs >= cfg.rejectAfterMs - cfg.keepaliveMs - cfg.handshakeRetryMs) {
      this.#initiate(nowMs, false);
    }
  }

  #sendOn(kp: Keypair<Session>, buf: Uint8Array, len: number, nowMs: number): void {
    const msg = kp.seal(buf, len);
    const c = this.#h.c;
    if (len > 0) {
      c[SEALED_PACKETS]!++;
      c[SEALED_BYTES]! += len;
      this.c[TX_PACKETS]!++;
      this.c[TX_BYTES]! += len;
      if (this.#newHandshakeAtMs === Infinity) this.#arm((this.#newHandshakeAtMs = nowMs + this.#h.cfg.keepaliveMs + this.#h.cfg.handshakeRetryMs));
    } else c[KEEPALIVES_SENT]!++;
    this.#keepaliveAtMs = Infinity;
    this.#h.transmit(this.vtep, msg, len + SECURE_OVERHEAD_BYTES);
  }

  /** Seal what is queued with current; with nothing queued, a keepalive if asked (the initiator confirming new keys). */
  #flush(nowMs: number, keepaliveIfEmpty: boolean): void {
    const kp = this.slots.current;
    if (kp === null || !kp.canSend(nowMs)) return;
    const q = this.#queue.take();
    if (q.length === 0 && keepaliveIfEmpty) this.#sendOn(kp, EMPTY, 0, nowMs);
    for (let i = 0; i < q.length; i++) {
      if (!kp.canSend(nowMs)) {
        // The message limit ran out mid-queue (only with tiny test limits): the rest waits for new keys.
        this.#queue.putBack(q.slice(i));
        if (this.#hs === null) this.#initiate(nowMs, false);
        return;
      }
      this.#sendOn(kp, q[i]!, q[i]!.length, nowMs);
    }
  }

  // ---- handshakes ----------------------------------------------------------------------------

  #initiate(nowMs: number, retry: boolean): void {
    const keys = this.net.keys;
    if (keys.length === 0 || this.#closed) return;
    const h = this.#h;
    if (!retry) {
      this.#hsStartedMs = nowMs;
      this.#attempts = 0;
      this.#failed = null;
    }
    this.#dropHandshake();
    const held = keys[keys.length - 1 - (this.#attempts % keys.length)]!;
    const index = h.newIndex();
    const timestamp = nextTimestamp(this.#lastSentTimestamp, h.clock.wallMs());
    this.#lastSentTimestamp = timestamp;
    const r = createInitiation({
      vni: this.vni, localIndex: index, s: h.staticKey, rs: this.peer.publicKey, ss: this.peer.ss, timestamp, generation: held.generation, e: generateKeypair(h.rand),
    });
    if (typeof r === 'number') return; // only a low-order peer key, which setPeers refuses
    this.#hs = r.hs;
    h.indexHandshake(index, this);
    this.#attempts++;
    this.#lastMac1 = writeMacs(r.msg, INIT_MAC1_OFFSET, this.peer.mac1Key, this.peer.freshCookie(nowMs, h.cfg.cookieSecretMs));
    this.#lastMac1Index = index;
    this.#arm((this.#retryAtMs = nowMs + h.cfg.handshakeRetryMs + h.rand.int(h.cfg.handshakeJitterMs + 1)));
    this.#keepaliveAtMs = Infinity;
    h.c[INITIATIONS_SENT]!++;
    h.transmit(this.vtep, r.msg, INITIATION_BYTES);
    this.#refresh(nowMs);
  }

  /** Responder: an initiation for this session that the plane has read; key is the generation it names. */
  onInitiation(ci: ConsumedInitiation, key: HeldKey, nowMs: number): number {
    if (this.#lastInitTimestamp !== null && compareTimestamps(ci.timestamp, this.#lastInitTimestamp) <= 0) {
      ci.chain.wipe();
      return D_REPLAY;
    }
    const h = this.#h;
    const e = generateKeypair(h.rand);
    const index = h.newIndex();
    const r = createResponse(ci, { localIndex: index, psk: key.key, e });
    e.privateKey.fill(0);
    if (typeof r === 'number') return D_AUTH;
    this.#lastInitTimestamp = ci.timestamp;
    const kp = keypair({ localIndex: index, remoteIndex: ci.senderIndex, isInitiator: false, nowMs, generation: key.generation, owner: this, keys: r.keys, cfg: h.cfg });
    h.indexKeypair(kp);
    this.slots.installResponder(kp);
    this.#derived(nowMs);
    this.#lastMac1 = writeMacs(r.msg, RESP_MAC1_OFFSET, this.peer.mac1Key, this.peer.freshCookie(nowMs, h.cfg.cookieSecretMs));
    this.#lastMac1Index = index;
    this.#newHandshakeAtMs = Infinity;
    this.#keepaliveAtMs = Infinity;
    h.c[RESPONSES_SENT]!++;
    h.transmit(this.vtep, r.msg, RESPONSE_BYTES);
    this.#refresh(nowMs);
    return TAKEN;
  }

  /** Initiator: a response whose receiver index is our pending handshake's. */
  onResponse(msg: Uint8Array, nowMs: number): number {
    const hs = this.#hs;
    if (hs === null) return D_UNKNOWN_INDEX;
    const key = this.net.find(hs.generation);
    if (key === undefined) return D_UNKNOWN_KEY; // not reached: dropping a generation aborts its handshakes
    const r = consumeResponse(msg, hs, this.#h.staticKey, key.key);
    if (typeof r === 'number') return D_AUTH;
    const h = this.#h;
    this.#dropHandshake(); // its index becomes the keypair's
    const kp = keypair({ localIndex: hs.localIndex, remoteIndex: r.senderIndex, isInitiator: true, nowMs, generation: hs.generation, owner: this, keys: r.keys, cfg: h.cfg });
    h.indexKeypair(kp);
    this.slots.installInitiator(kp);
    this.#completed();
    this.#derived(nowMs);
    this.#newHandshakeAtMs = Infinity;
    this.#flush(nowMs, true);
    this.#refresh(nowMs);
    return TAKEN;
  }

  /** A cookie reply to the handshake message we sent with this sender index. */
  onCookieReply(index: number, msg: Uint8Array, len: number, nowMs: number): number {
    if (index !== this.#lastMac1Index || this.#lastMac1 === null) return D_UNKNOWN_INDEX;
    const cookie = openCookieReply(msg, len, this.peer.cookieReplyKey, this.#lastMac1);
    if (cookie === null) return D_AUTH;
    this.peer.cookie?.fill(0);
    this.peer.cookie = cookie;
    this.peer.cookieSetMs = nowMs;
    this.#lastMac1 = null; // one reply per message
    return TAKEN; // the next retry carries mac2 (as WireGuard: no immediate resend)
  }

  /** Responder: the first packet under next arrived. */
  #confirm(nowMs: number): void {
    this.slots.confirm();
    this.#completed();
    this.#flush(nowMs, false);
    this.#refresh(nowMs);
  }

  #completed(): void {
    this.handshakes++;
    this.lastHandshakeWallMs = this.#h.clock.wallMs();
    this.#h.c[HANDSHAKES]!++;
    this.#failed = null;
  }

  #derived(nowMs: number): void {
    this.#wipeAtMs = nowMs + this.#h.cfg.wipeAfterMs;
    this.#arm(this.#wipeAtMs);
  }

  #giveUp(nowMs: number): void {
    const n = this.#attempts;
    this.#dropHandshake();
    this.#failed = `no handshake response from ${this.vtep} in ${Math.round((nowMs - this.#hsStartedMs) / 1000)} s (${n} initiation${n === 1 ? '' : 's'})`;
    this.#queue.drop(D_GAVE_UP);
    this.#keepaliveAtMs = Infinity;
    if (this.#wipeAtMs === Infinity) this.#arm((this.#wipeAtMs = nowMs + this.#h.cfg.wipeAfterMs));
    this.#refresh(nowMs);
  }

  // ---- control path --------------------------------------------------------------------------

  /** Tear down keypairs and the handshake of generations that dead() says are gone (a key removed or changed). */
  dropGenerations(dead: (generation: number) => boolean, nowMs: number): void {
    this.slots.retireWhere((kp) => dead(kp.generation));
    if (this.#hs !== null && dead(this.#hs.generation)) {
      this.#dropHandshake();
      // Datagrams are waiting: start again with the keys we still hold.
      if (this.#queue.length > 0) this.#initiate(nowMs, false);
    }
    this.#refresh(nowMs);
  }

  /** The network's keys are all gone: nothing can be sealed or opened. */
  noKey(nowMs: number): void {
    this.#wipeKeys();
    this.#queue.drop(D_NO_KEY);
    this.#refresh(nowMs);
  }

  /** The peer or the network went, or the plane closed: erase everything, stop the timer. */
  close(queuedDrop: number): void {
    this.#closed = true;
    this.#wipeKeys();
    this.#queue.drop(queuedDrop);
    this.#lastInitTimestamp = null;
    this.#timer.close();
  }

  status(nowMs: number): PeerStatus {
    const [state, reason] = this.#state(nowMs);
    const c = this.c;
    const st: PeerStatus = {
      nodeId: this.peer.nodeId, vtep: this.vtep, state, reason, lastHandshakeWallMs: this.lastHandshakeWallMs,
      txBytes: c[TX_BYTES]!, rxBytes: c[RX_BYTES]!, txPackets: c[TX_PACKETS]!, rxPackets: c[RX_PACKETS]!, handshakes: this.handshakes,
    };
    if (this.slots.current !== null) st.generation = this.slots.current.generation;
    return st;
  }

  #state(nowMs: number): [PeerState, string] {
    if (this.net.keys.length === 0) return ['no-key', `this node holds no data key for network ${this.vni}`];
    const { current, next } = this.slots;
    if (current !== null && current.canSend(nowMs)) return ['up', ''];
    if (this.#failed !== null) return ['failed', this.#failed];
    if (this.#hs !== null) return ['handshaking', `initiation ${this.#attempts} sent, no response yet`];
    if (next !== null) return ['handshaking', 'responded; waiting for the first packet under the new keys'];
    if (this.lastHandshakeWallMs !== null) return ['up', 'idle: keys expired or erased; the next datagram starts a handshake'];
    return ['handshaking', 'no handshake yet'];
  }

  #refresh(nowMs: number): void {
    if (this.#closed) return;
    const st = this.status(nowMs);
    if (st.state === this.#notified) return;
    this.#notified = st.state;
    this.#h.statusChanged(this, st);
  }

  // ---- timers and teardown -----------------------------------------------------------------

  #arm(atMs: number): void {
    this.#timer.arm(atMs);
  }

  #tick(): void {
    const cfg = this.#h.cfg;
    const now = this.#h.clock.nowMs();
    if (now >= this.#retryAtMs) {
      this.#retryAtMs = Infinity;
      if (this.#hs !== null) {
        if (now - this.#hsStartedMs >= cfg.giveUpMs) this.#giveUp(now);
        else this.#initiate(now, true);
      }
    }
    if (now >= this.#keepaliveAtMs) {
      this.#keepaliveAtMs = Infinity;
      const kp = this.slots.current;
      if (kp !== null && kp.canSend(now)) this.#sendOn(kp, EMPTY, 0, now);
    }
    if (now >= this.#newHandshakeAtMs) {
      this.#newHandshakeAtMs = Infinity;
      if (this.#hs === null) this.#initiate(now, false);
    }
    if (now >= this.#wipeAtMs) {
      this.#wipeAtMs = Infinity;
      this.#wipeKeys();
      this.#refresh(now);
    }
    this.#arm(Math.min(this.#retryAtMs, this.#keepaliveAtMs, this.#newHandshakeAtMs, this.#wipeAtMs));
  }

  #dropHandshake(): void {
    const hs = this.#hs;
    if (hs === null) return;
    this.#h.unindex(hs.localIndex);
    wipeInitiator(hs);
    this.#hs = null;
    this.#retryAtMs = Infinity;
  }

  #wipeKeys(): void {
    this.slots.retireAll();
    this.#dropHandshake();
    this.#lastMac1?.fill(0);
    this.#lastMac1 = null;
    this.#lastMac1Index = -1;
  }
}

/** A keypair over keys from Split(), which are zeroed once copied into it. */
function keypair(o: { localIndex: number; remoteIndex: number; isInitiator: boolean; nowMs: number; generation: number; owner: Session; keys: SessionKeys; cfg: SecureConfig }): Keypair<Session> {
  const kp = new Keypair<Session>({ ...o, send: o.keys.send, recv: o.keys.recv });
  o.keys.send.fill(0);
  o.keys.recv.fill(0);
  return kp;
}
