// A small cluster for the channel tests: a CA, a manager, a member, join
// tokens, and a MemNet under a ManualClock, plus helpers that pump the clock.
import { ManualClock } from '../../../../shared/clock.js';
import { seededRand, type Rand } from '../../../../shared/rand.js';
import { MemNet } from '../../../../shared/transport/memnet.js';
import type { Stream, StreamTransport } from '../../../../shared/transport/types.js';
import { CertificateAuthority } from '../../../../agent/cluster/ca/ca.js';
import { JoinRateLimiter } from '../../../../agent/cluster/ca/join-rate-limiter.js';
import { newJoinTokens, type JoinTokens } from '../../../../agent/cluster/ca/join-token.js';
import { generateNodeKey, type NodeKey } from '../../../../agent/cluster/ca/node-key.js';
import type { NodeRole } from '../../../../agent/cluster/store/types.js';
import { secureListen, type ListenOptions, type SecureConn, type SecureListener, type TrustConfig } from '../../../../agent/cluster/channel/index.js';

export const MANAGER_IP = '10.0.0.1';
export const MEMBER_IP = '10.0.0.2';
export const PORT = 2377;

export interface Node {
  key: NodeKey;
  cert: Uint8Array;
}

export class World {
  readonly clock = new ManualClock();
  readonly rand: Rand;
  readonly net: MemNet;
  readonly ca: CertificateAuthority;
  readonly tokens: JoinTokens;
  readonly revoked = new Set<string>();
  readonly manager: Node;
  readonly member: Node;

  constructor(seed = 1) {
    this.rand = seededRand(seed);
    this.net = new MemNet({ clock: this.clock, rand: this.rand.fork(), latencyMs: 1, streamSegmentBytes: 4096 });
    this.ca = CertificateAuthority.create(this.rand.fork(), this.clock);
    this.tokens = newJoinTokens(this.ca.digest(), this.rand.fork());
    this.manager = this.node('manager');
    this.member = this.node('worker');
  }

  node(role: NodeRole, ca: CertificateAuthority = this.ca, validityMs?: number): Node {
    const key = generateNodeKey(this.rand);
    const cert = ca.issue({ nodeId: key.nodeId, role, publicKey: key.publicKey, ...(validityMs === undefined ? {} : { validityMs }) });
    return { key, cert: cert.bytes };
  }

  transport(ip: string): StreamTransport {
    return this.net.stream(ip);
  }

  memberTrust(node: Node = this.member): TrustConfig {
    return { kind: 'member', root: this.ca.root, revoked: () => this.revoked, cert: node.cert };
  }

  /** A manager listening on MANAGER_IP:2377; accepted channels land in `conns`. */
  async listen(over: Partial<ListenOptions> = {}, ca: CertificateAuthority = this.ca): Promise<{ l: SecureListener; conns: SecureConn[] }> {
    const conns: SecureConn[] = [];
    const l = await this.settle(
      secureListen(this.transport(MANAGER_IP), { host: MANAGER_IP, port: PORT }, {
        key: this.manager.key,
        cert: this.manager.cert,
        root: ca.root,
        revoked: () => this.revoked,
        tokens: () => this.tokens,
        limiter: new JoinRateLimiter(this.clock),
        clock: this.clock,
        rand: this.rand.fork(),
        onConn: (c) => conns.push(c),
        ...over,
      }),
    );
    return { l, conns };
  }

  /** One step of the world: the next timer, then the microtasks it queued. */
  async pump(): Promise<void> {
    this.clock.runNext();
    await new Promise<void>((r) => setImmediate(r));
  }

  async until(cond: () => boolean, what: string, maxSteps = 100_000): Promise<void> {
    for (let i = 0; !cond(); i++) {
      if (i >= maxSteps) throw new Error(`gave up after ${maxSteps} steps waiting for ${what}`);
      await this.pump();
    }
  }

  async settle<T>(p: Promise<T>): Promise<T> {
    let done = false;
    p.then(() => (done = true), () => (done = true));
    await this.until(() => done, 'promise to settle');
    return p;
  }

  async rejection(p: Promise<unknown>): Promise<Error & { code?: string; reason?: string }> {
    try {
      await this.settle(p);
    } catch (e) {
      return e as Error & { code?: string; reason?: string };
    }
    throw new Error('expected a rejection');
  }
}

/**
 * A TCP relay on `ip`:2377 to `to`, the man on the wire: `tamper` flips the
 * last byte of the next chunk going client -> server.
 */
export class Relay {
  tamper = false;
  readonly streams: Stream[] = [];
  constructor(readonly world: World) {}

  async start(ip: string, to: { host: string; port: number }): Promise<{ close(): Promise<void> }> {
    const t = this.world.transport(ip);
    return this.world.settle(
      t.listen({ host: ip, port: PORT }, (client) => {
        this.streams.push(client);
        const held: Uint8Array[] = [];
        let server: Stream | undefined;
        client.onData((d) => {
          let out = d;
          if (this.tamper) {
            this.tamper = false;
            out = Uint8Array.from(d);
            out[out.length - 1]! ^= 0x01;
          }
          if (server) server.write(out);
          else held.push(out);
        });
        void t.connect(to).then((s) => {
          server = s;
          this.streams.push(s);
          for (const h of held.splice(0)) s.write(h);
          s.onData((d) => client.write(d));
          s.onClose(() => client.destroy());
          client.onClose(() => s.destroy());
        });
      }),
    );
  }
}

export const bytes = (n: number, seed = 9): Uint8Array => seededRand(seed).bytes(n);
export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);
