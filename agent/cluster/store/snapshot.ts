// The store snapshot: every object of every kind plus the last applied index,
// canonical CBOR (cbor.ts), so two replicas in the same state produce the
// same bytes.
//
//   { v: 1,                      format version, bumped on an incompatible change
//     index: n,                  last applied log index (0 for an empty store)
//     objects: { <kind>: [object, ...] } }   every kind of types.ts KINDS,
//                                             objects sorted by id, meta included

import { decodeCbor, encodeCanonical } from './cbor.js';
import { DRAFT_CHECKS, metaCheck } from './schema.js';
import { KINDS, type Kind, type Objects } from './types.js';
import { FieldError, int } from './validate.js';

export const SNAPSHOT_FORMAT = 1;

export type SnapshotObjects = { [K in Kind]: Objects[K][] };

export interface SnapshotContent {
  index: number;
  objects: SnapshotObjects;
}

export function encodeSnapshot(s: SnapshotContent): Uint8Array {
  return encodeCanonical({ v: SNAPSHOT_FORMAT, index: s.index, objects: s.objects });
}

/** Decode and check a snapshot; throws an Error naming what is wrong. Duplicates are the store's to find. */
export function decodeSnapshot(bytes: Uint8Array): SnapshotContent {
  try {
    const top = decodeCbor(bytes);
    if (typeof top !== 'object' || top === null || Array.isArray(top)) throw new FieldError('snapshot: expected a map');
    const { v, index, objects } = top as Record<string, unknown>;
    if (v !== SNAPSHOT_FORMAT) throw new FieldError(`snapshot.v: expected format ${SNAPSHOT_FORMAT}, got ${String(v)}`);
    if (typeof objects !== 'object' || objects === null) throw new FieldError('snapshot.objects: expected a map');
    for (const k of Object.keys(objects)) {
      if (!(KINDS as readonly string[]).includes(k)) throw new FieldError(`snapshot.objects: unknown kind ${JSON.stringify(k)}`);
    }
    const out = {} as Record<Kind, unknown[]>;
    for (const kind of KINDS) {
      const list = (objects as Record<string, unknown>)[kind] ?? [];
      if (!Array.isArray(list)) throw new FieldError(`snapshot.objects.${kind}: expected an array`);
      out[kind] = list.map((o, i) => {
        const path = `snapshot.objects.${kind}[${i}]`;
        if (typeof o !== 'object' || o === null) throw new FieldError(`${path}: expected a map`);
        const { meta, ...draft } = o as Record<string, unknown>;
        return { ...DRAFT_CHECKS[kind](draft, path), meta: metaCheck(meta, `${path}.meta`) };
      });
    }
    return { index: int(0)(index, 'snapshot.index'), objects: out as SnapshotObjects };
  } catch (e) {
    throw new Error(`invalid snapshot: ${e instanceof Error ? e.message : String(e)}`);
  }
}
