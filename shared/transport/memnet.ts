// MemNet: an in-memory network of virtual hosts behind the transport seams,
// the fake beside udp.ts and tcp.ts (STYLE habit 2). Every delivery is a timer
// on the injected Clock and every fault a draw from the injected Rand, so with
// a ManualClock and seededRand nothing moves until the test steps the clock,
// and the same seed and calls give the same deliveries at the same instants.
//
// Datagrams suffer latency, jitter (which is what reorders them), loss,
// duplication and partitions. Streams are reliable and ordered: their
// segments are sequenced and reassembled, a segment that meets a dead path is
// parked until heal()/unblock() (TCP retransmission, abstracted), and a
// connection whose data stays parked longer than streamStallTimeoutMs is reset
// on both sides with ETIMEDOUT, as a real kernel gives up after its retries.
import type { Clock, Timer } from '../clock.js';
import type { Rand } from '../rand.js';
import { Conn, MemDatagramSocket, MemListener, MemStream, type Carrier, type NetCore } from './memnet-sockets.js';
import { addrKey, checkAddr, isIPv4, transportError, type Addr, type DatagramTransport, type Stream, type StreamTransport } from './types.js';

export interface LinkFaults {
  /** Base one-way delay, ms. */
  latencyMs: number;
  /** Extra uniform delay in [0, jitterMs), ms; datagrams overtake each other through it. */
  jitterMs: number;
  /** Probability that a datagram is dropped. */
  loss: number;
  /** Probability that a datagram is delivered twice. */
  dup: number;
}

export interface MemNetConfig extends Partial<LinkFaults> {
  clock: Clock;
  rand: Rand;
  /** A stream whose data cannot move for this long is reset with ETIMEDOUT (default 10_000). */
  streamStallTimeoutMs?: number;
  /** connect() timeout when the caller gives none (default 10_000). */
  connectTimeoutMs?: number;
  /** Writes are cut into segments of at most this many bytes, so readers meet split chunks (default 16 KiB). */
  streamSegmentBytes?: number;
  /** Receives one line per network event, for simulation traces. */
  trace?: (line: string) => void;
}

export interface MemNetStats {
  sent: number;
  delivered: number;
  duplicated: number;
  /** droppedLoss + droppedBlocked + droppedNoSocket. */
  dropped: number;
  droppedLoss: number;
  droppedBlocked: number;
  droppedNoSocket: number;
}

const EPHEMERAL_FIRST = 49_152; // IANA dynamic range, RFC 6335 section 6
const EPHEMERAL_LAST = 65_535;

interface Parked {
  from: string;
  to: string;
  owner: Carrier;
  deliver: () => void;
}

interface Host {
  ip: string;
  udp: Map<number, MemDatagramSocket>;
  listeners: Map<number, MemListener>;
  tcpClientPorts: Set<number>;
  nextUdp: number;
  nextTcp: number;
}

export class MemNet implements NetCore {
  readonly stats: MemNetStats = { sent: 0, delivered: 0, duplicated: 0, dropped: 0, droppedLoss: 0, droppedBlocked: 0, droppedNoSocket: 0 };
  readonly clock: Clock;
  readonly #rand: Rand;
  readonly #stallMs: number;
  readonly #connectMs: number;
  readonly #segBytes: number;
  readonly #trace: ((line: string) => void) | undefined;
  #faults: LinkFaults;
  #links = new Map<string, Partial<LinkFaults>>();
  #blocked = new Set<string>();
  #hosts = new Map<string, Host>();
  #parked: Parked[] = [];

  constructor(cfg: MemNetConfig) {
    this.clock = cfg.clock;
    this.#rand = cfg.rand;
    this.#stallMs = cfg.streamStallTimeoutMs ?? 10_000;
    this.#connectMs = cfg.connectTimeoutMs ?? 10_000;
    this.#segBytes = cfg.streamSegmentBytes ?? 16_384;
    this.#trace = cfg.trace;
    this.#faults = { latencyMs: 0, jitterMs: 0, loss: 0, dup: 0 };
    this.setFaults(cfg);
  }

