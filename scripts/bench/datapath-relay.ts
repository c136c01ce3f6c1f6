// The bar of `npm run bench:datapath` (path c): the smallest Node program that
// relays the kernel-VXLAN pipe of DESIGN.md §3 between two hosts. Frames that
// the sandbox's vx0 sends to the pipe socket go to the other host's relay on
// the wire socket; datagrams from the wire go back into the pipe, to vx0.
// Nothing else: no lookup, no check, no copy. Whatever the agent's data path
// does on top of this is its own cost (target: agent >= 0.9x this relay).
//
//   node datapath-relay.mjs --wire IP --peer IP --pipe IP --sandbox IP
//                           [--port 4789] [--buf-bytes 4194304] [--max-seconds 150]
//
// --buf-bytes 0 leaves both socket buffers at the kernel's default (rmem_default, wmem_default).
//
// Runs standalone (its own bundle, started inside a host's netns): prints one
// JSON line once both sockets are bound (with the buffer sizes the kernel
// granted) and one with its counters on SIGTERM/SIGINT; exits by itself after
// --max-seconds so a lost bench can never leave it running.
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
    } else if (key in NUMBER_FLAGS) {
      const n = Number(v);
      const min = key === '--buf-bytes' ? 0 : 1;
      if (!Number.isInteger(n) || n < min) throw new Error(`${key}: expected an integer of at least ${min}, got ${JSON.stringify(v)}`);
      o[NUMBER_FLAGS[key as keyof typeof NUMBER_FLAGS]] = n;
    } else {
      throw new Error(`unknown argument ${key}; expected one of ${[...ADDRESS_FLAGS, ...Object.keys(NUMBER_FLAGS)].join(', ')}`);
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

async function relay(o: RelayOptions): Promise<void> {
  const opts = o.bufBytes === 0 ? { type: 'udp4' as const } : { type: 'udp4' as const, recvBufferSize: o.bufBytes, sendBufferSize: o.bufBytes };
  const pipe = createSocket(opts);
  const wire = createSocket(opts);
  await bind(pipe, o.pipe, o.port);
  await bind(wire, o.wire, o.port);
  const n = { pipeToWire: 0, wireToPipe: 0, sendErrors: 0 };
  const onSent = (err: Error | null): void => {
    if (err !== null) n.sendErrors++;
  };
  // The whole data path: one send per datagram, the Buffer handed on as received.
  pipe.on('message', (msg) => {
    n.pipeToWire++;
    wire.send(msg, o.port, o.peer, onSent);
  });
  wire.on('message', (msg) => {
    n.wireToPipe++;
    pipe.send(msg, o.port, o.sandbox, onSent);
  });
  line({
    ready: true,
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
