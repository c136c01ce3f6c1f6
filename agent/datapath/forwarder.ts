// The forwarding core of the overlay data path (DESIGN §3): VXLAN datagrams
// in, calls on a ForwarderOutput out. No sockets, no timers, no logging; the
// shell (data-plane.ts) moves bytes between its sockets and this object.
//
// Datagrams are forwarded unchanged and without copying: the buffer handed
// to fromPipe/fromWire is the one handed to toWire/toPipe (each flood copy
// too), so the output must not modify it. Only an ARP reply is a new buffer.
// The per-packet path allocates nothing: it looks peers up by numbers read
// from the bytes (MacTable) or by the srcVtep string the caller already has,
// counts into Float64Arrays, and drops by counting and returning.
//
// From a sandbox pipe (the network's kernel VXLAN device, DESIGN §3), checks
// in this order, each failure a counted drop:
//   malformed    not a VXLAN datagram (len not an integer in 22..buf.length, I flag clear)
//   wrong-vni    its VNI is not the pipe's
//   unknown-vni  no pipe for that VNI (addNetwork)
//   oversized    len > the pipe's maxDatagramBytes
// then by EtherType and destination:
//   ARP          never leaves the node, as with the kernel VXLAN proxy that
//                docker's static ARP relies on (Linux drivers/net/vxlan
//                arp_reduce consumes every ARP frame). An IPv4 request for a
//                remote peer's IP is answered into the pipe (arpReplies); for
//                a local peer's IP the bridge already delivered it, and any
//                other well-formed ARP (replies, announcements) stays local
//                too (arpLocal); an unknown target is 'arp-miss'; an ARP body
//                that is not IPv4 over Ethernet is 'malformed'.
//   group dst    (broadcast, multicast) one copy per remote VTEP with a peer
//                on the network (broadcasts counts frames, floods copies; a
//                frame with no remote VTEP is flooded to none, not a drop)
//   unicast dst  the peer's VTEP; 'no-peer' if unknown, 'not-local' if the
//                peer is on this node (the bridge should have kept it)
//
// From the underlay:
//   malformed    as above (no VNI can be read: counted in the totals only)
//   unknown-vni  no pipe for its VNI
//   not-member   srcVtep is not the VTEP of any remote peer of that VNI
//   spoofed      the inner source MAC is not a peer of that VNI living at srcVtep
//   not-local    a unicast destination MAC that is not a local peer of that VNI
//   oversized    len > the pipe's maxDatagramBytes
//   otherwise    into the pipe
//
// Peer tables. Keys are NetworkDB endpoint ids; a MAC or an IP may briefly
// belong to two keys while an address moves between endpoints (an event
// order such as "add new, then delete old"). The most recently set key holding
// it wins, and when that key goes the most recently set of the rest takes
// over, so event order cannot leave a stale or missing entry behind.
//
// Counters: every input ends as exactly one of a drop (one counter), a
// unicast sent, a flood, an ARP reply or an ARP kept local, so
//   fromPipe.packets + fromWire.packets
//     = sum(drops) + arpLocal + broadcasts + (toWire.packets - floods) + toPipe.packets.
// Per network the same holds; an input is counted for a network when the
// forwarder knows that VNI (a pipe or a peer) at the time: the argument's
// VNI for fromPipe, the datagram's for fromWire.
import { parseIPv4 } from '../swarm/cidr.js';
import { ARP_DATAGRAM_BYTES, ARP_INVALID, ARP_NOT_REQUEST, answerArpRequest, classifyArp, readArpTargetIp } from './arp.js';
import {
  ETHERTYPE_ARP, INNER_DST_OFFSET, INNER_SRC_OFFSET, MAC_GROUP_BIT, VXLAN_FLAG_I, VXLAN_FLAGS_OFFSET, VXLAN_MIN_DATAGRAM_BYTES, checkVni, formatMac48,
  isGroupDestination, parseMac48, readEthertype, readVni,
} from './vxlan-frame.js';

export interface ForwarderOutput {
  /** Send bytes [0, len) of buf to the VTEP (dotted IPv4) of another node on the data port. */
  toWire(vtep: string, buf: Uint8Array, len: number): void;
  /** Hand bytes [0, len) of buf (a VXLAN datagram) to the sandbox pipe of network vni. */
  toPipe(vni: number, buf: Uint8Array, len: number): void;
}

