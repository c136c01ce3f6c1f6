// The gossip plane of one node (issue 5, DESIGN §1-2): the thin shell that
// runs the SWIM core (swim/) and NetworkDB (networkdb/) on UDP and TCP 7946,
// every packet and frame sealed with the cluster's gossip keyring
// (sealed-packet.ts), on an injected clock (one timer at the cores' next due
// time). Layout of what goes inside the sealing: gossip-wire.ts.
//
// Bad input is dropped and counted (stats, ring.drops, the cores' stats),
// never thrown and never logged per packet.
import type { Clock, Timer } from '../../shared/clock.js';
import type { Rand } from '../../shared/rand.js';
import { addrKey, type Addr, type DatagramSocket, type DatagramTransport, type Stream, type StreamListener, type StreamTransport } from '../../shared/transport/types.js';
import { encodeFrame, FrameReader } from '../../shared/wire/frame.js';
import type { Logger } from '../daemon/log.js';
import { GossipKeyring, type GossipKey } from './keyring.js';
import { open, seal } from './sealed-packet.js';
import { NETWORK_DB_HOST_BYTES, PLANE, readSender, STREAM_KIND, withSender } from './gossip-wire.js';
import { decodePushPull, encodePacket, encodePushPull, SwimNode, type MemberInfo, type SwimConfig } from './swim/index.js';
import { NetworkDb, type EntryView, type NetworkDbConfig, type TableEvent } from './networkdb/index.js';

export const GOSSIP_PORT = 7946;
/** Largest sealed stream frame: a push-pull of a few thousand members, a bulk sync of a big table. */
const MAX_STREAM_FRAME_BYTES = 16 << 20;

export interface GossipNodeOptions {
  nodeId: string;
  /** The address others reach this node's 7946 at (the advertise host). */
  advertiseHost: string;
  /** Where to bind (the listen host, usually 0.0.0.0). */
  bindHost: string;
  port?: number;
  udp: DatagramTransport;
  tcp: StreamTransport;
  clock: Clock;
  rand: Rand;
  keys: readonly GossipKey[];
  swim: SwimConfig;
  networkDb: NetworkDbConfig;
  log: Logger;
  /** Dial and per-exchange timeout of 7946/tcp. */
  tcpTimeoutMs?: number;
}

export interface GossipStats {
  /** Datagrams or frames that opened but whose plane, kind or sender did not decode. */
  malformed: number;
  /** Streams that failed (dial, timeout, frame too large, closed early). */
  streamFailures: number;
  packetsOut: number;
  packetsIn: number;
}

export class GossipNode {
  readonly stats: GossipStats = { malformed: 0, streamFailures: 0, packetsOut: 0, packetsIn: 0 };
  readonly ring: GossipKeyring;
  readonly swim: SwimNode;
  readonly db: NetworkDb;
  readonly #o: GossipNodeOptions;
  readonly #addr: string;
  readonly #port: number;
  readonly #streams = new Set<Stream>();
  readonly #watchers = new Set<(e: TableEvent) => void>();
  #udp: DatagramSocket | undefined;
  #tcp: StreamListener | undefined;
  #timer: Timer | undefined;
  #timerAt = Infinity;
  #closed = false;
  #sealFailed = false;
  #incarnation = 0;

