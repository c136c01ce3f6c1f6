// A hand-driven network of SwimNodes for scenario tests: nothing moves until
// the test says so. Packets and push-pulls wait in queues the test delivers,
// drops or inspects; time is whatever the test passes. Every packet goes
// through the real codec (encodePacket, then receivePacket with the bytes),
// so the scenarios exercise the wire format as the daemon will.
import { SwimNode, lanConfig, encodePacket, encodePushPull, decodePushPull, type MemberEvent, type SwimConfig, type SwimMessage, type PushPullState } from '../../../../agent/gossip/swim/index.js';
import { seededRand } from '../../../../shared/rand.js';

export interface Wire {
  from: string;
  to: string;
  msg: SwimMessage;
}

export interface PendingPushPull {
  from: string;
  to: string;
  state: PushPullState;
}

export interface RunOptions {
  /** Nodes whose timers run (default: all). The others still answer what is delivered to them. */
  tick?: string[];
  /** Deliver only packets this accepts (default: all). */
  keep?: (w: Wire) => boolean;
  /** Run push-pulls, all (true) or those this accepts; default none. */
  pushPull?: boolean | ((from: string, to: string) => boolean);
  /** Called after each step. */
  after?: () => void;
}

/** Every message a packet carries, compounds opened. */
export function parts(w: Wire): SwimMessage[] {
  return w.msg.type === 'compound' ? w.msg.parts : [w.msg];
}

export const addr = (name: string): string => `192.0.2.${name.charCodeAt(0) - 96}:7946`;

export class SwimNet {
  readonly nodes = new Map<string, SwimNode>();
  readonly byAddr = new Map<string, SwimNode>();
  packets: Wire[] = [];
  pushPulls: PendingPushPull[] = [];
  readonly events = new Map<string, MemberEvent[]>();
  readonly users = new Map<string, Uint8Array[]>();
  now = 0;

  constructor(readonly config: SwimConfig = lanConfig()) {}

  /** A node named by one lowercase letter ('a' -> 192.0.2.1:7946), seeded by its name. */
  add(name: string, config: SwimConfig = this.config): SwimNode {
    const n = new SwimNode({ id: name, addr: addr(name), config, rand: seededRand(name.charCodeAt(0)) });
    this.nodes.set(name, n);
    this.byAddr.set(n.addr, n);
    this.events.set(name, []);
    this.users.set(name, []);
    return n;
  }

  node(name: string): SwimNode {
    const n = this.nodes.get(name);
    if (n === undefined) throw new Error(`no node ${name}`);
    return n;
  }

  /** Move every node's output into the queues (events and user payloads into their logs). */
  collect(): void {
    for (const [name, n] of this.nodes) {
      const out = n.drain();
      for (const p of out.packets) this.packets.push({ from: n.addr, to: p.to, msg: p.msg });
      for (const x of out.pushPulls) this.pushPulls.push({ from: n.addr, to: x.to, state: x.state });
      this.events.get(name)!.push(...out.events);
      for (const u of out.userMessages) this.users.get(name)!.push(u.payload);
    }
  }

  /** Deliver queued packets (through the codec) until none is left; drop those `keep` refuses. Returns how many arrived. */
  deliver(keep: (w: Wire) => boolean = () => true, rounds = 20): number {
    let n = 0;
    for (let r = 0; r < rounds; r++) {
      this.collect();
      const batch = this.packets;
      this.packets = [];
      if (batch.length === 0) break;
      for (const w of batch) {
        const to = this.byAddr.get(w.to);
        if (to === undefined || !keep(w)) continue;
        to.receivePacket(w.from, encodePacket(w.msg), this.now);
        n++;
      }
    }
    this.collect();
    return n;
  }

  /** Run queued push-pulls (through the codec) whose ends `ok` allows; the rest fail silently. */
  exchange(ok: (from: string, to: string) => boolean = () => true): void {
    for (let r = 0; r < 10; r++) {
      this.collect();
      const batch = this.pushPulls;
      this.pushPulls = [];
      if (batch.length === 0) return;
      for (const x of batch) {
        const to = this.byAddr.get(x.to);
        const from = this.byAddr.get(x.from);
        if (to === undefined || from === undefined || !ok(x.from, x.to)) continue;
        const req = decodePushPull(encodePushPull(x.state)).state;
        const reply = to.receivePushPull(x.from, req, this.now);
        from.receivePushPullReply(x.to, decodePushPull(encodePushPull(reply)).state, this.now);
      }
    }
  }

  /**
   * Advance time to t. At each instant one of the ticked nodes is due, tick
   * the due ones, then deliver packets (those `keep` allows; answers of
   * untouched nodes included) and run push-pulls (those `pushPull` allows;
   * none by default).
   */
  run(t: number, opts: RunOptions = {}): void {
    const ticked = (opts.tick ?? [...this.nodes.keys()]).map((n) => this.node(n));
    const keep = opts.keep ?? (() => true);
    for (;;) {
      let due = Infinity;
      for (const n of ticked) due = Math.min(due, n.nextDueMs());
      if (due > t) break;
      this.now = Math.max(this.now, due);
      for (const n of ticked) if (n.nextDueMs() <= this.now) n.tick(this.now);
      this.deliver(keep);
      if (opts.pushPull) this.exchange(opts.pushPull === true ? undefined : opts.pushPull);
      this.pushPulls = [];
      opts.after?.();
    }
    this.now = Math.max(this.now, t);
  }

  /** Tick only `name` at its due times until it emits a packet that `match` accepts; returns it (still queued). */
  until(name: string, match: (w: Wire) => boolean, limitMs = 60_000): Wire {
    const n = this.node(name);
    const end = this.now + limitMs;
    for (;;) {
      const hit = this.packets.find((w) => w.from === n.addr && match(w));
      if (hit !== undefined) return hit;
      const due = n.nextDueMs();
      if (due > end) throw new Error(`${name} sent no matching packet within ${limitMs} ms`);
      this.now = Math.max(this.now, due);
      n.tick(this.now);
      this.collect();
    }
  }

  /** Events seen by node `name` about member `id` (types only). */
  seen(name: string, id?: string): string[] {
    return this.events.get(name)!.filter((e) => id === undefined || e.member.id === id).map((e) => `${e.type}:${e.member.id}@${e.member.incarnation}`);
  }
}

/** Build a cluster where every node knows every other as alive (joined through node 'a', exchanges done, gossip settled). */
export function cluster(names: string[], config: SwimConfig = lanConfig()): SwimNet {
  const net = new SwimNet(config);
  for (const n of names) net.add(n);
  net.node(names[0]!).join([], 0);
  for (const n of names.slice(1)) net.node(n).join([addr(names[0]!)], 0);
  net.exchange();
  // A second round so the first joiners learn of the later ones too.
  for (const n of names.slice(1)) net.node(n).join([addr(names[0]!)], 0);
  net.exchange();
  net.packets = [];
  for (const n of names) net.events.get(n)!.length = 0;
  return net;
}
