// Shared pieces of the secure plane tests: seeded keys, VXLAN datagrams that
// carry a sequence number, and a wire that moves datagrams between planes by
// hand (STYLE habit 14 and nebula's e2e tests): out.send puts a copy on a
// queue, pump() delivers until the queue is empty, run() advances the
// ManualClock in small steps and pumps after each, so a message "takes" at
// most one step. A filter sees every message first and may drop, keep, or
// replace it.
import { ManualClock } from '../../../../shared/clock.js';
import { seededRand, type Rand } from '../../../../shared/rand.js';
import { generateKeypair, type KeyPair } from '../../../../shared/crypto/noise-dh.js';
import { dh } from '../../../../shared/crypto/noise-dh.js';
import { SecurePlane, type PeerStatus, type SecureConfig, type SecureStats } from '../../../../agent/datapath/secure/secure-plane.js';
import { resolveSecureConfig } from '../../../../agent/datapath/secure/config.js';
import { mac1KeyFor, writeMacs } from '../../../../agent/datapath/secure/cookie.js';
import { consumeResponse, createInitiation, tai64n } from '../../../../agent/datapath/secure/handshake.js';
import { Keypair } from '../../../../agent/datapath/secure/keypair.js';
import { INIT_MAC1_OFFSET } from '../../../../agent/datapath/secure/wire-format.js';
import { encodeVxlanHeader } from '../../../../agent/datapath/vxlan-frame.js';

export const VNI = 4097;
export const VNI2 = 4098;
export const SEED = Number(process.env.TEST_SEED ?? 0x5ec7);

export const hex = (b: Uint8Array, len = b.length): string => Buffer.from(b.buffer, b.byteOffset, len).toString('hex');
export const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

/** A plain Uint8Array copy (Buffer#slice would be a view). */
export const copy = (b: Uint8Array, off: number, len: number): Uint8Array => Uint8Array.from(b.subarray(off, off + len));

/** A 32-byte data key whose bytes are all b. */
export const dataKey = (b: number): Uint8Array => new Uint8Array(32).fill(b);

/** A VXLAN datagram of vni: header, broadcast dst, a source MAC, EtherType 0x88b5 (local experimental), seq (u32 BE), padding to size. */
export function datagram(vni: number, seq: number, size = 64): Uint8Array {
  const b = new Uint8Array(Math.max(size, 26));
  b.set(encodeVxlanHeader(vni), 0);
  b.fill(0xff, 8, 14);
  b.set([0x02, 0x42, 0x0a, 0x00, 0x00, 0x02], 14);
  b[20] = 0x88;
  b[21] = 0xb5;
  new DataView(b.buffer).setUint32(22, seq);
  for (let i = 26; i < b.length; i++) b[i] = (seq + i) & 0xff;
  return b;
}

export function seqOf(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.length).getUint32(22);
}

export interface Msg {
  from: string;
  to: string;
  bytes: Uint8Array;
}

export interface Delivery {
  vni: number;
  from: string;
  bytes: Uint8Array;
}

export class Node {
  readonly plane: SecurePlane;
  readonly delivered: Delivery[] = [];
  readonly statuses: { vni: number; vtep: string; s: PeerStatus }[] = [];
  constructor(readonly name: string, readonly vtep: string, readonly key: KeyPair, wire: Wire, config: Partial<SecureConfig>, rand: Rand) {
    this.plane = new SecurePlane({
      staticKey: key,
      clock: wire.clock,
      rand,
      config,
      out: {
        send: (to, buf, len) => wire.queue.push({ from: vtep, to, bytes: copy(buf, 0, len) }),
        deliver: (vni, from, buf, off, len) => this.delivered.push({ vni, from, bytes: copy(buf, off, len) }),
        onStatus: (vni, v, s) => this.statuses.push({ vni, vtep: v, s }),
      },
    });
  }

  /** Sequence numbers delivered from vni (optionally only from one VTEP). */
  seqs(vni = VNI, from?: string): number[] {
    return this.delivered.filter((d) => d.vni === vni && (from === undefined || d.from === from)).map((d) => seqOf(d.bytes));
  }

  identity(vnis?: number[]): { nodeId: string; publicKey: Uint8Array; vtep: string; vnis?: number[] } {
    return { nodeId: this.name, publicKey: this.key.publicKey, vtep: this.vtep, ...(vnis ? { vnis } : {}) };
  }
}

export type Verdict = 'pass' | 'drop' | Uint8Array;

export class Wire {
  readonly clock = new ManualClock();
  readonly nodes = new Map<string, Node>();
  queue: Msg[] = [];
  /** Every message put on the wire, in order. */
  readonly log: Msg[] = [];
  filter: (m: Msg) => Verdict = () => 'pass';
  readonly rand: Rand;

