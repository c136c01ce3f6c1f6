// The data keys of encrypted overlays (issue 7, DESIGN §1, §2, §4): one key
// per network created with `--opt encrypted`, made by the leader in the batch
// that creates the network and removed in the batch that removes it; a new
// generation every keyRotationMs, the newest KEEP_DATA_KEYS kept, as the
// gossip keyring (gossip-keys.ts). The key is the PSK of the network's
// Noise_IKpsk2 sessions, so a rotation only changes the next handshake.
//
// Distribution differs from docker's: swarmkit hands one cluster-wide key to
// every node; here a node's assignment carries a network's keys only while it
// has an endpoint (a task with an address) on that network, and lists as
// peers only the nodes it shares such a network with. A node whose last
// endpoint on a network goes loses its keys at once, and the next rotation
// makes whatever it remembers useless. Pure: the timer is key-rotator.ts.
import type { Rand } from '../../shared/rand.js';
import { batch, create, remove, type Change, type Command, type Store } from '../cluster/store/index.js';
import type { Key, Network, Node } from '../cluster/store/types.js';
import { KEEP_GOSSIP_KEYS, nextRotationAtMs } from './gossip-keys.js';
import type { KeySchedule } from './key-rotator.js';
import { hostOf } from './views.js';

/** The same rule as the gossip keyring: the key being phased out, the one in use, the newest. */
export const KEEP_DATA_KEYS = KEEP_GOSSIP_KEYS;
/** A Noise PSK is 32 bytes (Noise spec §9). */
export const DATA_KEY_BYTES = 32;

/** A network's keys, oldest first (in an assignment). */
export interface NetworkDataKeys {
  networkId: string;
  vni: number;
  keys: { generation: number; key: Uint8Array }[];
}

/** Another node with endpoints on at least one encrypted network this node has endpoints on. */
export interface DataPeer {
  nodeId: string;
  /** X25519 static key (Node.publicKey). */
  publicKey: Uint8Array;
  /** Where its data frames go: Node.dataAddr, else the host of its advertise address. */
  vtep: string;
  /** The encrypted networks it shares with this node, sorted. */
  networks: string[];
}

export function dataKeyId(networkId: string, generation: number): string {
  return `data-${networkId}-${generation}`;
}

/** A network's data keys in the store, oldest first. */
export function dataKeysOf(store: Store, networkId: string): Key[] {
  return store.list('key', (k) => k.kind === 'data' && k.networkId === networkId).sort((a, b) => a.generation - b.generation);
}

/** The first key of a new encrypted network, for the batch that creates it. */
export function firstDataKey(networkId: string, rand: Rand, nowMs: number): Change {
  return create('key', { id: dataKeyId(networkId, 1), kind: 'data', networkId, generation: 1, key: rand.bytes(DATA_KEY_BYTES), createdAtMs: Math.floor(nowMs) });
}

/** Deletes of every data key of a network, for the batch that removes it. */
export function dropDataKeys(store: Store, networkId: string): Change[] {
  return dataKeysOf(store, networkId).map((k) => remove('key', k.id, k.meta.version));
}

/** Data keys whose network is gone or not encrypted (a network removed while a rotation was in flight). */
function strayDataKeys(store: Store): Key[] {
  return store.list('key', (k) => {
    if (k.kind !== 'data') return false;
    const n = k.networkId === undefined ? undefined : store.get('network', k.networkId);
    return !n || !n.encrypted;
  });
}

function encryptedNetworks(store: Store): Network[] {
  return store.list('network', (n) => n.encrypted);
}

/**
 * Wall ms at which the next data key change is due: one period after a
 * network's newest key, now for an encrypted network without a key (made
 * before keys existed) or for stray keys, Infinity when there is nothing.
 */
export function nextDataRotationAtMs(store: Store, periodMs: number, nowMs: number): number {
  if (strayDataKeys(store).length > 0) return nowMs;
  let due = Infinity;
  for (const n of encryptedNetworks(store)) due = Math.min(due, nextRotationAtMs(dataKeysOf(store, n.id), periodMs, nowMs));
  return due;
}

