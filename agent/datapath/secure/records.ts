// What the secure plane knows of each peer node and each network: the
// control-path records sessions hang off. Built by setPeers and
// setNetworkKeys (secure-plane.ts), which validate their input first.
import { dh, type KeyPair } from '../../../shared/crypto/noise-dh.js';
import { cookieReplyKeyFor, mac1KeyFor } from './cookie.js';
import type { Session } from './session.js';

/** A node allowed to talk to us, with what is precomputed per peer (as WireGuard does). */
export class PeerRecord {
  nodeId: string;
  readonly publicKey: Uint8Array;
  readonly vtep: string;
  /** The networks it may hold sessions on; null = any network we hold a key for. */
  vnis: ReadonlySet<number> | null;
  /** mac1 key of messages we send it. */
  readonly mac1Key: Uint8Array;
  /** The key its cookie replies to us are sealed with. */
  readonly cookieReplyKey: Uint8Array;
  /** DH(our static, its static): the "ss" of every initiation either way. */
  readonly ss: Uint8Array;
  /** The last cookie it sent us (for mac2 on our handshake messages to it) and when. */
  cookie: Uint8Array | null = null;
  cookieSetMs = 0;

  constructor(nodeId: string, publicKey: Uint8Array, vtep: string, vnis: ReadonlySet<number> | null, ours: KeyPair) {
    this.nodeId = nodeId;
    this.publicKey = Uint8Array.from(publicKey);
    this.vtep = vtep;
    this.vnis = vnis;
    this.mac1Key = mac1KeyFor(publicKey);
    this.cookieReplyKey = cookieReplyKeyFor(publicKey);
    this.ss = dh(ours, publicKey); // throws NoiseError for a low-order key: setPeers turns it into a RangeError
  }

  allowedOn(vni: number): boolean {
    return this.vnis === null || this.vnis.has(vni);
  }

  /** Its cookie while younger than lifetimeMs, else null (mac2 then stays zero). */
  freshCookie(nowMs: number, lifetimeMs: number): Uint8Array | null {
    return this.cookie !== null && nowMs - this.cookieSetMs < lifetimeMs ? this.cookie : null;
  }

  wipe(): void {
    this.ss.fill(0);
    this.cookie?.fill(0);
    this.cookie = null;
  }
}

export interface HeldKey {
  readonly generation: number;
  /** Our copy; zeroed when the generation goes. */
  readonly key: Uint8Array;
}

/** A network this node holds data keys for, and its sessions by peer VTEP. */
export class NetworkRecord {
  readonly vni: number;
  /** Oldest first; the last is what new handshakes use first. */
  keys: readonly HeldKey[] = [];
  readonly sessions = new Map<string, Session>();

  constructor(vni: number) {
    this.vni = vni;
  }

  find(generation: number): HeldKey | undefined {
    for (const k of this.keys) if (k.generation === generation) return k;
    return undefined;
  }
}
