// The socket objects of MemNet: datagram sockets, listeners and the two ends
// of a stream connection. They reach the network only through NetCore, which
// MemNet implements; the timing and fault decisions all live in memnet.ts.
import type { Timer } from '../clock.js';
import { StreamEvents } from './stream-events.js';
import { addrKey, transportError, type Addr, type DatagramSocket, type Stream, type StreamListener } from './types.js';

/** Something that owns in-flight stream segments: a connect attempt or a connection. */
export interface Carrier {
  parked: number;
  readonly dead: boolean;
  stalled(): void;
  unstalled(): void;
}

/** What the sockets need from the network. */
export interface NetCore {
  sendDatagram(from: Addr, to: Addr, data: Uint8Array): void;
  /** Move one stream segment; parked while the path is down. */
  carry(from: string, to: string, owner: Carrier, deliver: () => void): void;
  stallTimer(fn: () => void): Timer;
  readonly segmentBytes: number;
  log(line: string): void;
}

export class MemDatagramSocket implements DatagramSocket {
  readonly local: Addr;
  #net: NetCore;
  #cbs: ((data: Uint8Array, from: Addr) => void)[] = [];
  #closed: Promise<void> | undefined;
  #unbind: () => void;

  constructor(local: Addr, net: NetCore, unbind: () => void) {
    this.local = local;
    this.#net = net;
    this.#unbind = unbind;
  }

  send(data: Uint8Array, to: Addr): void {
    if (this.#closed === undefined) this.#net.sendDatagram(this.local, to, data);
  }

  onMessage(cb: (data: Uint8Array, from: Addr) => void): void {
    this.#cbs.push(cb);
  }

  /** Returns false when nobody could take the datagram. */
  receive(data: Uint8Array, from: Addr): boolean {
    if (this.#closed !== undefined || this.#cbs.length === 0) return false;
    for (const cb of this.#cbs) cb(data, { ...from });
    return true;
  }

  close(): Promise<void> {
    if (this.#closed === undefined) {
      this.#unbind();
      this.#cbs = [];
      this.#closed = Promise.resolve();
    }
    return this.#closed;
  }
}

export class MemListener implements StreamListener {
  readonly local: Addr;
  #onConn: (s: Stream) => void;
  #closed: Promise<void> | undefined;
  #unbind: () => void;

  constructor(local: Addr, onConn: (s: Stream) => void, unbind: () => void) {
    this.local = local;
    this.#onConn = onConn;
    this.#unbind = unbind;
  }

  accept(s: MemStream): void {
    this.#onConn(s);
  }

  close(): Promise<void> {
    if (this.#closed === undefined) {
      this.#unbind();
      this.#closed = Promise.resolve();
    }
    return this.#closed;
  }
}

/** One connection: two ends and the stall timer that resets both. */
export class Conn implements Carrier {
  parked = 0;
  ends: MemStream[] = [];
  #net: NetCore;
  #stall: Timer | undefined;
  #freePort: () => void;
  #done = false;

  constructor(net: NetCore, freePort: () => void) {
    this.#net = net;
    this.#freePort = freePort;
  }

  get dead(): boolean {
    return this.ends.every((e) => e.closed);
  }

  stalled(): void {
    this.#stall ??= this.#net.stallTimer(() => {
      this.#stall = undefined;
      for (const e of this.ends) e.reset(transportError('ETIMEDOUT', 'stream stalled past the stall timeout'));
    });
  }

  unstalled(): void {
    this.#stall?.cancel();
    this.#stall = undefined;
  }

  endClosed(): void {
    if (this.#done || !this.dead) return;
    this.#done = true;
    this.unstalled();
    this.#freePort();
  }
}

interface Segment {
  seq: number;
  data?: Uint8Array;
  fin?: true;
}

export class MemStream implements Stream {
  readonly local: Addr;
  readonly remote: Addr;
  #net: NetCore;
  #conn: Conn;
  #ev = new StreamEvents();
  #sendSeq = 0;
  #recvSeq = 0;
  #reorder = new Map<number, Segment>();
  #finSent = false;

  constructor(net: NetCore, conn: Conn, local: Addr, remote: Addr) {
    this.#net = net;
    this.#conn = conn;
    this.local = local;
    this.remote = remote;
  }

  get closed(): boolean {
    return this.#ev.closed;
  }

  #peer(): MemStream {
    return this.#conn.ends[0] === this ? this.#conn.ends[1]! : this.#conn.ends[0]!;
  }

  write(data: Uint8Array): void {
    if (this.#ev.closed || this.#finSent) return;
    const n = this.#net.segmentBytes;
    for (let off = 0; off < data.length; off += n) this.#send({ seq: this.#sendSeq++, data: data.slice(off, off + n) });
  }

  end(): void {
    if (this.#ev.closed || this.#finSent) return;
    this.#finSent = true;
    this.#send({ seq: this.#sendSeq++, fin: true });
  }

  destroy(err?: Error): void {
    if (this.#ev.closed) return;
    const peer = this.#peer();
    this.#net.log(`reset ${addrKey(this.local)}>${addrKey(this.remote)}`);
    this.#close(err);
    // The RST is not sequenced: it may overtake data still in flight, as on a real wire.
    if (!peer.closed) this.#net.carry(this.local.host, this.remote.host, this.#conn, () => peer.reset(transportError('ECONNRESET', 'connection reset by peer')));
  }

  onData(cb: (d: Uint8Array) => void): void {
    this.#ev.onData(cb);
  }

  onClose(cb: (err?: Error) => void): void {
    this.#ev.onClose(cb);
  }

  /** @internal An abort from the network (peer RST, stall, failed connect). */
  reset(err: Error): void {
    if (!this.#ev.closed) this.#close(err);
  }

  #send(seg: Segment): void {
    const peer = this.#peer();
    this.#net.carry(this.local.host, this.remote.host, this.#conn, () => peer.#receive(seg));
  }

  // Reassemble in sequence order: a parked and re-sent segment may land after later ones.
  #receive(seg: Segment): void {
    if (this.#ev.closed) return;
    this.#reorder.set(seg.seq, seg);
    for (let s = this.#reorder.get(this.#recvSeq); s !== undefined && !this.#ev.closed; s = this.#reorder.get(this.#recvSeq)) {
      this.#reorder.delete(this.#recvSeq++);
      if (s.data !== undefined) this.#ev.data(s.data);
      if (s.fin) {
        // Like a socket without allowHalfOpen: answer the peer's FIN with ours, then close.
        this.end();
        this.#net.log(`fin ${addrKey(this.remote)}>${addrKey(this.local)}`);
        this.#close(undefined);
      }
    }
  }

  #close(err: Error | undefined): void {
    this.#reorder.clear();
    this.#ev.close(err);
    this.#conn.endClosed();
  }
}