  /** The datagram transport of virtual host `hostIp`. */
  datagram(hostIp: string): DatagramTransport {
    const h = this.#host(hostIp);
    return { bind: async (addr) => this.#bindUdp(h, addr) };
  }

  /** The stream transport of virtual host `hostIp`. */
  stream(hostIp: string): StreamTransport {
    const h = this.#host(hostIp);
    return {
      listen: async (addr, onConn) => this.#listen(h, addr, onConn),
      connect: (to, opts) => this.#connect(h, to, opts?.timeoutMs ?? this.#connectMs),
    };
  }

  /** Change the faults of every link without its own settings. */
  setFaults(f: Partial<LinkFaults>): void {
    this.#faults = { ...this.#faults, ...checkFaults(f) };
  }

  /** Faults for the one-way link from -> to (undefined returns it to the global faults). */
  setLinkFaults(from: string, to: string, f: Partial<LinkFaults> | undefined): void {
    if (f === undefined) this.#links.delete(`${from}>${to}`);
    else this.#links.set(`${from}>${to}`, checkFaults(f));
  }

  /** Cut every path between the two groups, both ways. */
  partition(groupA: string[], groupB: string[]): void {
    for (const a of groupA) for (const b of groupB) {
      this.#blocked.add(`${a}>${b}`);
      this.#blocked.add(`${b}>${a}`);
    }
    this.#log(`partition [${groupA.join(',')}] | [${groupB.join(',')}]`);
  }

  /** Drop everything sent from -> to (the reverse direction still works for datagrams). */
  block(from: string, to: string): void {
    this.#blocked.add(`${from}>${to}`);
    this.#log(`block ${from}>${to}`);
  }

  unblock(from: string, to: string): void {
    this.#blocked.delete(`${from}>${to}`);
    this.#log(`unblock ${from}>${to}`);
    this.#kick();
  }

  /** Remove every partition and block; parked stream segments move again. */
  heal(): void {
    this.#blocked.clear();
    this.#log('heal');
    this.#kick();
  }

  isBlocked(from: string, to: string): boolean {
    return this.#blocked.has(`${from}>${to}`);
  }

  // ---- datagrams ----

  #bindUdp(h: Host, addr: Addr): MemDatagramSocket {
    checkAddr('memnet bind', addr);
    this.#checkLocalHost(h, addr, 'bind');
    const port = addr.port === 0 ? this.#ephemeral(h, 'udp') : addr.port;
    if (h.udp.has(port)) throw transportError('EADDRINUSE', `udp ${h.ip}:${port} is already bound`);
    const s = new MemDatagramSocket({ host: h.ip, port }, this, () => h.udp.delete(port));
    h.udp.set(port, s);
    return s;
  }

