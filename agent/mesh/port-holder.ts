// Published ports held on this node (issue 10, docs/routing-mesh.md): every
// TCP and UDP port the node publishes (ingress, host mode, `agent run -p`) is
// bound by the agent on all addresses, as docker's daemon does, so another
// program cannot take it unnoticed and a port another program holds is said
// instead of silently stolen by the NAT rules. TCP holders relay what reaches
// them (only connections the NAT rules leave alone: the node's loopback, and
// every connection of a port that asked for a PROXY protocol header). SCTP
// cannot be bound from Node: it is held in the books only.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import type { Logger } from '../daemon/log.js';
import { ProxyRelay, type RelayTarget } from './proxy-relay.js';

export type PublishProtocol = 'tcp' | 'udp' | 'sctp';

export interface PortClaim {
  protocol: PublishProtocol;
  published: number;
  /** TCP: where connections that reach the holder go (undefined: closed), and whether a PROXY v2 header goes first. */
  relay?: { target: () => RelayTarget | undefined; proxyHeader: boolean };
}

/** A port that cannot be had: another program has it, or another owner of ours. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(
    readonly port: string,
    /** Our owner holding it; undefined: another program. */
    readonly heldBy: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** SCTP publishing needs the kernel's SCTP connection tracking (NAT of SCTP ports). */
export class SctpUnsupportedError extends Error {
  override name = 'SctpUnsupportedError';
}

export const SCTP_UNSUPPORTED =
  'cannot publish sctp ports: this kernel has no SCTP connection tracking (nf_conntrack with SCTP), so it cannot NAT SCTP';

/** Whether this kernel can NAT SCTP: its conntrack exposes the SCTP timeouts. */
export function kernelNatsSctp(): boolean {
  return existsSync('/proc/sys/net/netfilter/nf_conntrack_sctp_timeout_established');
}

interface Held {
  owner: string;
  close(): Promise<void>;
}

const keyOf = (protocol: PublishProtocol, port: number): string => `${port}/${protocol}`;

export interface PortHolderOptions {
  log: Logger;
  /** Where holders bind (default every IPv4 address); tests use 127.0.0.1. */
  address?: string;
  /** Whether SCTP ports can be published here (default kernelNatsSctp). */
  sctp?: () => boolean;
}

export class PortHolder {
  readonly #o: PortHolderOptions;
  readonly #held = new Map<string, Held>();
  #busy: Promise<unknown> = Promise.resolve();

  constructor(o: PortHolderOptions) {
    this.#o = o;
  }

  /** Who of ours holds a port (`8080/tcp`), if anyone. */
  ownerOf(protocol: PublishProtocol, port: number): string | undefined {
    return this.#held.get(keyOf(protocol, port))?.owner;
  }

  /** Every port owner holds, as `8080/tcp`. */
  portsOf(owner: string): string[] {
    return [...this.#held].filter(([, h]) => h.owner === owner).map(([k]) => k);
  }

  /** Every owner holding a port. */
  get owners(): string[] {
    return [...new Set([...this.#held.values()].map((h) => h.owner))];
  }

  /**
   * owner holds exactly these ports afterwards, or, if one cannot be had,
   * exactly what it held before (the error names the first port refused).
   */
  claim(owner: string, claims: readonly PortClaim[]): Promise<void> {
    return this.#serial(async () => {
      const want = new Map(claims.map((c) => [keyOf(c.protocol, c.published), c]));
      const added: string[] = [];
      try {
        for (const [key, c] of want) {
          const h = this.#held.get(key);
          if (h?.owner === owner) continue;
          if (h) throw new PortInUseError(key, h.owner, `port ${key} is already published on this node by ${h.owner}`);
          this.#held.set(key, { owner, close: await this.#bind(c) });
          added.push(key);
        }
      } catch (e) {
        for (const key of added) await this.#drop(key);
        throw e;
      }
      for (const [key, h] of [...this.#held]) if (h.owner === owner && !want.has(key)) await this.#drop(key);
    });
  }

  /** Everything owner holds, let go. */
  release(owner: string): Promise<void> {
    return this.claim(owner, []);
  }

  /** Every port let go (the daemon stops). */
  close(): Promise<void> {
    return this.#serial(async () => {
      for (const key of [...this.#held.keys()]) await this.#drop(key);
    });
  }

  async #drop(key: string): Promise<void> {
    const h = this.#held.get(key);
    this.#held.delete(key);
    await h?.close().catch((e: unknown) => this.#o.log.warn('could not let a published port go', { port: key, error: (e as Error).message }));
  }

  async #bind(c: PortClaim): Promise<() => Promise<void>> {
    const key = keyOf(c.protocol, c.published);
    const host = this.#o.address ?? '0.0.0.0';
    const inUse = (e: unknown): Error =>
      (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new PortInUseError(key, undefined, `port ${key} is in use on this node by another program`) : (e as Error);
    if (c.protocol === 'sctp') {
      if (!(this.#o.sctp ?? kernelNatsSctp)()) throw new SctpUnsupportedError(SCTP_UNSUPPORTED);
      return async () => {};
    }
    if (c.protocol === 'udp') {
      const s = await bindUdp(host, c.published).catch((e: unknown) => Promise.reject(inUse(e)));
      return () => new Promise<void>((resolve) => s.close(() => resolve()));
    }
    const relay = c.relay ?? { target: () => undefined, proxyHeader: false };
    const r = await ProxyRelay.listen({ port: c.published, host, target: relay.target, proxyHeader: relay.proxyHeader, log: this.#o.log }).catch((e: unknown) => Promise.reject(inUse(e)));
    return () => r.close();
  }

  #serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.#busy.then(f, f);
    this.#busy = p.catch(() => {});
    return p;
  }
}

/** A UDP socket bound to the port that reads and drops whatever reaches it (nothing should: the NAT rules come first). */
function bindUdp(host: string, port: number): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type: 'udp4' });
    const fail = (e: Error) => {
      s.close();
      reject(e);
    };
    s.once('error', fail);
    s.bind({ port, address: host, exclusive: true }, () => {
      s.off('error', fail);
      s.on('error', () => {});
      s.on('message', () => {});
      resolve(s);
    });
  });
}
