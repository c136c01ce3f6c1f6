// Raft messages between managers over a stream transport (TCP 2377 in the
// daemon, MemNet streams in simulations): one outbound connection per peer,
// dialled on demand, carrying length-prefixed CBOR frames. Raft tolerates
// loss, so this layer never retries a message: while a peer is unreachable its
// messages are dropped and counted, and a redial waits out a backoff.
import type { Clock, Timer } from '../../shared/clock.js';
import type { Addr, Stream, StreamListener, StreamTransport } from '../../shared/transport/types.js';
import { FrameReader, encodeFrame } from '../../shared/wire/frame.js';
import type { NodeId, RaftMessage } from './raft/index.js';
import { decodeRaftMessage, encodeRaftMessage } from './raft-wire.js';
import type { RaftPeers } from './replica.js';

export interface StreamPeersOptions {
  id: NodeId;
  transport: StreamTransport;
  /** Where this manager accepts its peers' connections. */
  listen: Addr;
  /** Where a peer listens; undefined while unknown. Read on every dial, so it follows membership. */
  addrOf(id: NodeId): Addr | undefined;
  clock: Clock;
  /** Frames held per peer while its connection opens (default 1024); older ones are dropped. During a redial backoff nothing is held. */
  maxQueuedFrames?: number;
  /** Wait before redialling a peer whose connection failed (default 200 ms, doubling to 2 s). */
  redialMinMs?: number;
  redialMaxMs?: number;
  connectTimeoutMs?: number;
}

export interface PeerStats {
  sent: number;
  received: number;
  /** Dropped because the peer was unreachable or its queue was full. */
  dropped: number;
  /** Frames that failed to decode; the stream that carried one is closed. */
  malformed: number;
}

interface Out {
  stream: Stream | undefined;
  connecting: boolean;
  queue: Uint8Array[];
  backoffUntilMs: number;
  backoffMs: number;
}

export class StreamPeers implements RaftPeers {
  readonly stats: PeerStats = { sent: 0, received: 0, dropped: 0, malformed: 0 };
  readonly #o: StreamPeersOptions;
  readonly #out = new Map<NodeId, Out>();
  readonly #in = new Set<Stream>();
  readonly #timers = new Set<Timer>();
  #listener: StreamListener | undefined;
  #cb: ((m: RaftMessage) => void) | undefined;
  #closed = false;

  private constructor(o: StreamPeersOptions) {
    this.#o = o;
  }

  static async start(o: StreamPeersOptions): Promise<StreamPeers> {
    const p = new StreamPeers(o);
    p.#listener = await o.transport.listen(o.listen, (s) => p.#accept(s));
    return p;
  }

  get local(): Addr {
    return this.#listener!.local;
  }

  onMessage(cb: (m: RaftMessage) => void): void {
    this.#cb = cb;
  }

  send(m: RaftMessage): void {
    if (this.#closed) return;
    const frame = encodeFrame(encodeRaftMessage(m));
    const out = this.#peer(m.to);
    if (out.stream) {
      out.stream.write(frame);
      this.stats.sent++;
      return;
    }
    if (this.#o.clock.nowMs() < out.backoffUntilMs) {
      // The peer was unreachable a moment ago: drop rather than deliver stale
      // messages later (Raft resends what still matters); one redial is pending.
      this.stats.dropped++;
      this.#dial(m.to, out);
      return;
    }
    if (out.queue.length >= (this.#o.maxQueuedFrames ?? 1024)) {
      out.queue.shift();
      this.stats.dropped++;
    }
    out.queue.push(frame);
    this.#dial(m.to, out);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
    for (const out of this.#out.values()) {
      out.stream?.destroy();
      this.stats.dropped += out.queue.length;
      out.queue = [];
    }
    for (const s of this.#in) s.destroy();
    await this.#listener?.close();
  }

  #peer(id: NodeId): Out {
    let out = this.#out.get(id);
    if (!out) {
      out = { stream: undefined, connecting: false, queue: [], backoffUntilMs: 0, backoffMs: 0 };
      this.#out.set(id, out);
    }
    return out;
  }

  #dial(id: NodeId, out: Out): void {
    if (out.connecting || out.stream || this.#closed) return;
    const now = this.#o.clock.nowMs();
    if (now < out.backoffUntilMs) {
      // Hold the queue until the backoff ends, then try once more.
      out.connecting = true;
      const t = this.#o.clock.after(out.backoffUntilMs - now, () => {
        this.#timers.delete(t);
        out.connecting = false;
        this.#dial(id, out);
      });
      this.#timers.add(t);
      return;
    }
    const addr = this.#o.addrOf(id);
    if (!addr) {
      this.stats.dropped += out.queue.length;
      out.queue = [];
      return;
    }
    out.connecting = true;
    this.#o.transport.connect(addr, { timeoutMs: this.#o.connectTimeoutMs ?? 2_000 }).then(
      (s) => {
        out.connecting = false;
        if (this.#closed) return s.destroy();
        out.stream = s;
        out.backoffMs = 0;
        s.onData(() => {}); // peers never answer on our outbound stream
        s.onClose(() => {
          if (out.stream === s) out.stream = undefined;
          this.#backoff(out);
        });
        for (const f of out.queue) s.write(f);
        this.stats.sent += out.queue.length;
        out.queue = [];
      },
      () => {
        out.connecting = false;
        this.stats.dropped += out.queue.length;
        out.queue = [];
        this.#backoff(out);
      },
    );
  }

  #backoff(out: Out): void {
    const min = this.#o.redialMinMs ?? 200;
    out.backoffMs = Math.min(this.#o.redialMaxMs ?? 2_000, out.backoffMs === 0 ? min : out.backoffMs * 2);
    out.backoffUntilMs = this.#o.clock.nowMs() + out.backoffMs;
  }

  #accept(s: Stream): void {
    if (this.#closed) return s.destroy();
    this.#in.add(s);
    const reader = new FrameReader();
    s.onClose(() => this.#in.delete(s));
    s.onData((chunk) => {
      let frames: Uint8Array[];
      try {
        frames = reader.push(chunk);
      } catch {
        this.stats.malformed++;
        return s.destroy();
      }
      for (const f of frames) {
        let m: RaftMessage;
        try {
          m = decodeRaftMessage(f);
        } catch {
          this.stats.malformed++;
          return s.destroy();
        }
        this.stats.received++;
        this.#cb?.(m);
      }
    });
  }
}
