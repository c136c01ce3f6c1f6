// The encrypted overlay data path (issue 7, DESIGN §4): WireGuard-like
// sessions per (peer node, overlay network) over
// Noise_IKpsk2_25519_AESGCM_SHA256, carrying VXLAN datagrams. Pure: bytes in
// (send, receive), calls on a SecureOutput out, time from the injected Clock
// (its timers through clock.after), randomness from the injected Rand. The
// shell (data-plane.ts) routes underlay datagrams whose first byte is 1..4
// here and everything else to the forwarder.
//
// Files: wire-format.ts (layouts), handshake.ts (Noise), cookie.ts and
// load-guard.ts (DoS), keypair.ts and replay-window.ts (transport), session.ts
// (one peer on one network) with keypair-slots.ts, staged-queue.ts and
// earliest-timer.ts, records.ts, plane-input.ts, stats.ts, config.ts.
//
// Receive order, each failure one counted drop (stats.ts names them):
//   transport  length >= 32 and reserved zero ('malformed'); receiver index ours
//              ('unknown-index'); its session's peer at srcVtep ('wrong-source');
//              keypair younger than rejectAfterMs ('expired'); counter new to the
//              window and below the limit ('replay'); tag ('auth'); the plaintext a
//              VXLAN datagram ('malformed') of the session's network ('wrong-vni')
//   handshake  exact length, reserved zero ('malformed'); srcVtep a peer
//              ('not-member'); mac1 ('mac'); under load: mac2 or a cookie reply
//              ('cookie-required'), the source's rate ('rate-limited'); then by type.
//
// Data keys. setNetworkKeys lists a network's keys oldest first; a handshake
// uses the newest first and, when an attempt goes unanswered, the next older
// on each retry (a peer one rotation behind answers the second attempt). A
// newer generation is NOT used at once: each session moves to it at its next
// rekey (within rekeyAfterMs of traffic), while its keypairs keep working
// under the old PSK until replaced, so a rotation drops nothing. A generation
// that setNetworkKeys no longer lists (or lists with other bytes) tears down
// at once every keypair and handshake made with it, then is zeroed: that is
// how a node that lost a key is cut off. The rule that keeps the managers'
// keep-last-3 rotation (data-keys.ts, every 12 h) from ever cutting a live
// session: a keypair lives at most rejectAfterMs (180 s) and is made with a
// generation the initiator held, normally its newest, at most two back; a
// generation is removed two rotations (24 h) after the next one appeared.
// So only a node two rotations behind can lose a live keypair to a removal,
// and such a node is being cut off anyway.
//
// Membership. A peer is a node of setPeers (static key + VTEP): messages from
// any other VTEP, or an initiation whose static key is not the one of the peer
// at its VTEP, are 'not-member'. PeerIdentity.vnis, when given, also limits
// the networks a peer may hold sessions on. Holding the PSK is the proof of
// membership of a network; the forwarder still checks that the sender has
// endpoints there ('not-member' in forwarder.ts).
import type { Clock } from '../../../shared/clock.js';
import type { Rand } from '../../../shared/rand.js';
import type { KeyPair } from '../../../shared/crypto/noise-dh.js';
import { parseIPv4 } from '../../swarm/cidr.js';
import { VXLAN_FLAG_I, VXLAN_HEADER_BYTES, checkVni, readVni } from '../vxlan-frame.js';
import { resolveSecureConfig, type SecureConfig } from './config.js';
import { CookieChecker, equalAt } from './cookie.js';
import { checkDataKeys, checkPeers, checkStaticKey, equalBytes } from './plane-input.js';
import { consumeInitiation, HS_FAIL_UNKNOWN_PEER } from './handshake.js';
import { OPEN_EXPIRED, OPEN_OK, OPEN_REPLAY, type Keypair } from './keypair.js';
import { LoadGuard } from './load-guard.js';
import { NetworkRecord, PeerRecord, type HeldKey } from './records.js';
import { Session, TAKEN, type SessionHost } from './session.js';
import * as S from './stats.js';
import {
  COOKIE_RECEIVER_OFFSET, INDEX_LIMIT, INIT_SENDER_OFFSET, KEY_BYTES, MAX_PLAINTEXT_BYTES, MSG_COOKIE_REPLY, MSG_INITIATION, MSG_TRANSPORT,
  RESP_RECEIVER_OFFSET, RESP_SENDER_OFFSET, SECURE_OVERHEAD_BYTES, fixedLength, mac1Offset, readInitVni, readU32, reservedClear,
} from './wire-format.js';