/** Why a datagram was dropped. Only ever appended: diagnostics show these names. */
export const DROP_REASONS = ['malformed', 'oversized', 'unknown-vni', 'wrong-vni', 'not-member', 'spoofed', 'no-peer', 'not-local', 'arp-miss', 'unencrypted'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface PeerEntry {
  ip: string;
  mac: string;
  vtep: string;
}

export interface TrafficCounter {
  packets: number;
  bytes: number;
}

export interface ForwarderStats {
  /** Every call; bytes counts len when it is a valid length (an integer in 0..buf.length). */
  fromPipe: TrafficCounter;
  fromWire: TrafficCounter;
  /** Every datagram handed out, flood copies included. */
  toWire: TrafficCounter;
  /** Datagrams from the wire delivered, plus ARP replies. */
  toPipe: TrafficCounter;
  /** ARP requests answered from the peer table. */
  arpReplies: number;
  /** ARP frames left to the local bridge: requests for a local peer, and ARP that is not a request. */
  arpLocal: number;
  /** Group-addressed frames from a pipe. */
  broadcasts: number;
  /** Copies of them sent, one per remote VTEP. */
  floods: number;
  drops: Record<DropReason, number>;
}

export interface NetworkStats extends ForwarderStats {
  vni: number;
  /** A sandbox pipe exists (addNetwork without removeNetwork). */
  pipe: boolean;
  /** The pipe's limit; 0 without a pipe. */
  maxDatagramBytes: number;
  peers: number;
  localPeers: number;
  /** Distinct VTEPs of remote peers: where a broadcast goes. */
  remoteVteps: number;
}

/** A datagram can be no longer than a UDP length field allows. */
export const MAX_DATAGRAM_BYTES_LIMIT = 65_535 as const;

// Counters live in one Float64Array per scope (exact to 2^53), indexed by these.
const FROM_PIPE_PACKETS = 0;
const FROM_PIPE_BYTES = 1;
const FROM_WIRE_PACKETS = 2;
const FROM_WIRE_BYTES = 3;
const TO_WIRE_PACKETS = 4;
const TO_WIRE_BYTES = 5;
const TO_PIPE_PACKETS = 6;
const TO_PIPE_BYTES = 7;
const ARP_REPLIES = 8;
const ARP_LOCAL = 9;
const BROADCASTS = 10;
const FLOODS = 11;
const DROPS = 12;
const COUNTERS = DROPS + DROP_REASONS.length;
const D_MALFORMED = DROPS + DROP_REASONS.indexOf('malformed');
const D_OVERSIZED = DROPS + DROP_REASONS.indexOf('oversized');
const D_UNKNOWN_VNI = DROPS + DROP_REASONS.indexOf('unknown-vni');
const D_WRONG_VNI = DROPS + DROP_REASONS.indexOf('wrong-vni');
const D_NOT_MEMBER = DROPS + DROP_REASONS.indexOf('not-member');
const D_SPOOFED = DROPS + DROP_REASONS.indexOf('spoofed');
const D_NO_PEER = DROPS + DROP_REASONS.indexOf('no-peer');
const D_NOT_LOCAL = DROPS + DROP_REASONS.indexOf('not-local');
const D_ARP_MISS = DROPS + DROP_REASONS.indexOf('arp-miss');
/** A frame whose protection is not its network's: plain VXLAN for an encrypted network (or a sealed one for a plain network). */
const D_UNENCRYPTED = DROPS + DROP_REASONS.indexOf('unencrypted');

interface Peer {
  readonly key: string;
  readonly entry: PeerEntry;
  readonly mac: number;
  readonly ip: number;
  readonly vtep: string;
  /** When it was set; the newest holder of a MAC or IP wins. */
  readonly seq: number;
  local: boolean;
}

/**
 * Peers by MAC, looked up straight from the bytes of a frame. Two levels of
 * 24 bits (the OUI, then the rest), because V8 keys a Map by a small integer
 * (Smi, up to 2^30) without allocating, while a 48-bit key is a heap number
 * boxed on every get: measured, one young-generation allocation per lookup
 * (~300 scavenges per 20M lookups) and ~37 ns against ~21 ns for two Smi
 * lookups. Docker's MACs share one OUI per network (02:42:0a for 10.0.0.0/8
 * subnets), so the outer map holds one or a few entries.
 */
class MacTable {
  readonly #byOui = new Map<number, Map<number, Peer>>();

  /** The peer whose MAC is the 6 bytes of buf at off. */
  at(buf: Uint8Array, off: number): Peer | undefined {
    const rest = this.#byOui.get((buf[off]! << 16) | (buf[off + 1]! << 8) | buf[off + 2]!);
    return rest === undefined ? undefined : rest.get((buf[off + 3]! << 16) | (buf[off + 4]! << 8) | buf[off + 5]!);
  }

  get(mac: number): Peer | undefined {
    return this.#byOui.get(Math.floor(mac / MAC_LOW_SPAN))?.get(mac % MAC_LOW_SPAN);
  }

  set(mac: number, p: Peer): void {
    const oui = Math.floor(mac / MAC_LOW_SPAN);
    let rest = this.#byOui.get(oui);
    if (rest === undefined) this.#byOui.set(oui, (rest = new Map()));
    rest.set(mac % MAC_LOW_SPAN, p);
  }

  delete(mac: number): void {
    const oui = Math.floor(mac / MAC_LOW_SPAN);
    const rest = this.#byOui.get(oui);
    if (rest === undefined) return;
    rest.delete(mac % MAC_LOW_SPAN);
    if (rest.size === 0) this.#byOui.delete(oui);
  }
}

/** 2^24: a MAC is OUI * MAC_LOW_SPAN + the low 24 bits. */
const MAC_LOW_SPAN = 0x100_0000;

class Net {
  readonly c = new Float64Array(COUNTERS);
  pipe = false;
  maxDatagramBytes = 0;
  /** Frames of this network cross nodes only sealed (issue 7): fromWire must say it opened them. */
  encrypted = false;
  readonly byKey = new Map<string, Peer>();
  readonly byMac = new MacTable();
  readonly byIp = new Map<number, Peer>();
  /** Remote VTEP -> how many remote peers it hosts. */
  readonly remoteVteps = new Map<string, number>();
  /** The keys of remoteVteps in ascending address order; replaced (never mutated) on change, so a flood in progress keeps its list. */
  floodTo: readonly string[] = [];
}

function snapshot(c: Float64Array): ForwarderStats {
  const drops = {} as Record<DropReason, number>;
  DROP_REASONS.forEach((r, i) => (drops[r] = c[DROPS + i]!));
  return {
    fromPipe: { packets: c[FROM_PIPE_PACKETS]!, bytes: c[FROM_PIPE_BYTES]! },
    fromWire: { packets: c[FROM_WIRE_PACKETS]!, bytes: c[FROM_WIRE_BYTES]! },
    toWire: { packets: c[TO_WIRE_PACKETS]!, bytes: c[TO_WIRE_BYTES]! },
    toPipe: { packets: c[TO_PIPE_PACKETS]!, bytes: c[TO_PIPE_BYTES]! },
    arpReplies: c[ARP_REPLIES]!,
    arpLocal: c[ARP_LOCAL]!,
    broadcasts: c[BROADCASTS]!,
    floods: c[FLOODS]!,
    drops,
  };
}

function checkIPv4(fn: string, what: string, text: unknown): number {
  const n = typeof text === 'string' ? parseIPv4(text) : undefined;
  if (n === undefined) throw new RangeError(`${fn}: ${what} must be a dotted IPv4 address, got ${JSON.stringify(text)}`);
  return n;
}

function checkKey(fn: string, key: unknown): string {
  if (typeof key !== 'string' || key === '') throw new RangeError(`${fn}: key must be a non-empty string, got ${JSON.stringify(key)}`);
  return key;
}

export class Forwarder {
  readonly #out: ForwarderOutput;
  #localVtep: string;
  readonly #nets = new Map<number, Net>();
  readonly #c = new Float64Array(COUNTERS);
  #seq = 0;

  constructor(out: ForwarderOutput, opts: { localVtep: string }) {
    if (typeof out?.toWire !== 'function' || typeof out.toPipe !== 'function') throw new RangeError('Forwarder: out must have toWire and toPipe functions');
    checkIPv4('Forwarder', 'localVtep', opts?.localVtep);
    this.#out = out;
    this.#localVtep = opts.localVtep;
  }

  get localVtep(): string {
    return this.#localVtep;
  }

  /** A sandbox pipe for vni exists on this node; frames longer than maxDatagramBytes (VXLAN header included) are dropped as oversized. Again: a new limit. */
  addNetwork(vni: number, opts: { maxDatagramBytes: number; encrypted?: boolean }): void {
    checkVni('addNetwork', vni);
    const max = opts?.maxDatagramBytes;
    if (!Number.isInteger(max) || max < VXLAN_MIN_DATAGRAM_BYTES || max > MAX_DATAGRAM_BYTES_LIMIT) {
      throw new RangeError(`addNetwork: maxDatagramBytes must be an integer in ${VXLAN_MIN_DATAGRAM_BYTES}..${MAX_DATAGRAM_BYTES_LIMIT}, got ${max}`);
    }
    const net = this.#net(vni);
    net.pipe = true;
    net.maxDatagramBytes = max;
    net.encrypted = opts.encrypted === true;
  }

  /** Forgets the pipe; the vni's peers stay until removed (and with them its counters). */
  removeNetwork(vni: number): void {
    checkVni('removeNetwork', vni);
    const net = this.#nets.get(vni);
    if (net === undefined) return;
    net.pipe = false;
    net.maxDatagramBytes = 0;
    net.encrypted = false;
    this.#forgetIfEmpty(vni, net);
  }

  setLocalVtep(vtep: string): void {
    checkIPv4('setLocalVtep', 'vtep', vtep);
    if (vtep === this.#localVtep) return;
    this.#localVtep = vtep;
    for (const net of this.#nets.values()) {
      net.remoteVteps.clear();
      for (const p of net.byKey.values()) {
        p.local = p.vtep === vtep;
        if (!p.local) net.remoteVteps.set(p.vtep, (net.remoteVteps.get(p.vtep) ?? 0) + 1);
      }
      this.#rebuildFlood(net);
    }
  }

  /** key: the endpoint id (NetworkDB key). A peer whose vtep is localVtep is a local endpoint. Replaces an existing key. */
  setPeer(vni: number, key: string, p: PeerEntry): void {
    const fn = 'setPeer';
    checkVni(fn, vni);
    checkKey(fn, key);
    if (typeof p !== 'object' || p === null) throw new RangeError(`${fn}: peer must be an object with ip, mac and vtep, got ${p === null ? 'null' : typeof p}`);
    const ip = checkIPv4(fn, 'ip', p.ip);
    const mac = parseMac48(p.mac);
    if (mac === undefined) throw new RangeError(`${fn}: mac must be six hex octets separated by colons, got ${JSON.stringify(p.mac)}`);
    if (Math.floor(mac / 0x100_0000_0000) & MAC_GROUP_BIT) {
      throw new RangeError(`${fn}: mac must be a unicast address (group bit clear), got ${JSON.stringify(p.mac)}`);
    }
    checkIPv4(fn, 'vtep', p.vtep);
    const net = this.#net(vni);
    const old = net.byKey.get(key);
    if (old !== undefined) this.#unindex(net, old);
    const entry: PeerEntry = { ip: p.ip, mac: formatMac48(mac), vtep: p.vtep };
    this.#index(net, { key, entry, mac, ip, vtep: p.vtep, seq: ++this.#seq, local: p.vtep === this.#localVtep });
  }

  removePeer(vni: number, key: string): void {
    checkVni('removePeer', vni);
    checkKey('removePeer', key);
    const net = this.#nets.get(vni);
    const old = net?.byKey.get(key);
    if (net === undefined || old === undefined) return;
    this.#unindex(net, old);
    this.#forgetIfEmpty(vni, net);
  }

  /** A datagram the kernel VXLAN device of network vni's sandbox sent. Never throws. */
  fromPipe(vni: number, buf: Uint8Array, len: number): void {
    const net = this.#nets.get(vni);
    this.#add(net, FROM_PIPE_PACKETS, 1);
    if (len >>> 0 !== len || len > buf.length) return this.#add(net, D_MALFORMED, 1);
    this.#add(net, FROM_PIPE_BYTES, len);
    if (len < VXLAN_MIN_DATAGRAM_BYTES || (buf[VXLAN_FLAGS_OFFSET]! & VXLAN_FLAG_I) === 0) return this.#add(net, D_MALFORMED, 1);
    if (readVni(buf) !== vni) return this.#add(net, D_WRONG_VNI, 1);
    if (net === undefined || !net.pipe) return this.#add(net, D_UNKNOWN_VNI, 1);
    if (len > net.maxDatagramBytes) return this.#add(net, D_OVERSIZED, 1);
    if (readEthertype(buf) === ETHERTYPE_ARP) return this.#arp(net, vni, buf, len);
    if (isGroupDestination(buf)) return this.#flood(net, buf, len);
    const peer = net.byMac.at(buf, INNER_DST_OFFSET);
    if (peer === undefined) return this.#add(net, D_NO_PEER, 1);
    if (peer.local) return this.#add(net, D_NOT_LOCAL, 1);
    this.#add(net, TO_WIRE_PACKETS, 1);
    this.#add(net, TO_WIRE_BYTES, len);
    this.#out.toWire(peer.vtep, buf, len);
  }

  /**
   * A datagram from the underlay; srcVtep is the sender's IPv4 address, dotted
   * as setPeer got it (a dual-stack socket's "::ffff:10.0.0.2" is no member).
   * Never throws.
   */
  fromWire(srcVtep: string, buf: Uint8Array, len: number, sealed = false): void {
    const c = this.#c;
    c[FROM_WIRE_PACKETS]!++;
    if (len >>> 0 !== len || len > buf.length) return this.#add(undefined, D_MALFORMED, 1);
    c[FROM_WIRE_BYTES]! += len;
    if (len < VXLAN_MIN_DATAGRAM_BYTES || (buf[VXLAN_FLAGS_OFFSET]! & VXLAN_FLAG_I) === 0) return this.#add(undefined, D_MALFORMED, 1);
    const vni = readVni(buf);
    const net = this.#nets.get(vni);
    if (net === undefined) return this.#add(undefined, D_UNKNOWN_VNI, 1);
    net.c[FROM_WIRE_PACKETS]!++;
    net.c[FROM_WIRE_BYTES]! += len;
    if (!net.pipe) return this.#add(net, D_UNKNOWN_VNI, 1);
    if (net.encrypted !== sealed) return this.#add(net, D_UNENCRYPTED, 1);
    if (!net.remoteVteps.has(srcVtep)) return this.#add(net, D_NOT_MEMBER, 1);
    // srcVtep is remote (just checked), so a match here is a remote peer.
    const src = net.byMac.at(buf, INNER_SRC_OFFSET);
    if (src === undefined || src.vtep !== srcVtep) return this.#add(net, D_SPOOFED, 1);
    if (!isGroupDestination(buf)) {
      const dst = net.byMac.at(buf, INNER_DST_OFFSET);
      if (dst === undefined || !dst.local) return this.#add(net, D_NOT_LOCAL, 1);
    }
    if (len > net.maxDatagramBytes) return this.#add(net, D_OVERSIZED, 1);
    this.#add(net, TO_PIPE_PACKETS, 1);
    this.#add(net, TO_PIPE_BYTES, len);
    this.#out.toPipe(vni, buf, len);
  }

  /** Totals over every network, including inputs no network was known for. */
  stats(): ForwarderStats {
    return snapshot(this.#c);
  }

  /** The counters of one VNI, undefined when the forwarder knows neither a pipe nor a peer for it. */
  networkStats(vni: number): NetworkStats | undefined {
    checkVni('networkStats', vni);
    const net = this.#nets.get(vni);
    if (net === undefined) return undefined;
    let localPeers = 0;
    for (const p of net.byKey.values()) if (p.local) localPeers++;
    return {
      vni,
      pipe: net.pipe,
      maxDatagramBytes: net.maxDatagramBytes,
      peers: net.byKey.size,
      localPeers,
      remoteVteps: net.remoteVteps.size,
      ...snapshot(net.c),
    };
  }

  /** The VNIs the forwarder knows (a pipe or a peer), ascending. */
  vnis(): number[] {
    return [...this.#nets.keys()].sort((a, b) => a - b);
  }

  /** The peers of vni in the order they were (last) set, for diagnostics. */
  peers(vni: number): PeerEntry[] {
    checkVni('peers', vni);
    const net = this.#nets.get(vni);
    return net === undefined ? [] : [...net.byKey.values()].map((p) => ({ ...p.entry }));
  }

  /** Where the vni's traffic to mac (text) goes, for diagnostics: its peer, or undefined. */
  lookupMac(vni: number, mac: string): (PeerEntry & { key: string; local: boolean }) | undefined {
    checkVni('lookupMac', vni);
    const m = parseMac48(mac);
    const p = m === undefined ? undefined : this.#nets.get(vni)?.byMac.get(m);
    return p === undefined ? undefined : { key: p.key, local: p.local, ...p.entry };
  }

  // ---- hot-path helpers ------------------------------------------------------------------

  #add(net: Net | undefined, i: number, n: number): void {
    this.#c[i]! += n;
    if (net !== undefined) net.c[i]! += n;
  }

  #arp(net: Net, vni: number, buf: Uint8Array, len: number): void {
    const cls = classifyArp(buf, len);
    if (cls === ARP_INVALID) return this.#add(net, D_MALFORMED, 1);
    if (cls === ARP_NOT_REQUEST) return this.#add(net, ARP_LOCAL, 1);
    const peer = net.byIp.get(readArpTargetIp(buf));
    if (peer === undefined) return this.#add(net, D_ARP_MISS, 1);
    if (peer.local) return this.#add(net, ARP_LOCAL, 1);
    const reply = answerArpRequest(buf, vni, peer.mac, peer.ip);
    this.#add(net, ARP_REPLIES, 1);
    this.#add(net, TO_PIPE_PACKETS, 1);
    this.#add(net, TO_PIPE_BYTES, ARP_DATAGRAM_BYTES);
    this.#out.toPipe(vni, reply, ARP_DATAGRAM_BYTES);
  }

  #flood(net: Net, buf: Uint8Array, len: number): void {
    const to = net.floodTo;
    const n = to.length;
    this.#add(net, BROADCASTS, 1);
    this.#add(net, FLOODS, n);
    this.#add(net, TO_WIRE_PACKETS, n);
    this.#add(net, TO_WIRE_BYTES, n * len);
    for (let i = 0; i < n; i++) this.#out.toWire(to[i]!, buf, len);
  }

  // ---- peer tables (control path) --------------------------------------------------------

  #net(vni: number): Net {
    let net = this.#nets.get(vni);
    if (net === undefined) this.#nets.set(vni, (net = new Net()));
    return net;
  }

  #forgetIfEmpty(vni: number, net: Net): void {
    if (!net.pipe && net.byKey.size === 0) this.#nets.delete(vni);
  }

  #index(net: Net, p: Peer): void {
    net.byKey.set(p.key, p);
    // p is the newest peer of all, so it wins its MAC and its IP.
    net.byMac.set(p.mac, p);
    net.byIp.set(p.ip, p);
    if (!p.local) {
      const n = net.remoteVteps.get(p.vtep) ?? 0;
      net.remoteVteps.set(p.vtep, n + 1);
      if (n === 0) this.#rebuildFlood(net);
    }
  }

  #unindex(net: Net, p: Peer): void {
    net.byKey.delete(p.key);
    if (net.byMac.get(p.mac) === p) {
      const next = newest(net, (q) => q.mac === p.mac);
      if (next === undefined) net.byMac.delete(p.mac);
      else net.byMac.set(p.mac, next);
    }
    if (net.byIp.get(p.ip) === p) {
      const next = newest(net, (q) => q.ip === p.ip);
      if (next === undefined) net.byIp.delete(p.ip);
      else net.byIp.set(p.ip, next);
    }
    if (!p.local) {
      const n = net.remoteVteps.get(p.vtep)!;
      if (n > 1) net.remoteVteps.set(p.vtep, n - 1);
      else {
        net.remoteVteps.delete(p.vtep);
        this.#rebuildFlood(net);
      }
    }
  }

  #rebuildFlood(net: Net): void {
    net.floodTo = [...net.remoteVteps.keys()].sort((a, b) => parseIPv4(a)! - parseIPv4(b)!);
  }
}

/** The most recently set peer of net matching f (a scan: control path only, and only when a shared MAC or IP loses its holder). */
function newest(net: Net, f: (p: Peer) => boolean): Peer | undefined {
  let best: Peer | undefined;
  for (const q of net.byKey.values()) if (f(q) && (best === undefined || q.seq > best.seq)) best = q;
  return best;
}
