// The SWIM membership core for gossip on 7946 (issue 5): a deterministic
// state machine with no I/O (STYLE habit 1), after hashicorp/memberlist and
// its Lifeguard extensions. Papers: Das, Gupta, Motivala, "SWIM: Scalable
// Weakly-consistent Infection-style Process Group Membership Protocol"
// (DSN 2002) as "SWIM §n"; Dadgar, Phillips, Currey, "Lifeguard: Local Health
// Awareness for More Accurate Failure Detection" (arXiv:1707.00788) as
// "Lifeguard".
//
// No sockets, no timers, no clock, no entropy of its own: time comes in as
// `nowMs` (monotonic milliseconds, never decreasing), randomness from the
// injected Rand, and every effect goes out through drain().
//
// THE HOST CONTRACT (the daemon's UDP/TCP shell, or a simulator):
//
//   node = new SwimNode({ id, addr: 'advertise-ip:7946', config, rand })
//   node.join(seedAddrs, now)        once; [] starts a new cluster
//   loop:
//     wait until node.nextDueMs() (or an input), then node.tick(now)
//     on a datagram:   node.receivePacket(fromAddr, bytes, now)     (never throws)
//     on a push-pull connection from `peer`: read one state, then
//                      reply = node.receivePushPull(peer, state, now); write reply
//     after EVERY call above, and after broadcast()/leave():
//       out = node.drain()
//       out.packets:    send encodePacket(p.msg) to p.to on UDP (sealed); sizes
//                       already fit udpPacketBytes - hostOverheadBytes
//       out.pushPulls:  connect TCP to x.to, write encodePushPull(x.state), read
//                       the reply, then node.receivePushPullReply(x.to, reply, now);
//                       give up silently after tcpTimeoutMs (nothing to report)
//       out.events:     membership changes, in order, for NetworkDB
//       out.userMessages: payloads of broadcast() calls made anywhere in the
//                       cluster, as they arrive (duplicates possible: the layer
//                       above dedupes and decides whether to broadcast() on)
//     and re-read nextDueMs(): an input may have moved it earlier.
//   node.leave(now); keep ticking until node.leaveSettled() (or ~1 s), then stop.
//
// Addresses are 'host:port' strings, the same text on every node. fromAddr
// is the UDP source the socket reported; replies go there.
//
// Member states: alive -> suspect -> dead, or left (said goodbye). A member
// refutes suspicion or death of itself with a higher incarnation number, and
// incarnation numbers order every statement about a member (SWIM §4.2).
import { Awareness } from './awareness.js';
import { BroadcastQueue, retransmitLimit } from './broadcast-queue.js';
import { pushPullIntervalFor, validateSwimConfig, type SwimConfig } from './config.js';
import { DeadlineHeap } from '../../../shared/deadline-heap.js';
import type { Alive, Dead, MemberState, NodeId, PushPullMember, PushPullState, SimpleMessage, Suspect, SwimMessage } from './messages.js';
import { COMPOUND_HEADER_BYTES, COMPOUND_PART_OVERHEAD_BYTES, decodePacket, encodedSize, isHostPort, MAX_COMPOUND_PARTS, MAX_ID_BYTES, utf8Length } from './packet-wire.js';
import type { MemberEventType, MemberInfo, SwimOutput, SwimStats } from './outputs.js';
import { Suspicion, suspicionMinMs } from './suspicion.js';
import type { Rand } from '../../../shared/rand.js';

export interface SwimNodeOptions {
  /** This node's id, 1..32 bytes of UTF-8, unique in the cluster. */
  id: NodeId;
  /** Where others reach this node: 'host:port' (the advertise address, port 7946). */
  addr: string;
  config: SwimConfig;
  /** Draws probe order, gossip targets and timer staggers; seededRand(seed) in tests. */
  rand: Rand;
}

interface Member {
  id: NodeId;
  addr: string;
  incarnation: number;
  state: MemberState;
  stateChangeMs: number;
  suspicion: Suspicion | undefined;
  /** Index in #deadList while state is 'dead', else -1. */
  deadIndex: number;
  /** An immutable snapshot for events, members() and push-pull, made again on every change. */
  view: MemberInfo;
}

interface ProbeRound {
  target: Member;
  seq: number;
  incarnation: number;
  indirectAtMs: number;
  endAtMs: number;
  indirectSent: boolean;
  expectedNacks: number;
  nacks: number;
}

/** A ping-req we serve: our ping's seq -> who asked, under which seq. */
interface Relay {
  seq: number;
  requester: string;
  requesterSeq: number;
  /** When to nack (if asked to), then when to stop waiting for the target's ack. */
  nackAtMs: number | undefined;
  expireAtMs: number;
}

