// Valid drafts of every kind, and a seeded generator of command sequences
// (mostly valid, some stale, conflicting, missing or garbled) for the
// determinism and twin tests.
import type { Rand } from '../../../../shared/rand.js';
import { batch, create, encodeCommand, remove, update, type Change } from '../../../../agent/cluster/store/command.js';
import { KINDS, type Draft, type Kind } from '../../../../agent/cluster/store/types.js';

/** A valid draft of `kind`; `v` varies the field values, `name` sets the unique name or hostname. */
export function draftOf<K extends Kind>(kind: K, id: string, v = 0, name = `${kind}-${id}`): Draft<K> {
  const drafts: { [P in Kind]: () => Draft<P> } = {
    node: () => ({
      id,
      role: v % 2 === 0 ? 'manager' : 'worker',
      availability: (['active', 'pause', 'drain'] as const)[v % 3]!,
      hostname: name,
      addr: `192.0.2.${v % 250}:2377`,
      dataAddr: `192.0.2.${v % 250}`,
      publicKey: new Uint8Array(32).fill(v & 0xff),
      ...(v % 3 === 0 ? { certificate: new Uint8Array([0x30, v & 0xff]) } : {}),
      labels: v % 2 ? { zone: `z${v % 4}` } : ({} as Record<string, string>),
      status: { state: v % 2 ? 'ready' : 'down', message: '' },
    }),
    network: () => ({
      id,
      name,
      driver: 'overlay',
      ...(v % 2 ? { vni: 4096 + v } : {}),
      ipam: { subnet: `10.0.${v % 256}.0/24`, gateway: `10.0.${v % 256}.1` },
      options: v % 3 === 0 ? { encrypted: '' } : ({} as Record<string, string>),
      labels: {},
      attachable: v % 2 === 0,
      ingress: false,
      internal: false,
      encrypted: v % 3 === 0,
      ...(v % 5 === 0 ? { mtu: 1400 } : {}),
    }),
    service: () => ({
      id,
      name,
      mode: v % 4 === 0 ? { global: true } : { replicated: v % 5 },
      spec: {
        command: ['sh', '-c', `echo ${v}`],
        env: [`V=${v}`],
        networks: [{ target: 'n1', aliases: ['web'] }],
        ports: v % 2 ? [{ protocol: 'tcp', targetPort: 80, publishedPort: 8000 + v, publishMode: 'ingress' }] : [],
        endpointMode: v % 3 ? 'vip' : 'dnsrr',
        constraints: [],
        restart: { condition: 'any', delayMs: 5000, maxAttempts: 0, windowMs: 0 },
      },
      vips: v % 3 ? { n1: `10.0.1.${(v % 250) + 2}/24` } : ({} as Record<string, string>),
      generation: v % 7,
      forceUpdate: v % 2,
    }),
    task: () => ({
      id,
      ...(v % 2 ? { serviceId: `s${v % 3}`, slot: (v % 4) + 1 } : { command: ['sleep', 'inf'] }),
      nodeId: `nd${v % 3}`,
      desiredState: v % 3 ? 'running' : 'shutdown',
      status: { state: (['new', 'running', 'failed'] as const)[v % 3]!, message: `m${v}`, ...(v % 3 === 2 ? { err: 'exit 1' } : {}) },
      addresses: { n1: `10.0.1.${(v % 250) + 3}/24` },
    }),
    ipam: () => ({ id, networkId: 'n1', pool: '10.0.0.0/8', subnet: `10.0.${v % 256}.0/24`, addresses: { [`10.0.${v % 256}.1`]: 'gateway' } }),
    key: () => ({ id, kind: v % 2 ? 'data' : 'gossip', ...(v % 2 ? { networkId: 'n1' } : {}), generation: v, key: new Uint8Array(16).fill(v & 0xff), createdAtMs: 1_700_000_000_000 + v }),
    token: () => ({ id, worker: `SWMTKN-1-w${v}`, manager: `SWMTKN-1-m${v}` }),
    cluster: () => ({
      id,
      name,
      defaultAddrPool: ['10.0.0.0/8'],
      subnetSize: 24,
      keyRotationMs: 12 * 3600_000,
      heartbeatMs: 5000,
      dataPathPort: 4789,
      ...(v % 2 ? { rootCa: { certificate: new Uint8Array([1, 2, 3]), key: new Uint8Array([4, 5]) } } : {}),
    }),
  };
  return (drafts[kind] as () => Draft<K>)();
}

/** What the generator needs to know of the current state: ids and versions of each kind. */
export type View = (kind: Kind) => { id: string; version: number }[];

const IDS = ['a', 'b', 'c', 'd', 'e'];
const NAMES = ['x', 'y', 'z'];

function pick<T>(r: Rand, xs: readonly T[]): T {
  return xs[r.int(xs.length)]!;
}

function randomChange(r: Rand, view: View): Change {
  const kind = pick(r, KINDS);
  const existing = view(kind);
  const v = r.int(1000);
  const name = pick(r, NAMES);
  const roll = r.int(10);
  if (roll < 4 || existing.length === 0) return create(kind, draftOf(kind, pick(r, IDS), v, name));
  const target = pick(r, existing);
  // Mostly the current version; sometimes an old one, to exercise staleness.
  const version = r.int(5) === 0 ? Math.max(1, target.version - 1 - r.int(3)) : target.version;
  if (roll < 8) {
    const id = r.int(8) === 0 ? pick(r, IDS) : target.id;
    return update(kind, draftOf(kind, id, v, name), version);
  }
  const id = r.int(8) === 0 ? pick(r, IDS) : target.id;
  return remove(kind, id, r.int(2) ? version : undefined);
}

/** One encoded command: mostly single changes, some batches, now and then bytes that are no command at all. */
export function randomCommand(r: Rand, view: View): Uint8Array {
  const roll = r.int(20);
  if (roll === 0) return r.bytes(1 + r.int(12));
  if (roll < 5) {
    // Distinct objects per batch (command.ts forbids two writes to one object).
    const changes: Change[] = [];
    const seen = new Set<string>();
    for (let i = 0, n = 1 + r.int(4); i < n; i++) {
      const c = randomChange(r, view);
      const key = `${c.kind}/${c.op === 'delete' ? c.id : c.object.id}`;
      if (!seen.has(key)) changes.push(c), seen.add(key);
    }
    return encodeCommand(batch(...changes));
  }
  return encodeCommand(randomChange(r, view));
}