  private constructor(o: GossipNodeOptions) {
    this.#o = o;
    this.#port = o.port ?? GOSSIP_PORT;
    this.#addr = `${o.advertiseHost}:${this.#port}`;
    this.ring = new GossipKeyring(o.keys, { rand: o.rand });
    const now = o.clock.nowMs();
    this.swim = new SwimNode({ id: o.nodeId, addr: this.#addr, config: { ...o.swim, hostOverheadBytes: o.swim.hostOverheadBytes + 1 }, rand: o.rand.fork() });
    this.db = new NetworkDb({
      nodeId: o.nodeId,
      config: { ...o.networkDb, packetBudgetBytes: Math.min(o.networkDb.packetBudgetBytes, (o.swim.udpPacketBytes ?? 1400) - 33 - NETWORK_DB_HOST_BYTES) },
      rand: o.rand.fork(),
      nowMs: now,
    });
  }

  /** Bind 7946 (UDP and TCP) and join through the seeds (host:port of other nodes' 7946). */
  static async start(o: GossipNodeOptions, seeds: readonly string[]): Promise<GossipNode> {
    const g = new GossipNode(o);
    const bind: Addr = { host: o.bindHost, port: g.#port };
    g.#udp = await o.udp.bind(bind);
    try {
      g.#tcp = await o.tcp.listen(bind, (s) => g.#accept(s));
    } catch (e) {
      await g.#udp.close();
      throw e;
    }
    g.#udp.onMessage((d, from) => g.#datagram(d, from));
    g.swim.join(seeds.filter((s) => s !== g.#addr), o.clock.nowMs());
    g.#incarnation = g.swim.incarnation;
    g.db.announce(o.clock.nowMs());
    g.#pump();
    return g;
  }

  get addr(): string {
    return this.#addr;
  }

  /** A new keyring from the dispatcher. */
  setKeys(keys: readonly GossipKey[]): void {
    if (keys.length === 0) return;
    this.ring.set(keys);
    this.#sealFailed = false;
  }

  /** Seeds changed (the managers moved): join through them again; harmless when already in. */
  rejoin(seeds: readonly string[]): void {
    if (this.#closed) return;
    this.swim.join(seeds.filter((s) => s !== this.#addr), this.#o.clock.nowMs());
    this.#pump();
  }

  members(): MemberInfo[] {
    return this.swim.members();
  }

  // ---- NetworkDB, for the planes above and the diagnostic API ------------------------

  attach(nid: string, endpointId: string): boolean {
    const r = this.db.attachEndpoint(nid, endpointId, this.#o.clock.nowMs());
    this.#pump();
    return r;
  }
  detach(nid: string, endpointId: string): boolean {
    const r = this.db.detachEndpoint(nid, endpointId, this.#o.clock.nowMs());
    this.#pump();
    return r;
  }
  put(nid: string, table: string, key: string, value: Uint8Array): void {
    const now = this.#o.clock.nowMs();
    if (this.db.get(nid, table, key)) this.db.updateEntry(nid, table, key, value, now);
    else this.db.createEntry(nid, table, key, value, now);
    this.#pump();
  }
  remove(nid: string, table: string, key: string): void {
    this.db.deleteEntry(nid, table, key, this.#o.clock.nowMs());
    this.#pump();
  }
  entries(nid: string, table: string): EntryView[] {
    return this.db.entries(nid, table);
  }
  watch(cb: (e: TableEvent) => void): () => void {
    this.#watchers.add(cb);
    return () => this.#watchers.delete(cb);
  }

  /** Say goodbye (gossiped for up to graceMs), then close the sockets. */
  async close(graceMs = 1_000): Promise<void> {
    if (this.#closed) return;
    this.swim.leave(this.#o.clock.nowMs());
    this.#pump();
    const end = this.#o.clock.nowMs() + graceMs;
    while (!this.swim.leaveSettled() && this.#o.clock.nowMs() < end) {
      await new Promise<void>((r) => this.#o.clock.after(50, r));
      this.swim.tick(this.#o.clock.nowMs());
      this.#pump();
    }
    this.#closed = true;
    this.#timer?.cancel();
    for (const s of this.#streams) s.destroy();
    await this.#tcp?.close();
    await this.#udp?.close();
  }

  // ---- the shell ----------------------------------------------------------------------

  /** Hand every output of the cores to the network, then arm the timer for their next due time. */
  #pump(): void {
    if (this.#closed) return;
    const now = this.#o.clock.nowMs();
    // SWIM refuted a suspicion or death of this node: re-assert what we own (NetworkDB's host contract).
    if (this.swim.incarnation !== this.#incarnation) {
      this.#incarnation = this.swim.incarnation;
      this.db.announce(now);
    }
    for (let round = 0; round < 8; round++) {
      const s = this.swim.drain();
      for (const p of s.packets) this.#sendPlain(p.to, concat(PLANE.swim, encodePacket(p.msg)));
      for (const x of s.pushPulls) void this.#pushPull(x.to, encodePushPull(x.state, this.db.localState()));
      for (const e of s.events) {
        if (e.member.id === this.#o.nodeId) continue;
        if (e.type === 'dead') this.db.nodeDead(e.member.id, now);
        else if (e.type === 'leave') this.db.nodeLeft(e.member.id, now);
        else if (e.type !== 'suspect') this.db.nodeAlive(e.member.id, now);
      }
      for (const u of s.userMessages) {
        const m = readSender(u.payload, 0);
        if (!m) this.stats.malformed++;
        else if (m.id !== this.#o.nodeId) this.db.receive(m.id, m.body, now);
      }
      const d = this.db.takeOutput();
      for (const b of d.broadcasts) this.swim.broadcast(withSender([], this.#o.nodeId, b.bytes), b.key);
      for (const x of d.sends) {
        const to = this.swim.member(x.to);
        if (!to || to.state === 'dead' || to.state === 'left') continue;
        if (x.reliable) void this.#bulkSync(to.addr, x.bytes);
        else this.#sendPlain(to.addr, withSender([PLANE.networkDb], this.#o.nodeId, x.bytes));
      }
      for (const e of d.events) for (const w of this.#watchers) w(e);
      const more = s.packets.length + s.pushPulls.length + s.events.length + s.userMessages.length + d.broadcasts.length + d.sends.length + d.events.length;
      if (more === 0) break;
    }
    this.#arm();
  }

  #arm(): void {
    const due = Math.min(this.swim.nextDueMs(), this.db.nextDueMs());
    if (due === this.#timerAt && this.#timer) return;
    this.#timer?.cancel();
    this.#timerAt = due;
    if (!Number.isFinite(due)) return;
    this.#timer = this.#o.clock.after(Math.max(0, due - this.#o.clock.nowMs()), () => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      if (this.#closed) return;
      const now = this.#o.clock.nowMs();
      this.swim.tick(now);
      this.db.tick(now);
      this.#pump();
    });
  }

  #sendPlain(to: string, plain: Uint8Array): void {
    const addr = hostPort(to);
    if (!addr || !this.#udp) return;
    const sealed = this.#seal(plain);
    if (!sealed) return;
    this.stats.packetsOut++;
    this.#udp.send(sealed, addr);
  }

  #seal(plain: Uint8Array): Uint8Array | undefined {
    try {
      return seal(this.ring, plain);
    } catch (e) {
      // The per-key message limit: said once until a new key arrives.
      if (!this.#sealFailed) this.#o.log.warn('gossip not sent: cannot seal', { error: (e as Error).message });
      this.#sealFailed = true;
      return undefined;
    }
  }

  #datagram(data: Uint8Array, from: Addr): void {
    if (this.#closed) return;
    const plain = open(this.ring, data);
    if (!plain) return; // counted in ring.drops
    this.stats.packetsIn++;
    const now = this.#o.clock.nowMs();
    if (plain[0] === PLANE.swim) {
      this.swim.receivePacket(addrKey(from), plain.subarray(1), now);
    } else if (plain[0] === PLANE.networkDb) {
      const m = readSender(plain, 1);
      if (!m) this.stats.malformed++;
      else this.db.receive(m.id, m.body, now);
    } else {
      this.stats.malformed++;
    }
    this.#pump();
  }

  // ---- streams ----------------------------------------------------------------------

  async #pushPull(to: string, body: Uint8Array): Promise<void> {
    const reply = await this.#exchange(to, withSender([STREAM_KIND.pushPull], this.#o.nodeId, body), true);
    if (!reply || this.#closed) return;
    const m = readSender(reply, 0);
    let decoded;
    try {
      decoded = m ? decodePushPull(m.body) : undefined;
    } catch {
      decoded = undefined;
    }
    if (!m || !decoded) {
      this.stats.malformed++;
      return;
    }
    const now = this.#o.clock.nowMs();
    this.swim.receivePushPullReply(to, decoded.state, now);
    if (decoded.userState.length > 0) this.db.receive(m.id, decoded.userState, now);
    this.#pump();
  }

  async #bulkSync(to: string, bytes: Uint8Array): Promise<void> {
    await this.#exchange(to, withSender([STREAM_KIND.bulkSync], this.#o.nodeId, bytes), false);
  }

  /** Dial to, send one sealed frame, and with wantReply read one back; undefined on any failure (counted). */
  async #exchange(to: string, plain: Uint8Array, wantReply: boolean): Promise<Uint8Array | undefined> {
    const addr = hostPort(to);
    const sealed = this.#seal(plain);
    if (!addr || !sealed || this.#closed) return undefined;
    const timeoutMs = this.#o.tcpTimeoutMs ?? 5_000;
    let s: Stream;
    try {
      s = await this.#o.tcp.connect(addr, { timeoutMs });
    } catch {
      this.stats.streamFailures++;
      return undefined;
    }
    if (this.#closed) {
      s.destroy();
      return undefined;
    }
    this.#streams.add(s);
    s.write(encodeFrame(sealed));
    if (!wantReply) {
      // Half-close and let the peer finish; a peer that never closes its side is cut off after the timeout.
      const cut = this.#o.clock.after(timeoutMs, () => s.destroy());
      s.end();
      s.onClose(() => {
        cut.cancel();
        this.#streams.delete(s);
      });
      return undefined;
    }
    return new Promise<Uint8Array | undefined>((resolve) => {
      const reader = new FrameReader(MAX_STREAM_FRAME_BYTES);
      let done = false;
      let linger: { cancel(): void } | undefined;
      const finish = (v: Uint8Array | undefined): void => {
        if (done) return;
        done = true;
        timer.cancel();
        if (v === undefined) {
          this.stats.streamFailures++;
          s.destroy();
        } else {
          // The peer ended its side after the reply: end ours too, so the
          // exchange closes with FINs rather than a reset (destroy() with the
          // peer's FIN unread is an abort).
          linger = this.#o.clock.after(timeoutMs, () => s.destroy());
          s.end();
        }
        resolve(v);
      };
      const timer = this.#o.clock.after(timeoutMs, () => finish(undefined));
      s.onData((chunk) => {
        let frames: Uint8Array[];
        try {
          frames = reader.push(chunk);
        } catch {
          return finish(undefined);
        }
        if (frames.length > 0) finish(open(this.ring, frames[0]!));
      });
      s.onClose(() => {
        linger?.cancel();
        this.#streams.delete(s);
        finish(undefined);
      });
    });
  }

  #accept(s: Stream): void {
    if (this.#closed) return s.destroy();
    this.#streams.add(s);
    const reader = new FrameReader(MAX_STREAM_FRAME_BYTES);
    const timer = this.#o.clock.after(this.#o.tcpTimeoutMs ?? 5_000, () => s.destroy());
    let served = false;
    s.onClose(() => {
      timer.cancel();
      this.#streams.delete(s);
    });
    s.onData((chunk) => {
      if (served) return;
      let frames: Uint8Array[];
      try {
        frames = reader.push(chunk);
      } catch {
        this.stats.streamFailures++;
        return s.destroy();
      }
      if (frames.length === 0) return;
      served = true;
      const plain = open(this.ring, frames[0]!);
      if (!plain) return s.destroy();
      const reply = this.#serve(plain, `${s.remote.host}:${s.remote.port}`);
      if (reply) {
        const sealed = this.#seal(reply);
        if (sealed) s.write(encodeFrame(sealed));
      }
      s.end();
    });
  }

  /** One request frame from a stream; returns the reply frame's plaintext, if any. */
  #serve(plain: Uint8Array, remote: string): Uint8Array | undefined {
    const now = this.#o.clock.nowMs();
    const m = readSender(plain, 1);
    if (!m) {
      this.stats.malformed++;
      return undefined;
    }
    if (plain[0] === STREAM_KIND.bulkSync) {
      this.db.receive(m.id, m.body, now);
      this.#pump();
      return undefined;
    }
    if (plain[0] !== STREAM_KIND.pushPull) {
      this.stats.malformed++;
      return undefined;
    }
    let decoded;
    try {
      decoded = decodePushPull(m.body);
    } catch {
      this.stats.malformed++;
      return undefined;
    }
    // The peer's 7946 address is its member address, not the stream's ephemeral source port.
    const peer = this.swim.member(m.id)?.addr ?? remote;
    const state = this.swim.receivePushPull(peer, decoded.state, now);
    if (decoded.userState.length > 0) this.db.receive(m.id, decoded.userState, now);
    const reply = withSender([], this.#o.nodeId, encodePushPull(state, this.db.localState()));
    this.#pump();
    return reply;
  }
}

function concat(first: number, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + rest.length);
  out[0] = first;
  out.set(rest, 1);
  return out;
}

function hostPort(text: string): Addr | undefined {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const host = text.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}