// A relay nacks after 80% of its probe timeout: the requester sent the
// ping-req probeTimeoutMs into a round of probeIntervalMs (twice that in both
// presets), so a nack sent at the full timeout would arrive after the round
// ended and never count.
const NACK_AFTER_TIMEOUT_FRACTION = 0.8;

const SEQ_MOD = 0x1_0000_0000;

export class SwimNode {
  readonly id: NodeId;
  readonly addr: string;
  readonly #cfg: SwimConfig;
  readonly #rand: Rand;
  readonly #budget: number;
  readonly #awareness: Awareness;
  readonly #queue = new BroadcastQueue();
  readonly #members = new Map<NodeId, Member>();
  readonly #self: Member;
  /** Every member but this node, in probe order (SWIM §4.3: round-robin over a shuffled list). */
  #probeList: Member[] = [];
  #probeIndex = 0;
  #deadList: Member[] = [];
  /** Suspects whose timer ran out: probed once more, first thing next round, before they are declared dead. */
  #verify: Member[] = [];
  /** While a datagram is handled: it holds a ping, and whether another part accused this node (the ack then carries our alive). */
  #packetHasPing = false;
  #accusedInPacket = false;
  #alive = 1;
  #live = 1; // alive + suspect, this node included
  #seq = 0;
  #probe: ProbeRound | undefined;
  readonly #relays = new Map<number, Relay>();
  readonly #relayHeap = new DeadlineHeap<Relay>();
  readonly #suspicionHeap = new DeadlineHeap<{ member: Member; suspicion: Suspicion }>();
  #seeds: string[] = [];
  #started = false;
  #left = false;
  #leaveSettled = false;
  #now = -Infinity;
  #nextProbeMs = Infinity;
  #nextGossipMs = Infinity;
  #nextPushPullMs = Infinity;
  #nextReconnectMs = Infinity;
  #nextRejoinMs = Infinity;
  #out: SwimOutput = { packets: [], pushPulls: [], events: [], userMessages: [] };
  readonly #stats: SwimStats = {
    packetsIn: 0,
    packetsOut: 0,
    malformed: 0,
    misdirected: 0,
    conflicts: 0,
    probes: 0,
    probeFailures: 0,
    indirectProbes: 0,
    nacksIn: 0,
    refutes: 0,
    corrections: 0,
    verifications: 0,
    pushPullsOut: 0,
    pushPullsIn: 0,
  };

  constructor(opts: SwimNodeOptions) {
    const idBytes = typeof opts.id === 'string' ? utf8Length(opts.id) : 0;
    if (idBytes < 1 || idBytes > MAX_ID_BYTES) throw new RangeError(`SwimNode: id must be 1..${MAX_ID_BYTES} bytes of UTF-8, got ${JSON.stringify(opts.id)}`);
    if (typeof opts.addr !== 'string' || !isHostPort(opts.addr)) throw new TypeError(`SwimNode: addr must be host:port, got ${JSON.stringify(opts.addr)}`);
    validateSwimConfig(opts.config);
    this.id = opts.id;
    this.addr = opts.addr;
    this.#cfg = { ...opts.config };
    this.#rand = opts.rand;
    this.#budget = this.#cfg.udpPacketBytes - this.#cfg.hostOverheadBytes;
    this.#awareness = new Awareness(this.#cfg.awarenessMaxMultiplier);
    this.#self = newMember(this.id, this.addr, 0, 0);
    this.#members.set(this.id, this.#self);
  }

  // ---- inputs -------------------------------------------------------------

  /**
   * Start: probe, gossip and exchange state from now on, and ask each seed
   * for a push-pull. No seeds starts a cluster of one. Every timer is
   * staggered by a random fraction of its period, so nodes started together
   * do not act in lockstep.
   */
  join(seedAddrs: readonly string[], nowMs: number): void {
    this.#advance(nowMs);
    if (this.#left) throw new Error('SwimNode.join: this node has left; make a new SwimNode to come back');
    for (const a of seedAddrs) {
      if (typeof a !== 'string' || !isHostPort(a)) throw new TypeError(`SwimNode.join: seed addresses must be host:port, got ${JSON.stringify(a)}`);
    }
    this.#seeds = [...new Set(seedAddrs)].filter((a) => a !== this.addr);
    if (!this.#started) {
      this.#started = true;
      this.#self.stateChangeMs = nowMs;
      const c = this.#cfg;
      const r = this.#rand;
      this.#nextProbeMs = nowMs + r.int(c.probeIntervalMs);
      this.#nextGossipMs = nowMs + r.int(c.gossipIntervalMs);
      this.#nextPushPullMs = nowMs + r.int(c.pushPullIntervalMs);
      this.#nextReconnectMs = nowMs + r.int(c.reconnectIntervalMs);
      this.#nextRejoinMs = nowMs + c.rejoinIntervalMs;
      // memberlist setAlive: announce ourselves through our own queue too.
      this.#enqueue({ type: 'alive', incarnation: this.#self.incarnation, node: this.id, addr: this.addr }, this.id);
    }
    for (const s of this.#seeds) this.#pushPullTo(s, true);
  }

  /**
   * Say goodbye: gossip that this node left (a dead message from itself),
   * stop probing and exchanging state. Keep calling tick() until
   * leaveSettled(), so the message goes out its full number of times.
   */
  leave(nowMs: number): void {
    this.#advance(nowMs);
    if (this.#left) return;
    this.#left = true;
    this.#probe = undefined;
    this.#setState(this.#self, 'left', nowMs);
    this.#enqueue({ type: 'dead', incarnation: this.#self.incarnation, node: this.id, from: this.id }, this.id, () => {
      this.#leaveSettled = true;
    });
    if (!this.#started) {
      this.#leaveSettled = true;
      return;
    }
    this.#gossip(nowMs);
  }

  /** True once the goodbye has been gossiped as often as any broadcast is (or was replaced). */
  leaveSettled(): boolean {
    return this.#leaveSettled;
  }

  /** Do whatever is due at nowMs. Call at or after nextDueMs(); calling early is harmless. */
  tick(nowMs: number): void {
    this.#advance(nowMs);
    if (!this.#started) return;
    if (nowMs >= this.#nextGossipMs) {
      if (this.#queue.size > 0) this.#gossip(nowMs);
      this.#nextGossipMs = nextGrid(this.#nextGossipMs, this.#cfg.gossipIntervalMs, nowMs);
    }
    if (this.#left) return;
    this.#runProbe(nowMs);
    this.#expireRelays(nowMs);
    this.#expireSuspicions(nowMs);
    if (nowMs >= this.#nextPushPullMs) {
      const target = this.#randomMembers(1, (m) => m.state === 'alive')[0];
      if (target !== undefined) this.#pushPullTo(target.addr, false);
      this.#nextPushPullMs = nowMs + pushPullIntervalFor(this.#cfg.pushPullIntervalMs, this.#live);
    }
    if (nowMs >= this.#nextReconnectMs) {
      if (this.#deadList.length > 0) this.#pushPullTo(this.#deadList[this.#rand.int(this.#deadList.length)]!.addr, true);
      this.#nextReconnectMs = nowMs + this.#cfg.reconnectIntervalMs;
    }
    if (nowMs >= this.#nextRejoinMs) {
      if (this.#seeds.length > 0 && !this.#anySeedAlive()) for (const s of this.#seeds) this.#pushPullTo(s, true);
      this.#nextRejoinMs = nowMs + this.#cfg.rejoinIntervalMs;
    }
  }

  /** When tick() is next needed: Infinity before join() and after a settled leave(). */
  nextDueMs(): number {
    if (!this.#started) return Infinity;
    const gossip = this.#queue.size > 0 ? this.#nextGossipMs : Infinity;
    if (this.#left) return gossip;
    let due = Math.min(gossip, this.#nextPushPullMs, this.#nextReconnectMs, this.#nextRejoinMs, this.#relayHeap.peekMs(), this.#suspicionHeap.peekMs());
    const p = this.#probe;
    due = Math.min(due, p === undefined ? this.#nextProbeMs : p.indirectSent ? p.endAtMs : p.indirectAtMs);
    return due;
  }

  /**
   * One datagram from fromAddr: bytes as they came off the socket (after
   * unsealing), or an already decoded message (simulators). Anything that
   * does not decode is dropped and counted; this never throws.
   */
  receivePacket(fromAddr: string, packet: Uint8Array | SwimMessage, nowMs: number): void {
    this.#advance(nowMs);
    let msg: SwimMessage;
    if (packet instanceof Uint8Array) {
      try {
        msg = decodePacket(packet);
      } catch {
        this.#stats.malformed++;
        return;
      }
    } else {
      msg = packet;
    }
    this.#stats.packetsIn++;
    if (msg.type !== 'compound') {
      this.#handle(fromAddr, msg, nowMs);
      return;
    }
    // Pings are answered last, so the ack carries whatever the other parts
    // caused; a ping that came with an accusation of this node (Lifeguard's
    // buddy system) is answered with our alive in the same datagram.
    this.#accusedInPacket = false;
    this.#packetHasPing = msg.parts.some((p) => p.type === 'ping');
    for (const part of msg.parts) {
      if ((part as SwimMessage).type === 'compound') {
        this.#stats.malformed++;
        continue;
      }
      if (part.type !== 'ping') this.#handle(fromAddr, part, nowMs);
    }
    for (const part of msg.parts) if (part.type === 'ping') this.#handle(fromAddr, part, nowMs);
    this.#accusedInPacket = false;
    this.#packetHasPing = false;
  }

  /** A peer's push-pull arrived over TCP: merge it, and return our state (after the merge) to send back. */
  receivePushPull(fromAddr: string, state: PushPullState, nowMs: number): PushPullState {
    this.#advance(nowMs);
    this.#stats.pushPullsIn++;
    this.#merge(state.members, nowMs);
    return this.#localState(false);
  }

  /** The reply to a push-pull this node started (an out.pushPulls entry for `fromAddr`). */
  receivePushPullReply(fromAddr: string, state: PushPullState, nowMs: number): void {
    this.#advance(nowMs);
    this.#merge(state.members, nowMs);
  }

  /**
   * Gossip payload to the whole cluster, piggybacked on SWIM traffic and sent
   * retransmitMult·ceil(log10(N + 1)) times by this node. A key replaces a
   * still-queued payload with the same key. Throws RangeError if the payload
   * cannot fit one datagram.
   */
  broadcast(payload: Uint8Array, key?: string): void {
    if (!(payload instanceof Uint8Array) || payload.length === 0) throw new TypeError('SwimNode.broadcast: payload must be a non-empty Uint8Array');
    const msg: SimpleMessage = { type: 'user', payload };
    const max = this.#budget - COMPOUND_HEADER_BYTES - COMPOUND_PART_OVERHEAD_BYTES;
    const size = encodedSize(msg);
    if (size > max) throw new RangeError(`SwimNode.broadcast: payload must be at most ${max - 1} bytes, got ${payload.length}`);
    this.#queue.push(msg, size, key === undefined ? undefined : `user:${key}`);
    this.#catchUpGossip();
  }

  /** Take everything the host must do now; the node starts a fresh batch. */
  drain(): SwimOutput {
    const out = this.#out;
    this.#out = { packets: [], pushPulls: [], events: [], userMessages: [] };
    return out;
  }

  // ---- views --------------------------------------------------------------

  /** Every member this node knows, itself included, dead and left ones until deadRetentionMs. */
  members(): MemberInfo[] {
    return [...this.#members.values()].map(info);
  }

  member(id: NodeId): MemberInfo | undefined {
    const m = this.#members.get(id);
    return m === undefined ? undefined : info(m);
  }

  /** Members this node believes alive, itself included. */
  aliveCount(): number {
    return this.#alive;
  }

  get incarnation(): number {
    return this.#self.incarnation;
  }

  /** Lifeguard local health score: 0 is healthy; timeouts scale by score + 1. */
  get healthScore(): number {
    return this.#awareness.score;
  }

  /** Broadcasts waiting to be piggybacked. */
  get queuedBroadcasts(): number {
    return this.#queue.size;
  }

  stats(): SwimStats {
    return { ...this.#stats };
  }

  /** The current suspicion deadline of a suspect member (tests, diagnostics). */
  suspicionDeadlineMs(id: NodeId): number | undefined {
    return this.#members.get(id)?.suspicion?.deadlineMs;
  }

  // ---- failure detection (SWIM §3.1, §4.3; Lifeguard) ---------------------

  #runProbe(now: number): void {
    const p = this.#probe;
    if (p !== undefined) {
      if (!p.indirectSent && now >= p.indirectAtMs) this.#sendPingReqs(p);
      if (now >= p.endAtMs) {
        this.#probe = undefined;
        this.#probeFailed(p, now);
      }
    }
    if (this.#probe === undefined && now >= this.#nextProbeMs) {
      const interval = this.#awareness.scale(this.#cfg.probeIntervalMs);
      this.#nextProbeMs = now + interval;
      const target = this.#nextProbeTarget(now);
      if (target !== undefined) this.#startProbe(target, interval, now);
    }
  }

  #startProbe(target: Member, intervalMs: number, now: number): void {
    this.#stats.probes++;
    const seq = this.#nextSeq();
    this.#probe = {
      target,
      seq,
      incarnation: target.incarnation,
      // Lifeguard scales both the wait for the ack and the round by local
      // health (memberlist scales only the round).
      indirectAtMs: now + this.#awareness.scale(this.#cfg.probeTimeoutMs),
      endAtMs: now + intervalMs,
      indirectSent: false,
      expectedNacks: 0,
      nacks: 0,
    };
    const ping: SimpleMessage = { type: 'ping', seq, target: target.id };
    if (target.state === 'suspect') {
      // Lifeguard buddy system: tell a suspect it is suspected, so it can refute now.
      this.#send(target.addr, { type: 'compound', parts: [ping, { type: 'suspect', incarnation: target.incarnation, node: target.id, from: this.id }] });
    } else {
      this.#send(target.addr, ping);
    }
  }

  #sendPingReqs(p: ProbeRound): void {
    p.indirectSent = true;
    const target = p.target;
    const helpers = this.#randomMembers(this.#cfg.indirectChecks, (m) => m.state === 'alive' && m !== target);
    if (helpers.length > 0) this.#stats.indirectProbes++;
    for (const h of helpers) {
      p.expectedNacks++;
      this.#send(h.addr, { type: 'ping-req', seq: p.seq, target: target.id, targetAddr: target.addr, nack: true });
    }
  }

  #probeFailed(p: ProbeRound, now: number): void {
    // Lifeguard: missing nacks mean our own links are bad, not the target's.
    this.#awareness.apply(p.expectedNacks > 0 ? Math.max(0, p.expectedNacks - p.nacks) : 1);
    this.#stats.probeFailures++;
    this.#suspect({ type: 'suspect', incarnation: p.incarnation, node: p.target.id, from: this.id }, now, undefined, true);
  }

  #probeAcked(now: number): void {
    const target = this.#probe!.target;
    this.#probe = undefined;
    this.#awareness.apply(-1);
    // A suspect we were verifying answered us: it lives, and its refutation
    // (which the ack usually carries) will follow; wait for it again.
    const sus = target.suspicion;
    if (sus !== undefined && sus.expired) {
      sus.rearm(now);
      this.#suspicionHeap.push(sus.deadlineMs, { member: target, suspicion: sus });
    }
  }

  #nextProbeTarget(now: number): Member | undefined {
    while (this.#verify.length > 0) {
      const m = this.#verify.shift()!;
      if (m.state === 'suspect' && m.suspicion?.expired === true) {
        this.#stats.verifications++;
        return m;
      }
    }
    for (let checked = 0; checked <= this.#probeList.length; checked++) {
      if (this.#probeIndex >= this.#probeList.length) {
        this.#resetProbeList(now);
        this.#probeIndex = 0;
        if (this.#probeList.length === 0) return undefined;
      }
      const m = this.#probeList[this.#probeIndex++]!;
      if (m.state === 'alive' || m.state === 'suspect') return m;
    }
    return undefined;
  }

  /** At each wrap of the probe order: forget members dead or left for deadRetentionMs, reshuffle the rest. */
  #resetProbeList(now: number): void {
    const keep: Member[] = [];
    for (const m of this.#probeList) {
      if ((m.state === 'dead' || m.state === 'left') && now - m.stateChangeMs > this.#cfg.deadRetentionMs) {
        this.#setState(m, 'left', now); // only to take it off #deadList; it is forgotten next
        this.#members.delete(m.id);
      } else {
        keep.push(m);
      }
    }
    for (let i = keep.length - 1; i > 0; i--) {
      const j = this.#rand.int(i + 1);
      [keep[i], keep[j]] = [keep[j]!, keep[i]!];
    }
    this.#probeList = keep;
  }

  #expireRelays(now: number): void {
    while (this.#relayHeap.peekMs() <= now) {
      const r = this.#relayHeap.pop()!;
      if (this.#relays.get(r.seq) !== r) continue; // the target answered
      if (r.nackAtMs !== undefined) {
        r.nackAtMs = undefined;
        this.#send(r.requester, { type: 'nack', seq: r.requesterSeq });
        this.#relayHeap.push(r.expireAtMs, r);
      } else {
        this.#relays.delete(r.seq);
      }
    }
  }

  #expireSuspicions(now: number): void {
    while (this.#suspicionHeap.peekMs() <= now) {
      const { member, suspicion } = this.#suspicionHeap.pop()!;
      // Refuted, declared dead, reaped, re-armed or confirmed to an earlier deadline since.
      if (member.suspicion !== suspicion || suspicion.expired || suspicion.deadlineMs > now) continue;
      if (suspicion.confirmations >= suspicion.k) {
        // The accuser and k independent members all failed to reach it.
        this.#dead({ type: 'dead', incarnation: member.incarnation, node: member.id, from: this.id }, now);
        continue;
      }
      // Weaker evidence (one accuser, or too few confirmations): one more
      // look before a death. The suspect is probed first thing next round
      // (the probe carries the suspicion, so a live suspect answers with its
      // refutation) and declared dead only if that probe fails. This node
      // may simply have missed the refutation's epidemic: at 10% loss and
      // 1,000 members that happens a few times an hour.
      suspicion.expired = true;
      this.#verify.push(member);
    }
  }

  // ---- receiving ----------------------------------------------------------

  #handle(from: string, m: SimpleMessage, now: number): void {
    switch (m.type) {
      case 'ping':
        if (m.target !== this.id) {
          this.#stats.misdirected++;
          return;
        }
        if (this.#accusedInPacket && !this.#left) {
          this.#send(from, { type: 'compound', parts: [{ type: 'ack', seq: m.seq }, this.#selfAlive()] });
        } else {
          this.#send(from, { type: 'ack', seq: m.seq });
        }
        return;
      case 'ack': {
        const p = this.#probe;
        if (p !== undefined && p.seq === m.seq) {
          this.#probeAcked(now);
          return;
        }
        const r = this.#relays.get(m.seq);
        if (r !== undefined) {
          this.#relays.delete(m.seq);
          this.#send(r.requester, { type: 'ack', seq: r.requesterSeq });
        }
        return;
      }
      case 'nack': {
        const p = this.#probe;
        if (p !== undefined && p.seq === m.seq && p.nacks < p.expectedNacks) {
          p.nacks++;
          this.#stats.nacksIn++;
        }
        return;
      }
      case 'ping-req': {
        if (m.target === this.id || this.#left) {
          this.#stats.misdirected++;
          return;
        }
        const seq = this.#nextSeq();
        const timeout = this.#cfg.probeTimeoutMs;
        const r: Relay = { seq, requester: from, requesterSeq: m.seq, nackAtMs: m.nack ? now + Math.floor(timeout * NACK_AFTER_TIMEOUT_FRACTION) : undefined, expireAtMs: now + timeout };
        this.#relays.set(seq, r);
        this.#relayHeap.push(r.nackAtMs ?? r.expireAtMs, r);
        this.#send(m.targetAddr, { type: 'ping', seq, target: m.target });
        return;
      }
      case 'suspect':
        this.#suspect(m, now, from);
        return;
      case 'alive':
        this.#aliveMsg(m, now, from);
        return;
      case 'dead':
        this.#dead(m, now, from);
        return;
      case 'user':
        this.#out.userMessages.push({ from, payload: m.payload });
        return;
    }
  }

  // ---- membership state (memberlist aliveNode/suspectNode/deadNode) --------

  // `from` is the address a gossiped statement came from (undefined for
  // push-pull merges, whose reply already carries our view).

  #aliveMsg(a: Alive, now: number, from?: string): void {
    if (a.node === this.id) {
      if (this.#left) return;
      if (a.incarnation < this.#self.incarnation) {
        this.#correct(from, this.#self);
        return;
      }
      if (a.incarnation === this.#self.incarnation && a.addr === this.addr) return;
      // Someone holds a newer (or different) statement of us: an older life of
      // this node, or an impostor. Outbid it.
      this.#refute(a.incarnation);
      return;
    }
    let m = this.#members.get(a.node);
    if (m === undefined) {
      m = newMember(a.node, a.addr, a.incarnation, now);
      this.#members.set(m.id, m);
      this.#alive++;
      this.#live++;
      // A random position keeps the expected time to first probe it low (memberlist aliveNode).
      this.#probeList.push(m);
      const i = this.#rand.int(this.#probeList.length);
      const last = this.#probeList.length - 1;
      [this.#probeList[i], this.#probeList[last]] = [this.#probeList[last]!, this.#probeList[i]!];
      this.#enqueue(a, m.id);
      this.#emit('join', m);
      return;
    }
    let reclaimed = false;
    if (m.addr !== a.addr) {
      // A live id at a second address is a conflict; a dead or departed one
      // may come back from anywhere (a node restarted with a new address).
      if (m.state !== 'dead' && m.state !== 'left') {
        this.#stats.conflicts++;
        return;
      }
      reclaimed = true;
    }
    if (!reclaimed && a.incarnation <= m.incarnation) {
      if (a.incarnation < m.incarnation) this.#correct(from, m);
      return;
    }
    const old = m.state;
    m.suspicion = undefined;
    m.incarnation = a.incarnation;
    m.addr = a.addr;
    this.#enqueue(a, m.id);
    if (old !== 'alive') this.#setState(m, 'alive', now);
    else refresh(m);
    this.#emit(old === 'alive' ? 'update' : old === 'suspect' ? 'alive' : 'join', m);
  }

  /** ownProbe: our own probe of the member just failed. */
  #suspect(s: Suspect, now: number, from?: string, ownProbe = false): void {
    const m = this.#members.get(s.node);
    if (m === this.#self) {
      this.#accused(s.incarnation, from);
      return;
    }
    if (m === undefined) return;
    if (s.incarnation < m.incarnation) {
      this.#correct(from, m);
      return;
    }
    if (m.suspicion !== undefined) {
      if (ownProbe && m.suspicion.expired) {
        // The verification probe failed as well.
        this.#dead({ type: 'dead', incarnation: m.incarnation, node: m.id, from: this.id }, now);
        return;
      }
      // Lifeguard: an independent accuser shortens the timer; pass it on so others count it too.
      if (m.suspicion.confirm(s.from)) {
        this.#enqueue(s, m.id);
        // The deadline only ever moves earlier; the entry filed under the old one goes stale.
        this.#suspicionHeap.push(m.suspicion.deadlineMs, { member: m, suspicion: m.suspicion });
      }
      return;
    }
    if (m.state !== 'alive') return;
    this.#enqueue(s, m.id);
    m.incarnation = s.incarnation;
    this.#setState(m, 'suspect', now);
    const c = this.#cfg;
    const n = this.#live;
    // k confirmations drive the timer to its minimum; a small cluster cannot supply them.
    const k = n - 2 < c.suspicionMult - 2 ? 0 : c.suspicionMult - 2;
    const min = suspicionMinMs(c.suspicionMult, n, c.probeIntervalMs);
    const sus = new Suspicion(s.from, k, min, c.suspicionMaxTimeoutMult * min, now);
    m.suspicion = sus;
    this.#suspicionHeap.push(sus.deadlineMs, { member: m, suspicion: sus });
    this.#emit('suspect', m);
  }

  #dead(d: Dead, now: number, from?: string): void {
    const m = this.#members.get(d.node);
    if (m === this.#self) {
      this.#accused(d.incarnation, from);
      return;
    }
    if (m === undefined) return;
    if (d.incarnation < m.incarnation) {
      this.#correct(from, m);
      return;
    }
    m.suspicion = undefined;
    if (m.state === 'dead' || m.state === 'left') return;
    this.#enqueue(d, m.id);
    m.incarnation = d.incarnation;
    const left = d.node === d.from;
    this.#setState(m, left ? 'left' : 'dead', now);
    this.#emit(left ? 'leave' : 'dead', m);
  }

  /**
   * Someone says this node is suspect or dead at incarnation `inc`. A current
   * accusation is refuted. A stale one (we already outbid it) means the
   * sender missed our refutation: it is told directly. Either way a ping in
   * the same datagram is answered with our alive.
   */
  #accused(inc: number, from: string | undefined): void {
    if (this.#left) return;
    this.#accusedInPacket = true;
    if (inc >= this.#self.incarnation) this.#refute(inc);
    else if (!this.#packetHasPing) this.#correct(from, this.#self);
  }

  /**
   * The sender gossiped a statement about m older than our alive one. While
   * we are still spreading that alive ourselves the epidemic is under way
   * and will reach the sender too. Once we are done with it, a sender still
   * that far behind missed the epidemic (SWIM's reaches everyone only with
   * high probability): send it the newer statement directly, so it stops
   * spreading the stale one and drops a suspicion we know was refuted.
   */
  #correct(to: string | undefined, m: Member): void {
    if (to === undefined || m.state !== 'alive' || this.#queue.has(`m:${m.id}`)) return;
    this.#stats.corrections++;
    this.#send(to, { type: 'alive', incarnation: m.incarnation, node: m.id, addr: m.addr });
  }

  #selfAlive(): Alive {
    return { type: 'alive', incarnation: this.#self.incarnation, node: this.id, addr: this.addr };
  }

  /** Outbid an accusation at incarnation `accused`: a higher incarnation, gossiped as alive. */
  #refute(accused: number): void {
    const inc = Math.max(this.#self.incarnation + 1, accused + 1);
    this.#self.incarnation = inc;
    refresh(this.#self);
    this.#stats.refutes++;
    // Lifeguard: being asked to refute is a sign our own messages are late.
    this.#awareness.apply(1);
    this.#enqueue(this.#selfAlive(), this.id);
  }

  /** memberlist mergeState: a remote alive is news; a remote dead is only a suspicion here; left is final. */
  #merge(members: readonly PushPullMember[], now: number): void {
    for (const r of members) {
      switch (r.state) {
        case 'alive':
          this.#aliveMsg({ type: 'alive', incarnation: r.incarnation, node: r.id, addr: r.addr }, now);
          break;
        case 'left':
          this.#dead({ type: 'dead', incarnation: r.incarnation, node: r.id, from: r.id }, now);
          break;
        case 'dead':
        case 'suspect':
          this.#suspect({ type: 'suspect', incarnation: r.incarnation, node: r.id, from: this.id }, now);
          break;
      }
    }
  }

  #setState(m: Member, state: MemberState, now: number): void {
    const was = m.state;
    if (was === state) return;
    if (was === 'alive') this.#alive--;
    if (was === 'alive' || was === 'suspect') this.#live--;
    if (state === 'alive') this.#alive++;
    if (state === 'alive' || state === 'suspect') this.#live++;
    if (was === 'dead') {
      const last = this.#deadList.pop()!;
      if (last !== m) {
        this.#deadList[m.deadIndex] = last;
        last.deadIndex = m.deadIndex;
      }
      m.deadIndex = -1;
    }
    if (state === 'dead') {
      m.deadIndex = this.#deadList.length;
      this.#deadList.push(m);
    }
    m.state = state;
    m.stateChangeMs = now;
    refresh(m);
  }

  // ---- dissemination (SWIM §4.1) ------------------------------------------

  #enqueue(msg: SimpleMessage, key: string, onFinished?: () => void): void {
    this.#queue.push(msg, encodedSize(msg), `m:${key}`, onFinished);
    this.#catchUpGossip();
  }

  /** Gossip is not ticked while the queue is empty; when it fills, resume on the next grid point. */
  #catchUpGossip(): void {
    if (this.#started && this.#nextGossipMs < this.#now) this.#nextGossipMs = nextGrid(this.#nextGossipMs, this.#cfg.gossipIntervalMs, this.#now);
  }

  #gossip(now: number): void {
    const deadWindow = this.#cfg.gossipToTheDeadMs;
    const targets = this.#randomMembers(
      this.#cfg.gossipNodes,
      (m) => m.state === 'alive' || m.state === 'suspect' || (m.state === 'dead' && now - m.stateChangeMs <= deadWindow),
    );
    const limit = retransmitLimit(this.#cfg.retransmitMult, this.#live);
    for (const t of targets) {
      const msgs = this.#queue.take(COMPOUND_PART_OVERHEAD_BYTES, this.#budget - COMPOUND_HEADER_BYTES, limit, MAX_COMPOUND_PARTS);
      if (msgs.length === 0) return;
      this.#emitPacket(t.addr, msgs.length === 1 ? msgs[0]! : { type: 'compound', parts: msgs });
    }
  }

  /** Send msg, filling the rest of the datagram with queued broadcasts (memberlist sendMsg). */
  #send(to: string, msg: SwimMessage): void {
    const parts: SimpleMessage[] = msg.type === 'compound' ? [...msg.parts] : [msg];
    let used = COMPOUND_HEADER_BYTES;
    for (const p of parts) used += COMPOUND_PART_OVERHEAD_BYTES + encodedSize(p);
    if (this.#queue.size > 0 && used < this.#budget && parts.length < MAX_COMPOUND_PARTS) {
      const extra = this.#queue.take(
        COMPOUND_PART_OVERHEAD_BYTES,
        this.#budget - used,
        retransmitLimit(this.#cfg.retransmitMult, this.#live),
        MAX_COMPOUND_PARTS - parts.length,
      );
      for (const e of extra) parts.push(e);
    }
    this.#emitPacket(to, parts.length === 1 ? parts[0]! : { type: 'compound', parts });
  }

  #emitPacket(to: string, msg: SwimMessage): void {
    this.#stats.packetsOut++;
    this.#out.packets.push({ to, msg });
  }

  // ---- push-pull (anti-entropy over TCP) ----------------------------------

  #pushPullTo(addr: string, join: boolean): void {
    this.#stats.pushPullsOut++;
    this.#out.pushPulls.push({ to: addr, state: this.#localState(join) });
  }

  #localState(join: boolean): PushPullState {
    const members: PushPullMember[] = [];
    for (const m of this.#members.values()) members.push(m.view);
    return { join, members };
  }

  #anySeedAlive(): boolean {
    const seeds = new Set(this.#seeds);
    for (const m of this.#members.values()) if (m !== this.#self && m.state === 'alive' && seeds.has(m.addr)) return true;
    return false;
  }

  // ---- helpers ------------------------------------------------------------

  /** Up to k distinct random members (never this node) passing ok; memberlist kRandomNodes, 3n draws at most. */
  #randomMembers(k: number, ok: (m: Member) => boolean): Member[] {
    const list = this.#probeList;
    const n = list.length;
    const out: Member[] = [];
    for (let i = 0; i < 3 * n && out.length < k; i++) {
      const m = list[this.#rand.int(n)]!;
      if (!ok(m) || out.includes(m)) continue;
      out.push(m);
    }
    return out;
  }

  #nextSeq(): number {
    this.#seq = (this.#seq + 1) % SEQ_MOD;
    return this.#seq;
  }

  #emit(type: MemberEventType, m: Member): void {
    this.#out.events.push({ type, member: info(m) });
  }

  #advance(nowMs: number): void {
    if (typeof nowMs !== 'number' || Number.isNaN(nowMs)) throw new TypeError(`SwimNode: nowMs must be a number, got ${nowMs}`);
    if (nowMs > this.#now) this.#now = nowMs;
  }
}

function newMember(id: NodeId, addr: string, incarnation: number, now: number): Member {
  const m: Member = { id, addr, incarnation, state: 'alive', stateChangeMs: now, suspicion: undefined, deadIndex: -1, view: undefined as never };
  refresh(m);
  return m;
}

function refresh(m: Member): void {
  m.view = { id: m.id, addr: m.addr, incarnation: m.incarnation, state: m.state };
}

function info(m: Member): MemberInfo {
  return m.view;
}

/** The first point of the grid from + i·period that is after now (or `from` itself if it is still ahead). */
function nextGrid(from: number, period: number, now: number): number {
  if (from > now) return from;
  return from + (Math.floor((now - from) / period) + 1) * period;
}