  /** @internal Called by MemDatagramSocket.send. */
  sendDatagram(from: Addr, to: Addr, data: Uint8Array): void {
    this.stats.sent++;
    if (this.#blocked.has(`${from.host}>${to.host}`)) return this.#drop('droppedBlocked', from, to, data);
    const f = this.#linkFaults(from.host, to.host);
    if (f.loss > 0 && this.#rand.float() < f.loss) return this.#drop('droppedLoss', from, to, data);
    const copies = f.dup > 0 && this.#rand.float() < f.dup ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      const bytes = data.slice(); // the sender may reuse its buffer; each copy is the receiver's to keep
      this.clock.after(this.#delay(f), () => this.#deliverDatagram(from, to, bytes));
    }
  }

  #deliverDatagram(from: Addr, to: Addr, data: Uint8Array): void {
    const s = this.#hosts.get(to.host)?.udp.get(to.port);
    if (s === undefined || !s.receive(data, from)) return this.#drop('droppedNoSocket', from, to, data);
    this.stats.delivered++;
    if (this.#trace) this.#log(`dgram ${addrKey(from)}>${addrKey(to)} ${data.length}B`);
  }

  #drop(why: 'droppedLoss' | 'droppedBlocked' | 'droppedNoSocket', from: Addr, to: Addr, data: Uint8Array): void {
    this.stats[why]++;
    this.stats.dropped++;
    if (this.#trace) this.#log(`drop(${why.slice(7).toLowerCase()}) ${addrKey(from)}>${addrKey(to)} ${data.length}B`);
  }

  // ---- streams ----

  #listen(h: Host, addr: Addr, onConn: (s: Stream) => void): MemListener {
    checkAddr('memnet listen', addr);
    this.#checkLocalHost(h, addr, 'listen');
    const port = addr.port === 0 ? this.#ephemeral(h, 'tcp') : addr.port;
    if (h.listeners.has(port) || h.tcpClientPorts.has(port)) throw transportError('EADDRINUSE', `tcp ${h.ip}:${port} is already in use`);
    const l = new MemListener({ host: h.ip, port }, onConn, () => h.listeners.delete(port));
    h.listeners.set(port, l);
    return l;
  }

  #connect(h: Host, to: Addr, timeoutMs: number): Promise<Stream> {
    checkAddr('memnet connect', to);
    const local = { host: h.ip, port: this.#ephemeral(h, 'tcp') };
    h.tcpClientPorts.add(local.port);
    let portFree = false;
    const freePort = () => {
      if (!portFree) h.tcpClientPorts.delete(local.port);
      portFree = true;
    };
    return new Promise((resolve, reject) => {
      let client: MemStream | undefined;
      let server: MemStream | undefined;
      const attempt: Carrier & { dead: boolean } = { parked: 0, dead: false, stalled() {}, unstalled() {} };
      const fail = (code: 'ECONNREFUSED' | 'ETIMEDOUT', why: string) => {
        attempt.dead = true;
        timer.cancel();
        freePort();
        client?.reset(transportError(code, why));
        server?.reset(transportError(code, why));
        this.#log(`connect ${addrKey(local)}>${addrKey(to)} ${code}`);
        reject(transportError(code, `connect to ${addrKey(to)}: ${why}`));
      };
      const timer = this.clock.after(timeoutMs, () => fail('ETIMEDOUT', `no answer within ${timeoutMs} ms`));
      // SYN
      this.carry(h.ip, to.host, attempt, () => {
        if (attempt.dead) return;
        const l = this.#hosts.get(to.host)?.listeners.get(to.port);
        if (l === undefined) {
          this.carry(to.host, h.ip, attempt, () => !attempt.dead && fail('ECONNREFUSED', 'nothing listens there'));
          return;
        }
        const conn = new Conn(this, freePort);
        const c = new MemStream(this, conn, local, to);
        client = c;
        server = new MemStream(this, conn, l.local, local);
        conn.ends = [c, server];
        this.#log(`accept ${addrKey(local)}>${addrKey(l.local)}`);
        l.accept(server);
        // SYN-ACK
        this.carry(to.host, h.ip, attempt, () => {
          if (attempt.dead) return;
          attempt.dead = true;
          timer.cancel();
          resolve(c);
        });
      });
    });
  }

  /** @internal Move one stream segment: delivered after the link delay if the path is up, else parked. */
  carry(from: string, to: string, owner: Carrier, deliver: () => void): void {
    const p: Parked = { from, to, owner, deliver };
    if (!this.#pathUp(from, to)) return this.#park(p);
    this.clock.after(this.#delay(this.#linkFaults(from, to)), () => {
      if (owner.dead) return;
      if (!this.#pathUp(from, to)) this.#park(p);
      else deliver();
    });
  }

  // A stream needs both directions: data one way, acknowledgements the other.
  #pathUp(from: string, to: string): boolean {
    return this.#hosts.has(to) && !this.#blocked.has(`${from}>${to}`) && !this.#blocked.has(`${to}>${from}`);
  }

  #park(p: Parked): void {
    this.#parked.push(p);
    if (p.owner.parked++ === 0) p.owner.stalled();
  }

