// What the gossip host puts inside a sealed packet or stream frame
// (sealed-packet.ts) on 7946, around the SWIM and NetworkDB codecs:
//
//   UDP datagram, plaintext after open():
//     [u8 plane = 1] [SWIM packet (swim/packet-wire.ts)]
//     [u8 plane = 2] [u8 n] [n bytes sender node id] [NetworkDB message (networkdb/wire.ts)]
//   SWIM user payload (NetworkDB's cluster-wide events, piggybacked by SWIM):
//     [u8 n] [n bytes origin node id] [NetworkDB message]
//   TCP 7946: u32 length frames (shared/wire/frame.ts), each one sealed:
//     request  [u8 kind = 1 push-pull] [u8 n] [sender id] [push-pull (swim/push-pull-wire.ts), user state = NetworkDB's]
//              [u8 kind = 2 bulk sync] [u8 n] [sender id] [NetworkDB message]
//     reply to a push-pull, one frame: [u8 n] [sender id] [push-pull]
//
// Planes and kinds are only ever appended. Decoding is exact; anything else
// is dropped and counted by the caller.

export const PLANE = { swim: 1, networkDb: 2 } as const;
export const STREAM_KIND = { pushPull: 1, bulkSync: 2 } as const;
export const MAX_NODE_ID_BYTES = 32 as const;
/** Bytes the host adds before a NetworkDB datagram: plane, id length, the longest id. */
export const NETWORK_DB_HOST_BYTES = 2 + MAX_NODE_ID_BYTES;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** [prefix bytes...] [u8 n] [id] [body] */
export function withSender(prefix: readonly number[], id: string, body: Uint8Array): Uint8Array {
  const idBytes = enc.encode(id);
  if (idBytes.length === 0 || idBytes.length > MAX_NODE_ID_BYTES) throw new RangeError(`node id must be 1-${MAX_NODE_ID_BYTES} bytes, got ${idBytes.length}`);
  const out = new Uint8Array(prefix.length + 1 + idBytes.length + body.length);
  out.set(prefix, 0);
  out[prefix.length] = idBytes.length;
  out.set(idBytes, prefix.length + 1);
  out.set(body, prefix.length + 1 + idBytes.length);
  return out;
}

/** The sender id and body after `skip` prefix bytes; undefined when malformed. */
export function readSender(bytes: Uint8Array, skip: number): { id: string; body: Uint8Array } | undefined {
  if (bytes.length < skip + 1) return undefined;
  const n = bytes[skip]!;
  if (n === 0 || n > MAX_NODE_ID_BYTES || bytes.length < skip + 1 + n) return undefined;
  let id: string;
  try {
    id = dec.decode(bytes.subarray(skip + 1, skip + 1 + n));
  } catch {
    return undefined;
  }
  return { id, body: bytes.subarray(skip + 1 + n) };
}
