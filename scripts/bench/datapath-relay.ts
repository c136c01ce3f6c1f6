// The bar of `npm run bench:datapath` (path c): the smallest Node program that
// relays the kernel-VXLAN pipe of DESIGN.md §3 between two hosts. Frames that
// the sandbox's vx0 sends to the pipe socket go to the other host's relay on
// the wire socket; datagrams from the wire go back into the pipe, to vx0.
// Nothing else: no lookup, no check, no copy. Whatever the agent's data path
// does on top of this is its own cost (target: agent >= 0.9x this relay).
//
// With --aes-key (path e, issue 7) it also seals every frame from the pipe as
// the agent's message 4 (DESIGN.md §4) and opens every datagram from the
// wire: a 16-byte header `type 4, reserved 3, receiver_index 4, counter 8
// (BE)`, then AES-256-GCM of the VXLAN datagram with the header as associated
// data, nonce = 4 zero bytes + the counter, 16-byte tag; one createCipheriv or
// createDecipheriv per packet (node:crypto has no reusable GCM context). No
// sessions, no handshake, no replay window, no index lookup: the least a
// relay can pay for AES-GCM with node:crypto, the bar of the encrypted overlay.
//
//   node datapath-relay.mjs --wire IP --peer IP --pipe IP --sandbox IP
//                           [--port 4789] [--buf-bytes 4194304] [--max-seconds 150]
//                           [--aes-key HEX64]
//
// --buf-bytes 0 leaves both socket buffers at the kernel's default (rmem_default, wmem_default).
//
// Runs standalone (its own bundle, started inside a host's netns): prints one
// JSON line once both sockets are bound (with the buffer sizes the kernel
// granted) and one with its counters on SIGTERM/SIGINT; exits by itself after
// --max-seconds so a lost bench can never leave it running.
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { writeSync } from 'node:fs';

interface RelayOptions {
  wire: string;
  peer: string;
  pipe: string;
  sandbox: string;
  port: number;
  bufBytes: number;
  maxSeconds: number;
  /** Seal towards the wire, open from it (path e); undefined: the plain relay (path c). */
  aesKey?: Buffer;
}

const ADDRESS_FLAGS = ['--wire', '--peer', '--pipe', '--sandbox'] as const;
const NUMBER_FLAGS = { '--port': 'port', '--buf-bytes': 'bufBytes', '--max-seconds': 'maxSeconds' } as const;

