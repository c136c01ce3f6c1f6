// Canonical CBOR (RFC 8949) for the store: commands in the log and snapshots.
// Replicas compare snapshots byte for byte, so equal values must give equal
// bytes. cbor-x writes maps in property order, so every plain object is
// rebuilt with its keys sorted and undefined members dropped before it is
// encoded; the options below keep the output plain CBOR that any decoder
// reads (no cbor-x record extension, byte strings without tag 64, map
// headers of minimal size).

import { Encoder } from 'cbor-x';

const codec = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true });

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/**
 * The value with every plain object's keys in sorted order and undefined
 * members dropped. Object.keys still lists integer-like keys first, but that
 * order depends only on the key set, which is all determinism needs.
 */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v instanceof Uint8Array) return v;
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = v[k];
      if (x !== undefined) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}

/** Canonical encoding; the result is a fresh Uint8Array (cbor-x reuses its output buffer). */
export function encodeCanonical(v: unknown): Uint8Array {
  return new Uint8Array(codec.encode(canonical(v)));
}

/** Decode exactly one CBOR item that fills `bytes`; throws on anything else. */
export function decodeCbor(bytes: Uint8Array): unknown {
  if (bytes.length === 0) throw new Error('empty input');
  return codec.decode(bytes);
}
