// What a node keeps of its swarm membership in the state dir, so a restarted
// daemon rejoins without a token (issue 4): the cluster it belongs to, its
// certificate and the CA root, its addresses, and the managers it last heard
// of. One file, `swarm-state.cbor`, mode 0600, replaced atomically:
//
//   ["agent/swarm-state", 1, {clusterId, nodeId, role, root, cert,
//     listenAddr, advertiseAddr, dataAddr, dataPathPort, managers: [{id, addr}]}]
//
// A manager's Raft log lives beside it in `raft/`.
import { join } from 'node:path';
import { decodeCbor, encodeCanonical } from '../cluster/store/cbor.js';
import { arrayOf, bytes, FieldError, int, nonEmpty, obj, oneOf, str } from '../cluster/store/validate.js';
import type { NodeRole } from '../cluster/store/types.js';
import type { SecretFileIo } from '../cluster/ca/secret-file.js';

export const SWARM_STATE_FILE = 'swarm-state.cbor';
export const RAFT_DIR = 'raft';
const CONTEXT = 'agent/swarm-state';
const VERSION = 1;

export interface ManagerRef {
  id: string;
  /** host:port of its 2377 listener. */
  addr: string;
}

export interface LocalSwarmState {
  clusterId: string;
  nodeId: string;
  role: NodeRole;
  /** Encoded CA root (ca-root.ts). */
  root: Uint8Array;
  /** Encoded node certificate. */
  cert: Uint8Array;
  listenAddr: string;
  advertiseAddr: string;
  dataAddr: string;
  dataPathPort: number;
  managers: ManagerRef[];
}

const check = obj({
  clusterId: nonEmpty,
  nodeId: nonEmpty,
  role: oneOf('manager', 'worker'),
  root: bytes,
  cert: bytes,
  listenAddr: nonEmpty,
  advertiseAddr: nonEmpty,
  dataAddr: str,
  dataPathPort: int(1),
  managers: arrayOf(obj({ id: nonEmpty, addr: nonEmpty })),
});

export function swarmStatePath(stateDir: string): string {
  return join(stateDir, SWARM_STATE_FILE);
}

export function raftDir(stateDir: string): string {
  return join(stateDir, RAFT_DIR);
}

export function encodeSwarmState(s: LocalSwarmState): Uint8Array {
  return encodeCanonical([CONTEXT, VERSION, s]);
}

/** Throws `<path>: ...` with what is wrong. */
export function decodeSwarmState(b: Uint8Array, path: string): LocalSwarmState {
  let v: unknown;
  try {
    v = decodeCbor(b);
  } catch (e) {
    throw new Error(`${path}: not a swarm state file: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 3 || v[0] !== CONTEXT) throw new Error(`${path}: not a swarm state file`);
  if (v[1] !== VERSION) throw new Error(`${path}: unsupported swarm state version ${String(v[1])} (this agent reads ${VERSION})`);
  try {
    return check(v[2], 'state') as LocalSwarmState;
  } catch (e) {
    if (e instanceof FieldError) throw new Error(`${path}: ${e.message}`);
    throw e;
  }
}

export function loadSwarmState(stateDir: string, io: SecretFileIo): LocalSwarmState | undefined {
  const path = swarmStatePath(stateDir);
  const f = io.read(path);
  return f ? decodeSwarmState(f.bytes, path) : undefined;
}

export function saveSwarmState(stateDir: string, s: LocalSwarmState, io: SecretFileIo): void {
  io.writeAtomic(swarmStatePath(stateDir), encodeSwarmState(s), 0o600);
}

export type { NodeRole };
