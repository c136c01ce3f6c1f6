// The gossip keyring of one node (issue 5, DESIGN §1 gossip row). The ring
// comes from the store through the dispatcher (agent/swarm/gossip-keys.ts
// makes it: a new key every 12 h, the newest 3 kept); this object holds it,
// picks the key to send with, and owns the per-key nonce state, so the only
// thing a caller can do with a key is seal a message under a fresh nonce or
// open one (STYLE habit 10). The packet format is sealed-packet.ts.
//
// Which key to send with. The leader adds one key per rotation and drops the
// oldest beyond 3, so the rings go
//
//   R0 = [g1]   R1 = [g1 g2]   R2 = [g1 g2 g3]   R3 = [g2 g3 g4]   R4 = [g3 g4 g5] ...
//
// and a node whose dispatcher session lags holds the previous ring for a
// while. Sending with the SECOND NEWEST key (the only key when there is one)
// is the choice that lets a node on R(n) and a node on R(n-1) read each other
// in both directions:
//   - R(n)'s second newest is the newest key of R(n-1), so the lagging node
//     already has it (it has not yet seen R(n)'s newest key);
//   - R(n-1)'s second newest is still in R(n) (only R(n-1)'s oldest is gone).
// Sending with the newest fails the first direction, sending with the oldest
// the second. In a steady 3-key ring this is the middle key: swarmkit's
// leader starts with 3 keys and libnetwork's agent.go sends with the
// second-oldest of them (getPrimaryKeyTag), which is the same key. With 2
// keys we take the older one, since R0 never held the newer. A node more than
// one rotation behind shares no sending key with the others: its packets and
// theirs are dropped as `unknownKey` until its next assignment.
//
// Nonces. Every node of the cluster seals under the same key, so a nonce must
// be unique across all senders, not just within one. Each key, when this
// process installs it, draws an 8-byte random salt; messages under it use
// nonce = salt || u32 big-endian counter (0, 1, 2, ...). Within a process the
// counter makes nonces unique by construction; across processes (other nodes,
// or this node after a restart) two nonces can only collide if two salts do,
// probability <= P^2 / 2^65 for P installs of one key (2^-41 at 4096 nodes).
// The alternatives we passed on:
//   - 4-byte salt || u64 counter (the TLS/Noise shape) is meant for a key with
//     one sender per direction. With a group key the 4-byte salts collide at
//     ~2^16 senders, and two senders with the same salt count up in lockstep
//     from 0: certain nonce reuse, which in GCM leaks the authentication key.
//   - a fully random 96-bit nonce collides by the birthday bound on the
//     cluster's TOTAL traffic under the key (q^2 / 2^97: about 2^-33 at 2^32
//     messages per 12 h), which no single node can count, and costs a CSPRNG
//     call per packet.
// The counter never needs more than 32 bits because we stop much earlier:
// DEFAULT_MAX_SEALS_PER_KEY is 2^28 messages per key per process, the AES-GCM
// confidentiality limit of RFC 9001 (§6.6, Appendix B.1.1) for packets of at
// most 2 KiB (gossip packets are <= 1400 B). At 1,000 messages/s that is 74
// hours on one key, six 12 h rotations: reaching it means rotation has
// stopped (no leader for days), and seal then throws rather than wear the key
// further. That bound really applies to all senders of a key together; the
// per-process limit is the backstop one node can enforce, and the 12 h
// rotation is what keeps the cluster total low (docs/gossip-encryption.md).
import { AEAD_NONCE_BYTES, nodeAesGcm, type AesGcmImpl } from '../../shared/crypto/aead.js';
import { cryptoRand, type Rand } from '../../shared/rand.js';

