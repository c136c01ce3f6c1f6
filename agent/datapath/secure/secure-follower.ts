// The encrypted overlays follow the node's assignment (issue 7): one secure
// plane per membership (this node's static key), the peers that share an
// encrypted network with it, and the data keys of the networks it has
// endpoints on; a network whose keys left the assignment is told it has none.
import { realClock } from '../../../shared/clock.js';
import { cryptoRand } from '../../../shared/rand.js';
import type { Logger } from '../../daemon/log.js';
import type { Assignment } from '../../swarm/manager.js';
import type { DataPlane } from '../data-plane.js';
import { SecurePlane } from './secure-plane.js';

/** This node's static X25519 key pair (its node key). */
type StaticKey = { privateKey: Uint8Array; publicKey: Uint8Array };

export class SecureFollower {
  readonly #data: DataPlane;
  readonly #log: Logger;
  readonly #rekeyMs: number | undefined;
  /** VNIs the secure plane was given keys for. */
  #keyed = new Set<number>();

  /** rekeyMs: re-handshake this often instead of WireGuard's 120 s (tests). */
  constructor(o: { data: DataPlane; log: Logger; rekeyMs?: number }) {
    this.#data = o.data;
    this.#log = o.log;
    this.#rekeyMs = o.rekeyMs;
  }

  /** The assignment now (undefined: not in a swarm) and this node's static key, once it has one. */
  follow(a: Assignment | undefined, staticKey: StaticKey | undefined): void {
    if (!a || !staticKey) {
      this.#data.setSecure(undefined);
      this.#keyed.clear();
      return;
    }
    const sp = this.#data.secure ?? this.#start(staticKey);
    const vniOf = new Map(a.dataKeys.map((k) => [k.networkId, k.vni]));
    sp.setPeers(
      a.peers.map((p) => ({ nodeId: p.nodeId, publicKey: p.publicKey, vtep: p.vtep, vnis: p.networks.map((n) => vniOf.get(n)).filter((v): v is number => v !== undefined) })),
    );
    const now = new Set<number>();
    for (const k of a.dataKeys) {
      sp.setNetworkKeys(k.vni, k.keys);
      now.add(k.vni);
    }
    for (const vni of this.#keyed) if (!now.has(vni)) sp.setNetworkKeys(vni, []);
    this.#keyed = now;
  }

  #start(staticKey: StaticKey): SecurePlane {
    const log = this.#log;
    const sp = new SecurePlane({
      staticKey,
      clock: realClock(),
      rand: cryptoRand(),
      out: {
        ...this.#data.secureOutput(),
        // Said once per change, never per packet: a peer that cannot be reached is no silent black hole.
        onStatus: (vni, vtep, st) => {
          if (st.state === 'failed' || st.state === 'no-key') log.warn('encrypted session down', { vni, peer: st.nodeId, vtep, state: st.state, reason: st.reason });
          else if (st.state === 'up') log.debug('encrypted session up', { vni, peer: st.nodeId, vtep });
        },
      },
      ...(this.#rekeyMs ? { config: shortRekey(this.#rekeyMs) } : {}),
    });
    this.#data.setSecure(sp);
    return sp;
  }
}

/**
 * WireGuard's timers scaled down to a short rekey period (tests): reject at
 * 1.5x as 180/120 s, and handshake retries 8 per period, so that a rekey
 * whose first attempt goes unanswered (a peer one key rotation behind)
 * completes well before the old keys expire.
 */
function shortRekey(rekeyMs: number): { rekeyAfterMs: number; rejectAfterMs: number; handshakeRetryMs: number; handshakeJitterMs: number; keepaliveMs: number } {
  return {
    rekeyAfterMs: rekeyMs,
    rejectAfterMs: Math.round(rekeyMs * 1.5),
    handshakeRetryMs: Math.max(100, Math.round(rekeyMs / 8)),
    handshakeJitterMs: Math.max(10, Math.round(rekeyMs / 24)),
    keepaliveMs: Math.max(100, Math.round(rekeyMs / 12)),
  };
}