function parse(argv: readonly string[]): RelayOptions {
  const o: Partial<RelayOptions> = { port: 4789, bufBytes: 4 * 1024 * 1024, maxSeconds: 150 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!;
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${key}: expected a value`);
    if ((ADDRESS_FLAGS as readonly string[]).includes(key)) {
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(v)) throw new Error(`${key}: expected an IPv4 address, got ${JSON.stringify(v)}`);
      o[key.slice(2) as 'wire' | 'peer' | 'pipe' | 'sandbox'] = v;
    } else if (key === '--aes-key') {
      if (!/^[0-9a-f]{64}$/i.test(v)) throw new Error(`--aes-key: expected 64 hex digits (a 32-byte AES-256 key), got ${JSON.stringify(v)}`);
      o.aesKey = Buffer.from(v, 'hex');
    } else if (key in NUMBER_FLAGS) {
      const n = Number(v);
      const min = key === '--buf-bytes' ? 0 : 1;
      if (!Number.isInteger(n) || n < min) throw new Error(`${key}: expected an integer of at least ${min}, got ${JSON.stringify(v)}`);
      o[NUMBER_FLAGS[key as keyof typeof NUMBER_FLAGS]] = n;
    } else {
      throw new Error(`unknown argument ${key}; expected one of ${[...ADDRESS_FLAGS, ...Object.keys(NUMBER_FLAGS), '--aes-key'].join(', ')}`);
    }
  }
  for (const f of ADDRESS_FLAGS) if (o[f.slice(2) as 'wire'] === undefined) throw new Error(`${f}: required`);
  return o as RelayOptions;
}

function bind(s: Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind({ address, port, exclusive: true }, () => {
      s.off('error', reject);
      resolve();
    });
  });
}

const line = (o: object): void => void writeSync(1, `${JSON.stringify(o)}\n`);

// Message 4 (DESIGN.md §4): header 16 (type 4, reserved 3, receiver_index 4, counter 8 BE) || ciphertext || tag 16.
const MSG_TRANSPORT = 4;
const HEADER_BYTES = 16;
const TAG_BYTES = 16;
const OVERHEAD_BYTES = HEADER_BYTES + TAG_BYTES;
const GCM = 'aes-256-gcm';
const GCM_OPTS = { authTagLength: TAG_BYTES } as const;
// Both relays use one fixed index: there are no sessions to tell apart.
const RECEIVER_INDEX = 1;

interface Crypt {
  /** Header || AES-256-GCM(msg) || tag, under the next counter. */
  seal(msg: Buffer): Buffer;
  /** The plaintext of a message 4, or null (malformed, or the tag did not verify). */
  open(msg: Buffer): Buffer | null;
}

/** The minimal seal/open: scratch header and nonce reused, one output Buffer per sealed packet. */
function crypt(key: Buffer): Crypt {
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = MSG_TRANSPORT;
  header.writeUInt32BE(RECEIVER_INDEX, 4);
  const sealNonce = Buffer.alloc(12);
  const openNonce = Buffer.alloc(12);
  let counter = 0;
  return {
    seal(msg) {
      const hi = Math.floor(counter / 0x1_0000_0000);
      const lo = counter >>> 0;
      counter++;
      header.writeUInt32BE(hi, 8);
      header.writeUInt32BE(lo, 12);
      // Noise §12.4: 4 zero bytes, then the counter as u64 BE: the header's bytes 8..16.
      sealNonce.writeUInt32BE(hi, 4);
      sealNonce.writeUInt32BE(lo, 8);
      const c = createCipheriv(GCM, key, sealNonce, GCM_OPTS);
      c.setAAD(header);
      const out = Buffer.allocUnsafe(msg.length + OVERHEAD_BYTES);
      header.copy(out, 0);
      c.update(msg).copy(out, HEADER_BYTES);
      c.final();
      c.getAuthTag().copy(out, HEADER_BYTES + msg.length);
      return out;
    },
    open(msg) {
      if (msg.length < OVERHEAD_BYTES || msg[0] !== MSG_TRANSPORT) return null;
      msg.copy(openNonce, 4, 8, HEADER_BYTES);
      const ctEnd = msg.length - TAG_BYTES;
      const d = createDecipheriv(GCM, key, openNonce, GCM_OPTS);
      d.setAuthTag(msg.subarray(ctEnd));
      d.setAAD(msg.subarray(0, HEADER_BYTES));
      const pt = d.update(msg.subarray(HEADER_BYTES, ctEnd));
      try {
        d.final();
      } catch {
        return null;
      }
      return pt;
    },
  };
}

async function relay(o: RelayOptions): Promise<void> {
  const opts = o.bufBytes === 0 ? { type: 'udp4' as const } : { type: 'udp4' as const, recvBufferSize: o.bufBytes, sendBufferSize: o.bufBytes };
  const pipe = createSocket(opts);
  const wire = createSocket(opts);
  await bind(pipe, o.pipe, o.port);
  await bind(wire, o.wire, o.port);
  const n = { pipeToWire: 0, wireToPipe: 0, sendErrors: 0, openFailures: 0 };
  const onSent = (err: Error | null): void => {
    if (err !== null) n.sendErrors++;
  };
  if (o.aesKey === undefined) {
    // The whole data path: one send per datagram, the Buffer handed on as received.
    pipe.on('message', (msg) => {
      n.pipeToWire++;
      wire.send(msg, o.port, o.peer, onSent);
    });
    wire.on('message', (msg) => {
      n.wireToPipe++;
      pipe.send(msg, o.port, o.sandbox, onSent);
    });
  } else {
    // The same, with one AES-256-GCM seal or open per datagram.
    const c = crypt(o.aesKey);
    pipe.on('message', (msg) => {
      n.pipeToWire++;
      wire.send(c.seal(msg), o.port, o.peer, onSent);
    });
    wire.on('message', (msg) => {
      const pt = c.open(msg);
      if (pt === null) return void n.openFailures++;
      n.wireToPipe++;
      pipe.send(pt, o.port, o.sandbox, onSent);
    });
  }
  line({
    ready: true,
    sealed: o.aesKey !== undefined,
    requestedBytes: o.bufBytes,
    pipe: { rcvbuf: pipe.getRecvBufferSize(), sndbuf: pipe.getSendBufferSize() },
    wire: { rcvbuf: wire.getRecvBufferSize(), sndbuf: wire.getSendBufferSize() },
  });
  const finish = (why: string): void => {
    line({ exit: why, ...n });
    process.exit(0);
  };
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => finish(sig));
  setTimeout(() => finish(`max-seconds ${o.maxSeconds}`), o.maxSeconds * 1000);
}

try {
  await relay(parse(process.argv.slice(2)));
} catch (e) {
  process.stderr.write(`datapath-relay: ${(e as Error).message}\n`);
  process.exit(2);
}
