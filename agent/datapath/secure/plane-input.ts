// Validation of what the control path hands the secure plane (STYLE habit
// 9: name the argument, what was expected, what came). Everything here throws
// a RangeError before the plane changes anything.
import { Buffer } from 'node:buffer';
import { keyPairFromPrivate, type KeyPair } from '../../../shared/crypto/noise-dh.js';
import { parseIPv4 } from '../../swarm/cidr.js';
import { checkVni } from '../vxlan-frame.js';
import { equalAt } from './cookie.js';
import type { DataKey, PeerIdentity } from './secure-plane.js';
import { KEY_BYTES } from './wire-format.js';

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && equalAt(a, 0, b, a.length);
}

/** The key pair of staticKey, checked: 32 bytes, and the public key is the private key's. */
export function checkStaticKey(fn: string, sk: { privateKey: Uint8Array; publicKey: Uint8Array } | undefined): KeyPair {
  if (!(sk?.privateKey instanceof Uint8Array) || sk.privateKey.length !== KEY_BYTES) {
    throw new RangeError(`${fn}: staticKey.privateKey must be ${KEY_BYTES} bytes, got ${sk?.privateKey instanceof Uint8Array ? sk.privateKey.length : typeof sk?.privateKey}`);
  }
  const kp = keyPairFromPrivate(sk.privateKey);
  if (!(sk.publicKey instanceof Uint8Array) || !equalBytes(kp.publicKey, sk.publicKey)) throw new RangeError(`${fn}: staticKey.publicKey is not the public key of staticKey.privateKey`);
  return kp;
}

export interface CheckedPeer {
  readonly p: PeerIdentity;
  readonly vnis: ReadonlySet<number> | null;
}

/** setPeers' list by VTEP, our own key left out; no VTEP or key twice. */
export function checkPeers(fn: string, peers: readonly PeerIdentity[], ours: Uint8Array): Map<string, CheckedPeer> {
  if (!Array.isArray(peers)) throw new RangeError(`${fn}: peers must be an array, got ${typeof peers}`);
  const out = new Map<string, CheckedPeer>();
  const keys = new Set<string>();
  peers.forEach((p, i) => {
    const at = `${fn}: peers[${i}]`;
    if (typeof p !== 'object' || p === null) throw new RangeError(`${at} must be an object, got ${p === null ? 'null' : typeof p}`);
    if (typeof p.nodeId !== 'string' || p.nodeId === '') throw new RangeError(`${at}.nodeId must be a non-empty string, got ${JSON.stringify(p.nodeId)}`);
    if (!(p.publicKey instanceof Uint8Array) || p.publicKey.length !== KEY_BYTES) throw new RangeError(`${at}.publicKey must be ${KEY_BYTES} bytes`);
    if (typeof p.vtep !== 'string' || parseIPv4(p.vtep) === undefined) throw new RangeError(`${at}.vtep must be a dotted IPv4 address, got ${JSON.stringify(p.vtep)}`);
    let vnis: ReadonlySet<number> | null = null;
    if (p.vnis !== undefined) {
      if (!Array.isArray(p.vnis)) throw new RangeError(`${at}.vnis must be an array of VNIs`);
      vnis = new Set((p.vnis as readonly unknown[]).map((v) => checkVni(`${at}.vnis`, v)));
    }
    if (equalBytes(p.publicKey, ours)) return; // ourselves
    const hex = Buffer.from(p.publicKey).toString('hex');
    if (out.has(p.vtep)) throw new RangeError(`${at}.vtep ${p.vtep} appears more than once`);
    if (keys.has(hex)) throw new RangeError(`${at}.publicKey appears more than once`);
    out.set(p.vtep, { p, vnis });
    keys.add(hex);
  });
  return out;
}

/** setNetworkKeys' arguments: a VNI, generations unique u32s, keys 32 bytes. */
export function checkDataKeys(fn: string, vni: number, keys: readonly DataKey[]): void {
  checkVni(fn, vni);
  if (!Array.isArray(keys)) throw new RangeError(`${fn}: keys must be an array, got ${typeof keys}`);
  const seen = new Set<number>();
  keys.forEach((k, i) => {
    const g = k?.generation;
    if (!Number.isInteger(g) || g < 0 || g > 0xffff_ffff) throw new RangeError(`${fn}: keys[${i}].generation must be an integer in 0..2^32-1, got ${g}`);
    if (seen.has(g)) throw new RangeError(`${fn}: generation ${g} appears more than once`);
    if (!(k.key instanceof Uint8Array) || k.key.length !== KEY_BYTES) throw new RangeError(`${fn}: keys[${i}].key must be ${KEY_BYTES} bytes`);
    seen.add(g);
  });
}