export { SECURE_OVERHEAD_BYTES } from './wire-format.js';
export { SECURE_DROP_REASONS, type PeerState, type PeerStatus, type SecureDropReason, type SecureStats } from './stats.js';
export { defaultSecureConfig, type SecureConfig } from './config.js';

export interface SecureOutput {
  /** Put bytes [0,len) of buf on the underlay to the node at vtep (data path port). Each call gets a new buffer, never reused by the plane. */
  send(vtep: string, buf: Uint8Array, len: number): void;
  /** A decrypted VXLAN datagram (8-byte VXLAN header + inner Ethernet) of network vni from the node at srcVtep, at buf[off, off+len). */
  deliver(vni: number, srcVtep: string, buf: Uint8Array, off: number, len: number): void;
  /** Optional: a session's state changed (called once per change, never per packet). */
  onStatus?(vni: number, vtep: string, s: S.PeerStatus): void;
}

export interface PeerIdentity {
  nodeId: string;
  /** X25519 static public key. */
  publicKey: Uint8Array;
  /** Dotted IPv4: where its data path datagrams come from and go to. */
  vtep: string;
  /** Optional: the only VNIs it may hold sessions on (default: any we hold a key for). */
  vnis?: readonly number[];
}

export interface DataKey {
  generation: number;
  /** 32 bytes, the network's PSK. Copied: the caller's array is never modified. */
  key: Uint8Array;
}

const EMPTY = new Uint8Array(0);

export class SecurePlane {
  readonly #cfg: SecureConfig;
  readonly #clock: Clock;
  readonly #rand: Rand;
  readonly #out: SecureOutput;
  readonly #static: KeyPair;
  readonly #c = new Float64Array(S.COUNTERS);
  /** Peers by VTEP. */
  readonly #peers = new Map<string, PeerRecord>();
  readonly #nets = new Map<number, NetworkRecord>();
  /** Our receiver indices (below 2^30, so small-integer keys) of live keypairs, and of pending initiations. */
  readonly #keypairs = new Map<number, Keypair<Session>>();
  readonly #handshakes = new Map<number, Session>();
  readonly #cookies: CookieChecker;
  readonly #load: LoadGuard;
  readonly #host: SessionHost;
  #closed = false;