/** swarmkit keeps three: the one being phased out, the one in use, the newest (REFERENCE: key manager). */
export const GOSSIP_RING_MAX_KEYS = 3 as const;
/** AES-256. */
export const GOSSIP_KEY_BYTES = 32 as const;
/** nonce = salt (8 bytes, random per key per process) || counter (u32 big-endian). */
export const NONCE_SALT_BYTES = 8 as const;
export const NONCE_COUNTER_BYTES = 4 as const;
/** RFC 9001 §6.6: AES-GCM confidentiality limit for packets of at most 2 KiB. */
export const DEFAULT_MAX_SEALS_PER_KEY = 2 ** 28;
/** The counter is a u32 (NONCE_COUNTER_BYTES), so no limit can go past 2^32 messages. */
const MAX_SEALS_CEILING = 2 ** 32;
const U32_MAX = 0xffff_ffff;

/** One key as the store and the dispatcher carry it. */
export interface GossipKey {
  /** u32; grows by one per rotation. */
  readonly generation: number;
  /** GOSSIP_KEY_BYTES bytes of AES-256 key. */
  readonly key: Uint8Array;
}

/**
 * Packets open() refused, by reason (sealed-packet.ts fills them). Counters
 * only: a bad packet is never logged one by one (STYLE habit 8).
 */
export interface GossipDrops {
  /** Generation not in the ring: a sender on a ring more than one rotation away from ours, or junk. */
  unknownKey: number;
  /** Authentication failed: tampering, corruption, or a sender with different key bytes under that generation. */
  badTag: number;
  /** Shorter than the smallest sealed packet. */
  tooShort: number;
  /** First byte is not a format version we read. */
  badVersion: number;
}

/** A key of the ring. Its bytes never leave it; sealing always takes the next nonce. */
export interface RingKey {
  readonly generation: number;
  /** Messages this process has sealed under this key. */
  readonly sealed: number;
  /**
   * Writes a fresh nonce at out[nonceOff, +12) and ciphertext || tag at
   * out[ctOff, +plaintext.length+16), authenticating ad. Throws once the key
   * has sealed its limit of messages.
   */
  sealInto(ad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, nonceOff: number, ctOff: number): void;
  /** Writes the plaintext at out[outOff ..]; false, with nothing written, if it does not authenticate. */
  openInto(ad: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, out: Uint8Array, outOff: number): boolean;
}

export interface GossipKeyringOptions {
  /** Where nonce salts come from; cryptoRand() unless a test injects a seeded one. */
  rand?: Rand;
  /** AES-256-GCM implementation; node:crypto unless a test cross-checks with @noble/ciphers. */
  aead?: AesGcmImpl;
  /** Messages one key may seal in this process; DEFAULT_MAX_SEALS_PER_KEY unless a test needs to reach it. */
  maxSealsPerKey?: number;
}

class KeyState implements RingKey {
  readonly generation: number;
  readonly #key: Uint8Array;
  readonly #salt: Uint8Array;
  readonly #aead: AesGcmImpl;
  readonly #max: number;
  #sealed = 0;

  constructor(generation: number, key: Uint8Array, salt: Uint8Array, aead: AesGcmImpl, max: number) {
    this.generation = generation;
    this.#key = key;
    this.#salt = salt;
    this.#aead = aead;
    this.#max = max;
  }

  get sealed(): number {
    return this.#sealed;
  }

  sameKey(key: Uint8Array): boolean {
    let diff = 0;
    for (let i = 0; i < GOSSIP_KEY_BYTES; i++) diff |= this.#key[i]! ^ key[i]!;
    return diff === 0;
  }