/**
 * The command for what is due at nowMs: the next generation of each due
 * network (networks in id order, so the same store and seed give the same
 * keys), its keys beyond KEEP_DATA_KEYS dropped oldest first, and stray keys
 * removed. Undefined when nothing is due.
 */
export function rotateDataKeys(store: Store, rand: Rand, periodMs: number, nowMs: number): { command: Command; networks: string[] } | undefined {
  const changes: Change[] = [];
  const rotated: string[] = [];
  for (const n of encryptedNetworks(store)) {
    const keys = dataKeysOf(store, n.id);
    if (nextRotationAtMs(keys, periodMs, nowMs) > nowMs) continue;
    const generation = keys.reduce((m, k) => Math.max(m, k.generation), 0) + 1;
    changes.push(create('key', { id: dataKeyId(n.id, generation), kind: 'data', networkId: n.id, generation, key: rand.bytes(DATA_KEY_BYTES), createdAtMs: Math.floor(nowMs) }));
    const drop = keys.length + 1 - KEEP_DATA_KEYS;
    for (const k of keys.slice(0, Math.max(0, drop))) changes.push(remove('key', k.id, k.meta.version));
    rotated.push(`${n.name}:${generation}`);
  }
  for (const k of strayDataKeys(store)) changes.push(remove('key', k.id, k.meta.version));
  return changes.length === 0 ? undefined : { command: batch(...changes), networks: rotated };
}

/** The data keys' schedule for the leader's KeyRotator. */
export const DATA_KEY_SCHEDULE: KeySchedule = {
  name: 'data keys',
  dueAtMs: nextDataRotationAtMs,
  rotate(store, rand, periodMs, nowMs) {
    const r = rotateDataKeys(store, rand, periodMs, nowMs);
    return r && { command: r.command, fields: { networks: r.networks.join(',') } };
  },
};

/** Where a node's data frames go. */
export function vtepOf(n: Pick<Node, 'dataAddr' | 'addr'>): string {
  return n.dataAddr !== '' ? n.dataAddr : hostOf(n.addr);
}

/** Network ids a node has endpoints on: its tasks with an address there, not being removed. */
export function endpointNetworks(store: Store, nodeId: string): Set<string> {
  const out = new Set<string>();
  for (const t of store.tasks({ nodeId })) {
    if (t.desiredState === 'remove') continue;
    for (const nid of Object.keys(t.addresses)) out.add(nid);
  }
  return out;
}

/**
 * What a node's assignment carries for the encrypted data path: the keys of
 * each encrypted network it has endpoints on (by network id; keys oldest
 * first; empty only until the leader's next check for a network made before
 * keys existed), and the other nodes with endpoints on one of them (by node
 * id). Nodes no longer in the store are never peers.
 */
export function dataAssignment(store: Store, nodeId: string): { dataKeys: NetworkDataKeys[]; peers: DataPeer[] } {
  const mine = new Set<string>();
  const dataKeys: NetworkDataKeys[] = [];
  for (const nid of [...endpointNetworks(store, nodeId)].sort()) {
    const n = store.get('network', nid);
    if (!n?.encrypted || n.vni === undefined) continue;
    mine.add(nid);
    dataKeys.push({ networkId: nid, vni: n.vni, keys: dataKeysOf(store, nid).map((k) => ({ generation: k.generation, key: k.key })) });
  }
  const peers: DataPeer[] = [];
  if (mine.size > 0) {
    for (const node of store.list('node')) {
      if (node.id === nodeId) continue;
      const shared = [...endpointNetworks(store, node.id)].filter((nid) => mine.has(nid)).sort();
      if (shared.length > 0) peers.push({ nodeId: node.id, publicKey: node.publicKey, vtep: vtepOf(node), networks: shared });
    }
  }
  return { dataKeys, peers };
}