  // Re-send parked segments whose path is up again (the retransmission a real stack would do).
  #kick(): void {
    const parked = this.#parked;
    this.#parked = [];
    const released = new Set<Carrier>();
    for (const p of parked) {
      if (p.owner.dead) continue;
      if (!this.#pathUp(p.from, p.to)) {
        this.#parked.push(p);
        continue;
      }
      p.owner.parked--;
      released.add(p.owner);
      this.carry(p.from, p.to, p.owner, p.deliver);
    }
    for (const o of released) if (o.parked === 0) o.unstalled();
  }

  /** @internal */
  stallTimer(fn: () => void): Timer {
    return this.clock.after(this.#stallMs, fn);
  }

  /** @internal */
  get segmentBytes(): number {
    return this.#segBytes;
  }

  /** @internal */
  log(line: string): void {
    this.#log(line);
  }

  // ---- hosts, ports, faults ----

  #host(ip: string): Host {
    if (!isIPv4(ip)) throw new TypeError(`memnet: host must be a dotted-quad IPv4 address, got ${JSON.stringify(ip)}`);
    let h = this.#hosts.get(ip);
    if (h === undefined) {
      h = { ip, udp: new Map(), listeners: new Map(), tcpClientPorts: new Set(), nextUdp: EPHEMERAL_FIRST, nextTcp: EPHEMERAL_FIRST };
      this.#hosts.set(ip, h);
      this.#kick(); // segments parked towards a host that did not exist yet
    }
    return h;
  }

  #checkLocalHost(h: Host, addr: Addr, what: string): void {
    if (addr.host !== '0.0.0.0' && addr.host !== h.ip) {
      throw transportError('EADDRNOTAVAIL', `${what} ${addrKey(addr)}: host ${h.ip} has no such address`);
    }
  }

  // Deterministic: each host counts up through the dynamic range, skipping ports in use.
  #ephemeral(h: Host, proto: 'udp' | 'tcp'): number {
    const used = (p: number) => (proto === 'udp' ? h.udp.has(p) : h.listeners.has(p) || h.tcpClientPorts.has(p));
    for (let i = 0; i <= EPHEMERAL_LAST - EPHEMERAL_FIRST; i++) {
      const p = proto === 'udp' ? h.nextUdp : h.nextTcp;
      const next = p === EPHEMERAL_LAST ? EPHEMERAL_FIRST : p + 1;
      if (proto === 'udp') h.nextUdp = next;
      else h.nextTcp = next;
      if (!used(p)) return p;
    }
    throw transportError('EADDRINUSE', `${proto} ${h.ip}: no ephemeral port left`);
  }

  #linkFaults(from: string, to: string): LinkFaults {
    const l = this.#links.get(`${from}>${to}`);
    return l === undefined ? this.#faults : { ...this.#faults, ...l };
  }

  #delay(f: LinkFaults): number {
    return f.jitterMs > 0 ? f.latencyMs + this.#rand.float() * f.jitterMs : f.latencyMs;
  }

  #log(line: string): void {
    this.#trace?.(`t=${this.clock.nowMs().toFixed(3)} ${line}`);
  }
}

function checkFaults(f: Partial<LinkFaults>): Partial<LinkFaults> {
  const out: Partial<LinkFaults> = {};
  for (const k of ['latencyMs', 'jitterMs'] as const) {
    const v = f[k];
    if (v === undefined) continue;
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`memnet: ${k} must be a finite number >= 0, got ${v}`);
    out[k] = v;
  }
  for (const k of ['loss', 'dup'] as const) {
    const v = f[k];
    if (v === undefined) continue;
    if (!(v >= 0 && v <= 1)) throw new RangeError(`memnet: ${k} must be a probability in [0, 1], got ${v}`);
    out[k] = v;
  }
  return out;
}