  sealInto(ad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, nonceOff: number, ctOff: number): void {
    const n = this.#sealed;
    if (n >= this.#max) {
      throw new RangeError(
        `seal: gossip key generation ${this.generation} has sealed ${n} messages, its limit; ` +
          'refusing to use it further until the keyring holds a newer key (the leader rotates gossip keys, every 12 h by default)',
      );
    }
    const nonce = out.subarray(nonceOff, nonceOff + AEAD_NONCE_BYTES);
    nonce.set(this.#salt, 0);
    nonce[8] = n >>> 24;
    nonce[9] = (n >>> 16) & 0xff;
    nonce[10] = (n >>> 8) & 0xff;
    nonce[11] = n & 0xff;
    this.#sealed = n + 1; // counted before sealing: a nonce is spent even if sealing throws
    this.#aead.sealInto(this.#key, nonce, ad, plaintext, out, ctOff);
  }

  openInto(ad: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, out: Uint8Array, outOff: number): boolean {
    return this.#aead.openInto(this.#key, nonce, ad, sealed, out, outOff);
  }
}

/** Throws unless keys is a valid ring; returns it sorted oldest first. */
function checkRing(keys: readonly GossipKey[]): GossipKey[] {
  if (!Array.isArray(keys)) throw new TypeError(`GossipKeyring: keys must be an array, got ${typeof keys}`);
  if (keys.length < 1 || keys.length > GOSSIP_RING_MAX_KEYS) {
    throw new RangeError(`GossipKeyring: keys must hold 1 to ${GOSSIP_RING_MAX_KEYS} keys, got ${keys.length}`);
  }
  const seen = new Set<number>();
  keys.forEach((k, i) => {
    const g = k?.generation;
    if (!Number.isInteger(g) || g < 0 || g > U32_MAX) {
      throw new RangeError(`GossipKeyring: keys[${i}].generation must be an integer in 0..2^32-1, got ${g}`);
    }
    if (!(k.key instanceof Uint8Array)) throw new TypeError(`GossipKeyring: keys[${i}].key must be a Uint8Array, got ${typeof k.key}`);
    if (k.key.length !== GOSSIP_KEY_BYTES) {
      throw new RangeError(`GossipKeyring: keys[${i}].key must be ${GOSSIP_KEY_BYTES} bytes, got ${k.key.length}`);
    }
    if (seen.has(g)) throw new RangeError(`GossipKeyring: generation ${g} appears more than once`);
    seen.add(g);
  });
  return [...keys].sort((a, b) => a.generation - b.generation);
}

/** The keys this node accepts, the one it sends with, and the drop counters of open(). */
export class GossipKeyring {
  /** Filled by open() in sealed-packet.ts. */
  readonly drops: GossipDrops = { unknownKey: 0, badTag: 0, tooShort: 0, badVersion: 0 };
  readonly #rand: Rand;
  readonly #aead: AesGcmImpl;
  readonly #max: number;
  /** Oldest first. */
  #ring: KeyState[] = [];
  #generations: readonly number[] = [];

  constructor(keys: readonly GossipKey[], opts: GossipKeyringOptions = {}) {
    const max = opts.maxSealsPerKey ?? DEFAULT_MAX_SEALS_PER_KEY;
    if (!Number.isInteger(max) || max < 1 || max > MAX_SEALS_CEILING) {
      throw new RangeError(`GossipKeyring: maxSealsPerKey must be an integer in 1..2^32, got ${max}`);
    }
    this.#rand = opts.rand ?? cryptoRand();
    this.#aead = opts.aead ?? nodeAesGcm;
    this.#max = max;
    this.set(keys);
  }

  /**
   * Replaces the ring with keys (1 to 3, any order; the dispatcher's latest).
   * All or nothing: on a validation error the ring is unchanged. A key kept
   * with the same generation and bytes keeps its nonce salt and counter;
   * anything else starts a fresh salt, so no set() sequence repeats a nonce.
   */
  set(keys: readonly GossipKey[]): void {
    const sorted = checkRing(keys);
    this.#ring = sorted.map((k) => {
      const old = this.#ring.find((s) => s.generation === k.generation);
      if (old?.sameKey(k.key)) return old;
      return new KeyState(k.generation, Uint8Array.from(k.key), this.#rand.bytes(NONCE_SALT_BYTES), this.#aead, this.#max);
    });
    this.#generations = Object.freeze(sorted.map((k) => k.generation));
  }

  /** The key to send with: the second newest, or the only one (see the header). */
  primary(): RingKey {
    return this.#ring[Math.max(0, this.#ring.length - 2)]!;
  }

  /** The key of that generation, if the ring holds it. */
  get(generation: number): RingKey | undefined {
    for (const s of this.#ring) if (s.generation === generation) return s;
    return undefined;
  }

  /** Generations in the ring, oldest first. */
  get generations(): readonly number[] {
    return this.#generations;
  }
}