  constructor(o: { staticKey: { privateKey: Uint8Array; publicKey: Uint8Array }; clock: Clock; rand: Rand; out: SecureOutput; config?: Partial<SecureConfig> }) {
    const fn = 'SecurePlane';
    if (typeof o?.out?.send !== 'function' || typeof o.out.deliver !== 'function') throw new RangeError(`${fn}: out must have send and deliver functions`);
    const kp = checkStaticKey(fn, o.staticKey);
    this.#cfg = resolveSecureConfig(o.config);
    this.#clock = o.clock;
    this.#rand = o.rand;
    this.#out = o.out;
    this.#static = kp;
    const now = o.clock.nowMs();
    this.#cookies = new CookieChecker({ publicKey: kp.publicKey, rand: o.rand, nowMs: now, secretMs: this.#cfg.cookieSecretMs });
    this.#load = new LoadGuard(this.#cfg, now);
    const out = o.out;
    this.#host = {
      cfg: this.#cfg, clock: o.clock, rand: o.rand, staticKey: kp, c: this.#c,
      transmit: (vtep, buf, len) => {
        // Also called from timers: an exception here would surface in the clock's callback.
        try {
          out.send(vtep, buf, len);
        } catch {
          this.#c[S.SEND_ERRORS]!++;
        }
      },
      newIndex: () => this.#newIndex(),
      indexKeypair: (k) => void this.#keypairs.set(k.localIndex, k),
      indexHandshake: (i, s) => void this.#handshakes.set(i, s),
      unindex: (i) => {
        this.#keypairs.delete(i);
        this.#handshakes.delete(i);
      },
      statusChanged: (s, st) => {
        try {
          out.onStatus?.(s.vni, s.vtep, st);
        } catch {
          // a logging callback must not break the data path
        }
      },
    };
  }

  get config(): Readonly<SecureConfig> {
    return this.#cfg;
  }

  /** Nodes allowed to talk to us. A node that disappears (or whose key changes): its sessions are torn down at once. Our own key is skipped. */
  setPeers(peers: readonly PeerIdentity[]): void {
    const fn = 'setPeers';
    const next = checkPeers(fn, peers, this.#static.publicKey);
    this.#checkOpen(fn);
    // Build every new record before changing anything (a low-order key throws).
    const made = new Map<string, PeerRecord>();
    for (const [vtep, { p, vnis }] of next) {
      const old = this.#peers.get(vtep);
      if (old !== undefined && equalBytes(old.publicKey, p.publicKey)) continue;
      try {
        made.set(vtep, new PeerRecord(p.nodeId, p.publicKey, vtep, vnis, this.#static));
      } catch {
        throw new RangeError(`${fn}: the publicKey of ${p.nodeId} (${vtep}) is a low-order X25519 point`);
      }
    }
    for (const [vtep, old] of [...this.#peers]) {
      const n = next.get(vtep);
      if (n === undefined || made.has(vtep)) {
        this.#dropPeer(old);
        continue;
      }
      old.nodeId = n.p.nodeId;
      old.vnis = n.vnis;
      for (const net of this.#nets.values()) {
        const s = net.sessions.get(vtep);
        if (s !== undefined && !old.allowedOn(net.vni)) this.#closeSession(net, s, S.D_NOT_MEMBER);
      }
    }
    for (const [vtep, rec] of made) this.#peers.set(vtep, rec);
  }

  /** vni's data keys, oldest first (the newest is what new handshakes use first). Empty: no key for vni. */
  setNetworkKeys(vni: number, keys: readonly DataKey[]): void {
    const fn = 'setNetworkKeys';
    checkDataKeys(fn, vni, keys);
    this.#checkOpen(fn);
    let net = this.#nets.get(vni);
    if (net === undefined) this.#nets.set(vni, (net = new NetworkRecord(vni)));
    const old = net.keys;
    const held: HeldKey[] = [...keys]
      .sort((a, b) => a.generation - b.generation)
      .map((k) => old.find((o) => o.generation === k.generation && equalBytes(o.key, k.key)) ?? { generation: k.generation, key: Uint8Array.from(k.key) });
    const dead = old.filter((o) => !held.includes(o));
    net.keys = held;
    const now = this.#clock.nowMs();
    const gone = new Set(dead.map((k) => k.generation));
    for (const s of net.sessions.values()) {
      if (held.length === 0) s.noKey(now);
      else s.dropGenerations((g) => gone.has(g), now);
    }
    for (const k of dead) k.key.fill(0);
  }

  /** Forget vni: its sessions torn down, its keys zeroed. */
  removeNetwork(vni: number): void {
    checkVni('removeNetwork', vni);
    const net = this.#nets.get(vni);
    if (net === undefined) return;
    for (const s of [...net.sessions.values()]) this.#closeSession(net, s, S.D_NO_KEY);
    for (const k of net.keys) k.key.fill(0);
    net.keys = [];
    this.#nets.delete(vni);
  }

  /** Seal buf[0..len), a VXLAN datagram of network vni, to the node at vtep; or queue it behind a handshake. Never throws. */
  send(vni: number, vtep: string, buf: Uint8Array, len: number): void {
    const c = this.#c;
    c[S.SEND_PACKETS]!++;
    if (len >>> 0 !== len || len > buf.length || len > MAX_PLAINTEXT_BYTES) return void c[S.D_MALFORMED]!++;
    c[S.SEND_BYTES]! += len;
    if (this.#closed) return void c[S.D_CLOSED]!++;
    if (len < VXLAN_HEADER_BYTES || (buf[0]! & VXLAN_FLAG_I) === 0) return void c[S.D_MALFORMED]!++;
    if (readVni(buf) !== vni) return void c[S.D_WRONG_VNI]!++;
    const net = this.#nets.get(vni);
    if (net === undefined || net.keys.length === 0) return void c[S.D_NO_KEY]!++;
    let s = net.sessions.get(vtep);
    if (s === undefined) {
      const peer = this.#peers.get(vtep);
      if (peer === undefined) return void c[S.D_NO_PEER]!++;
      if (!peer.allowedOn(vni)) return void c[S.D_NOT_MEMBER]!++;
      net.sessions.set(vtep, (s = new Session(this.#host, net, peer)));
    }
    s.send(buf, len, this.#clock.nowMs());
  }

  /** A datagram from the underlay whose first byte is 1, 2, 3 or 4. Never throws. */
  receive(srcVtep: string, buf: Uint8Array, len: number): void {
    const c = this.#c;
    c[S.RECEIVED_PACKETS]!++;
    if (len >>> 0 !== len || len > buf.length || len === 0) return void c[S.D_MALFORMED]!++;
    c[S.RECEIVED_BYTES]! += len;
    if (this.#closed) return void c[S.D_CLOSED]!++;
    const type = buf[0]!;
    if (type === MSG_TRANSPORT) return this.#transport(srcVtep, buf, len);
    if (len !== fixedLength(type) || (type !== MSG_INITIATION && !reservedClear(buf))) return void c[S.D_MALFORMED]!++;
    const peer = this.#peers.get(srcVtep);
    if (peer === undefined) return void c[S.D_NOT_MEMBER]!++;
    if (type === MSG_COOKIE_REPLY) return this.#cookieReply(srcVtep, buf, len);
    const mac1Off = mac1Offset(type);
    if (!this.#cookies.checkMac1(buf, mac1Off)) return void c[S.D_MAC]!++;
    const now = this.#clock.nowMs();
    if (this.#load.needsCookie(srcVtep, now)) {
      if (!this.#cookies.checkMac2(buf, mac1Off, srcVtep, now)) {
        const senderOff = type === MSG_INITIATION ? INIT_SENDER_OFFSET : RESP_SENDER_OFFSET;
        const reply = this.#cookies.reply(buf, senderOff, mac1Off, srcVtep, now);
        c[S.COOKIES_SENT]!++;
        c[S.D_COOKIE_REQUIRED]!++;
        return this.#host.transmit(srcVtep, reply, reply.length);
      }
      if (!this.#load.allowProven(srcVtep, now)) return void c[S.D_RATE_LIMITED]!++;
    }
    if (type === MSG_INITIATION) this.#initiation(peer, srcVtep, buf, now);
    else this.#response(srcVtep, buf, now);
  }

  #transport(srcVtep: string, buf: Uint8Array, len: number): void {
    const c = this.#c;
    if (len < SECURE_OVERHEAD_BYTES || !reservedClear(buf)) return void c[S.D_MALFORMED]!++;
    const index = readU32(buf, 4);
    const kp = index < INDEX_LIMIT ? this.#keypairs.get(index) : undefined;
    if (kp === undefined) return void c[S.D_UNKNOWN_INDEX]!++;
    const s = kp.owner;
    if (s.vtep !== srcVtep) return void c[S.D_WRONG_SOURCE]!++;
    const now = this.#clock.nowMs();
    const why = kp.open(buf, len, now);
    if (why !== OPEN_OK) return void c[why === OPEN_REPLAY ? S.D_REPLAY : why === OPEN_EXPIRED ? S.D_EXPIRED : S.D_AUTH]!++;
    const pt = kp.plain;
    kp.plain = EMPTY;
    const n = len - SECURE_OVERHEAD_BYTES;
    if (n > 0) {
      if (n < VXLAN_HEADER_BYTES || (pt[0]! & VXLAN_FLAG_I) === 0) return void c[S.D_MALFORMED]!++;
      if (readVni(pt) !== s.vni) return void c[S.D_WRONG_VNI]!++;
    }
    s.onData(kp, n, now);
    if (n === 0) return void c[S.KEEPALIVES_RECEIVED]!++;
    c[S.DELIVERED_PACKETS]!++;
    c[S.DELIVERED_BYTES]! += n;
    this.#out.deliver(s.vni, srcVtep, pt, 0, n);
  }

  #initiation(peer: PeerRecord, srcVtep: string, buf: Uint8Array, now: number): void {
    const c = this.#c;
    const vni = readInitVni(buf);
    const net = this.#nets.get(vni);
    if (net === undefined || net.keys.length === 0) return void c[S.D_NO_KEY]!++;
    const ci = consumeInitiation(buf, this.#static, (rs) => (equalAt(rs, 0, peer.publicKey, KEY_BYTES) ? peer.ss : null));
    if (typeof ci === 'number') return void c[ci === HS_FAIL_UNKNOWN_PEER ? S.D_NOT_MEMBER : S.D_AUTH]!++;
    if (!peer.allowedOn(vni)) return void (ci.chain.wipe(), c[S.D_NOT_MEMBER]!++);
    const key = net.find(ci.generation);
    if (key === undefined) return void (ci.chain.wipe(), c[S.D_UNKNOWN_KEY]!++);
    let s = net.sessions.get(srcVtep);
    if (s === undefined) net.sessions.set(srcVtep, (s = new Session(this.#host, net, peer)));
    const r = s.onInitiation(ci, key, now);
    if (r === TAKEN) c[S.INITIATIONS_RECEIVED]!++;
    else c[r]!++;
  }

  #response(srcVtep: string, buf: Uint8Array, now: number): void {
    const c = this.#c;
    const index = readU32(buf, RESP_RECEIVER_OFFSET);
    const s = index < INDEX_LIMIT ? this.#handshakes.get(index) : undefined;
    if (s === undefined) return void c[S.D_UNKNOWN_INDEX]!++;
    if (s.vtep !== srcVtep) return void c[S.D_WRONG_SOURCE]!++;
    const r = s.onResponse(buf, now);
    if (r === TAKEN) c[S.RESPONSES_RECEIVED]!++;
    else c[r]!++;
  }

  #cookieReply(srcVtep: string, buf: Uint8Array, len: number): void {
    const c = this.#c;
    const index = readU32(buf, COOKIE_RECEIVER_OFFSET);
    const s = index >= INDEX_LIMIT ? undefined : (this.#handshakes.get(index) ?? this.#keypairs.get(index)?.owner);
    if (s === undefined) return void c[S.D_UNKNOWN_INDEX]!++;
    if (s.vtep !== srcVtep) return void c[S.D_WRONG_SOURCE]!++;
    const r = s.onCookieReply(index, buf, len, this.#clock.nowMs());
    if (r === TAKEN) c[S.COOKIES_RECEIVED]!++;
    else c[r]!++;
  }

  /** Totals and drops by reason. */
  stats(): S.SecureStats {
    let queued = 0;
    for (const net of this.#nets.values()) for (const s of net.sessions.values()) queued += s.queued;
    return S.snapshotStats(this.#c, queued);
  }

  /** The sessions of vni (peers we have talked to on it), by VTEP address. */
  status(vni: number): S.PeerStatus[] {
    checkVni('status', vni);
    const net = this.#nets.get(vni);
    if (net === undefined) return [];
    const now = this.#clock.nowMs();
    return [...net.sessions.values()].sort((a, b) => parseIPv4(a.vtep)! - parseIPv4(b.vtep)!).map((s) => s.status(now));
  }

  /** Cancels every timer and zeroes every key; afterwards every input is dropped as 'closed'. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const vni of [...this.#nets.keys()]) {
      const net = this.#nets.get(vni)!;
      for (const s of [...net.sessions.values()]) this.#closeSession(net, s, S.D_CLOSED);
      for (const k of net.keys) k.key.fill(0);
      net.keys = [];
    }
    this.#nets.clear();
    for (const p of this.#peers.values()) p.wipe();
    this.#peers.clear();
    this.#cookies.wipe();
    this.#static.privateKey.fill(0);
  }

  #checkOpen(fn: string): void {
    if (this.#closed) throw new RangeError(`${fn}: the secure plane is closed`);
  }

  #newIndex(): number {
    for (;;) {
      const i = this.#rand.u32() >>> 2; // below INDEX_LIMIT
      if (!this.#keypairs.has(i) && !this.#handshakes.has(i)) return i;
    }
  }

  #dropPeer(p: PeerRecord): void {
    for (const net of this.#nets.values()) {
      const s = net.sessions.get(p.vtep);
      if (s !== undefined) this.#closeSession(net, s, S.D_NO_PEER);
    }
    this.#load.forget(p.vtep);
    this.#peers.delete(p.vtep);
    p.wipe();
  }

  #closeSession(net: NetworkRecord, s: Session, queuedDrop: number): void {
    s.close(queuedDrop);
    net.sessions.delete(s.vtep);
  }
}