  constructor(seed = SEED) {
    this.rand = seededRand(seed);
  }

  add(name: string, vtep: string, config: Partial<SecureConfig> = {}): Node {
    const n = new Node(name, vtep, generateKeypair(this.rand), this, config, this.rand.fork());
    this.nodes.set(vtep, n);
    return n;
  }

  /** Every node knows every other; each holds keys for vni. */
  mesh(keys: { generation: number; key: Uint8Array }[] = [{ generation: 1, key: dataKey(1) }], vni = VNI): void {
    const all = [...this.nodes.values()];
    for (const n of all) {
      n.plane.setPeers(all.filter((o) => o !== n).map((o) => o.identity()));
      n.plane.setNetworkKeys(vni, keys);
    }
  }

  /** Deliver until nothing is in flight. */
  pump(): void {
    for (let guard = 0; this.queue.length > 0; guard++) {
      if (guard > 100_000) throw new Error('wire: messages keep coming (a loop?)');
      const q = this.queue;
      this.queue = [];
      for (const m of q) {
        this.log.push(m);
        const v = this.filter(m);
        if (v === 'drop') continue;
        // A Buffer, as node:dgram hands the data plane (its slice() is a view: the plane must not rely on it).
        const b = Buffer.from(v === 'pass' ? m.bytes : v);
        this.nodes.get(m.to)?.plane.receive(m.from, b, b.length);
      }
    }
  }

  /** Advance ms in steps of stepMs, pumping after each step. */
  run(ms: number, stepMs = 1): void {
    const end = this.clock.nowMs() + ms;
    this.pump();
    while (this.clock.nowMs() < end) {
      this.clock.advanceTo(Math.min(end, this.clock.nowMs() + stepMs));
      this.pump();
    }
  }

  /** Messages logged of a type (first byte), optionally from one VTEP. */
  sent(type: number, from?: string): Msg[] {
    return this.log.filter((m) => m.bytes[0] === type && (from === undefined || m.from === from));
  }

  close(): void {
    for (const n of this.nodes.values()) n.plane.close();
  }
}

/** Sum of a SecureStats' drops. */
/** Two planes, a (10.0.0.1) and b (10.0.0.2), each the other's peer, on one wire. */
export function pair(config = {}) {
  const w = new Wire();
  const a = w.add('a', '10.0.0.1', config);
  const b = w.add('b', '10.0.0.2', config);
  w.mesh();
  return { w, a, b };
}

export function dropTotal(d: Record<string, number>): number {
  return Object.values(d).reduce((a, b) => a + b, 0);
}

/** The accounting identity of stats.ts: every input ends in exactly one place. */
export function balanced(st: SecureStats): boolean {
  const lhs = st.received.packets + st.sendCalls.packets;
  const rhs = dropTotal(st.drops) + st.delivered.packets + st.keepalivesReceived + st.initiationsReceived + st.responsesReceived + st.cookieRepliesReceived + st.sealed.packets + st.queued;
  return lhs === rhs;
}

/**
 * A peer played by hand with the handshake functions (a node whose code we
 * control byte by byte): it initiates to target over the wire's clock and
 * returns the keypair, so a test can seal what a real plane never would.
 */
export function handshakeByHand(w: Wire, me: { key: KeyPair; vtep: string }, target: Node, vni: number, generation: number, psk: Uint8Array): Keypair {
  const index = 0x77;
  const init = createInitiation({
    vni, localIndex: index, s: me.key, rs: target.key.publicKey, ss: dh(me.key, target.key.publicKey), timestamp: tai64n(w.clock.wallMs()), generation, e: generateKeypair(w.rand),
  });
  if (typeof init === 'number') throw new Error('createInitiation failed');
  writeMacs(init.msg, INIT_MAC1_OFFSET, mac1KeyFor(target.key.publicKey), null);
  target.plane.receive(me.vtep, init.msg, init.msg.length);
  const i = w.queue.findIndex((m) => m.to === me.vtep && m.bytes[0] === 2);
  if (i < 0) throw new Error('no response');
  const resp = w.queue.splice(i, 1)[0]!.bytes;
  const got = consumeResponse(resp, init.hs, me.key, psk);
  if (typeof got === 'number') throw new Error('consumeResponse failed');
  return new Keypair({ localIndex: index, remoteIndex: got.senderIndex, isInitiator: true, nowMs: w.clock.nowMs(), generation, owner: null, send: got.keys.send, recv: got.keys.recv, cfg: resolveSecureConfig({}) });
}

export { seededRand, type Rand };
