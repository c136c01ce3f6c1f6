// The one contract both transport implementations must meet (STYLE habit 2):
// the same tests run against real udp/tcp on 127.0.0.1 and against MemNet
// under a ManualClock, so the fake cannot drift from the real thing. Tests
// never sleep: they pump the driver until a condition holds or a deadline passes.
import { suite, equal, is, ok } from '../../harness.js';
import { seededRand } from '../../../shared/rand.js';
import type { Addr, DatagramTransport, Stream, StreamTransport } from '../../../shared/transport/types.js';

export interface Driver {
  dgram: DatagramTransport;
  stream: StreamTransport;
  /** The address sockets bind to (127.0.0.1, or the virtual host's IP). */
  host: string;
  /** Let the world move once: a macrotask for real sockets, a clock step for MemNet. */
  pump(): Promise<void>;
}

const DEADLINE_MS = 5_000;

async function waitFor(d: Driver, cond: () => boolean, what: string): Promise<void> {
  const end = performance.now() + DEADLINE_MS;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${DEADLINE_MS} ms waiting for ${what}`);
    await d.pump();
  }
}

/** Await a promise while pumping, since a MemNet promise settles only when the clock moves. */
async function settle<T>(d: Driver, p: Promise<T>): Promise<T> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  await waitFor(d, () => done, 'promise to settle');
  return p;
}

async function rejection(d: Driver, p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await settle(d, p);
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) out.set(c, (off += c.length) - c.length);
  return out;
}

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** A stream end that records what it sees. */
class Probe {
  chunks: Uint8Array[] = [];
  closes: (Error | undefined)[] = [];
  dataAfterClose = 0;
  constructor(readonly s: Stream) {
    s.onData((d) => {
      if (this.closes.length > 0) this.dataAfterClose++;
      this.chunks.push(d);
    });
    s.onClose((e) => this.closes.push(e));
  }
  get bytes(): Uint8Array {
    return concat(this.chunks);
  }
  get text(): string {
    return str(this.bytes);
  }
}

export function transportContract(name: string, makeDriver: () => Driver): void {
  const t = suite(`transport contract: ${name}`);
  const any = (d: Driver): Addr => ({ host: d.host, port: 0 });

  // Open a listener plus one connected pair, and tear it all down afterwards.
  async function withPair(d: Driver, fn: (client: Probe, server: Probe) => Promise<void>): Promise<void> {
    const servers: Probe[] = [];
    const l = await settle(d, d.stream.listen(any(d), (s) => servers.push(new Probe(s))));
    const c = new Probe(await settle(d, d.stream.connect(l.local)));
    try {
      await waitFor(d, () => servers.length === 1, 'accept');
      await fn(c, servers[0]!);
    } finally {
      await settle(d, l.close());
      c.s.destroy();
      for (const s of servers) s.s.destroy();
      await waitFor(d, () => c.closes.length > 0 && servers.every((s) => s.closes.length > 0), 'streams to close');
    }
  }

  t('datagram: round trip, local and from addresses', async () => {
    const d = makeDriver();
    const a = await settle(d, d.dgram.bind(any(d)));
    const b = await settle(d, d.dgram.bind(any(d)));
    try {
      is(a.local.host, d.host);
      ok(a.local.port > 0 && b.local.port > 0 && a.local.port !== b.local.port);
      const seenByB: Addr[] = [];
      b.onMessage((data, from) => {
        seenByB.push(from);
        b.send(data, from);
      });
      const got: [string, Addr][] = [];
      a.onMessage((data, from) => got.push([str(data), from]));
      a.send(text('ping'), b.local);
      await waitFor(d, () => got.length === 1, 'echo');
      equal(got[0], ['ping', b.local]);
      equal(seenByB, [a.local]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  t('bind and listen on an address in use reject with EADDRINUSE', async () => {
    const d = makeDriver();
    const a = await settle(d, d.dgram.bind(any(d)));
    const l = await settle(d, d.stream.listen(any(d), () => {}));
    try {
      is((await rejection(d, d.dgram.bind(a.local))).code, 'EADDRINUSE');
      is((await rejection(d, d.stream.listen(l.local, () => {}))).code, 'EADDRINUSE');
    } finally {
      await Promise.all([a.close(), l.close()]);
    }
  });

  t('datagram close: idempotent, silent send, no callbacks after', async () => {
    const d = makeDriver();
    const [a, b, c] = await settle(d, Promise.all([d.dgram.bind(any(d)), d.dgram.bind(any(d)), d.dgram.bind(any(d))]));
    let toB = 0;
    b.onMessage(() => toB++);
    const toC: string[] = [];
    c.onMessage((data) => toC.push(str(data)));
    try {
      a.send(text('before'), b.local);
      await waitFor(d, () => toB === 1, 'first datagram');
      const p1 = b.close();
      const p2 = b.close();
      await settle(d, Promise.all([p1, p2]));
      await settle(d, b.close());
      b.send(text('from-closed'), c.local); // must not throw, must not arrive
      a.send(text('after'), b.local);
      a.send(text('marker'), c.local);
      await waitFor(d, () => toC.includes('marker'), 'marker');
      is(toB, 1);
      equal(toC, ['marker']);
      // The address is free again.
      const b2 = await settle(d, d.dgram.bind(b.local));
      await b2.close();
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  t('stream: echo, addresses', async () => {
    const d = makeDriver();
    const accepted: Stream[] = [];
    const l = await settle(d, d.stream.listen(any(d), (s) => {
      accepted.push(s);
      s.onData((x) => s.write(x));
    }));
    const c = new Probe(await settle(d, d.stream.connect(l.local)));
    try {
      is(l.local.host, d.host);
      equal(c.s.remote, l.local);
      c.s.write(text('hello, '));
      c.s.write(text('world'));
      await waitFor(d, () => c.text === 'hello, world', 'echo');
      equal(accepted[0]!.remote, c.s.local);
      equal(accepted[0]!.local, l.local);
    } finally {
      c.s.end();
      await waitFor(d, () => c.closes.length === 1, 'close');
      await l.close();
    }
  });

  const pairOn = (fn: (d: Driver, c: Probe, s: Probe) => Promise<void>) => () => {
    const d = makeDriver();
    return withPair(d, (c, s) => fn(d, c, s));
  };

  t('stream: 200 writes arrive in order', pairOn(async (d, c, s) => {
    let want = '';
    for (let i = 0; i < 200; i++) {
      const m = `msg-${i};`;
      want += m;
      c.s.write(text(m));
    }
    await waitFor(d, () => s.bytes.length >= want.length, 'all writes');
    is(s.text, want);
  }));

  t('stream: 1 MiB payload echoes intact', pairOn(async (d, c, s) => {
    s.s.onData((x) => s.s.write(x));
    const payload = seededRand(1).bytes(1 << 20);
    c.s.write(payload);
    await waitFor(d, () => c.bytes.length >= payload.length, '1 MiB echo');
    ok(Buffer.from(c.bytes).equals(Buffer.from(payload)), 'echoed bytes differ');
  }));

  t('stream: end() delivers everything, then onClose() without error on both sides', pairOn(async (d, c, s) => {
    c.s.write(text('last words'));
    c.s.end();
    c.s.write(text('ignored')); // after end: silent no-op
    await waitFor(d, () => s.closes.length === 1 && c.closes.length === 1, 'both closes');
    is(s.text, 'last words');
    is(s.closes[0], undefined);
    is(c.closes[0], undefined);
    s.s.write(text('after close')); // silent no-op
    c.s.write(text('after close'));
  }));

  t('stream: destroy() is seen by the peer as ECONNRESET', pairOn(async (d, c, s) => {
    c.s.write(text('x'));
    await waitFor(d, () => s.text === 'x', 'data');
    const why = new Error('local reason');
    c.s.destroy(why);
    is(c.closes.length, 1);
    is(c.closes[0], why);
    await waitFor(d, () => s.closes.length === 1, 'peer close');
    is((s.closes[0] as Error & { code?: string } | undefined)?.code, 'ECONNRESET');
    c.s.write(text('after destroy'));
    c.s.destroy();
    is(c.closes.length, 1);
  }));

  t('stream: exactly one onClose per side, no data after it', pairOn(async (d, c, s) => {
    s.s.onData(() => s.s.write(text('pong')));
    c.s.write(text('ping'));
    c.s.end();
    await waitFor(d, () => s.closes.length === 1 && c.closes.length === 1, 'closes');
    c.s.end();
    c.s.destroy();
    s.s.destroy();
    // A late onClose is called at once, with the same outcome.
    let late = 0;
    c.s.onClose(() => late++);
    is(late, 1);
    is(c.closes.length, 1);
    is(s.closes.length, 1);
    is(c.dataAfterClose + s.dataAfterClose, 0);
  }));

  t('stream: connect to nothing rejects with ECONNREFUSED', async () => {
    const d = makeDriver();
    const l = await settle(d, d.stream.listen(any(d), () => {}));
    const addr = l.local;
    await settle(d, l.close());
    is((await rejection(d, d.stream.connect(addr))).code, 'ECONNREFUSED');
  });

  t('stream: closing the listener keeps accepted streams open', pairOn(async (d, c, s) => {
    s.s.onData((x) => s.s.write(x));
    c.s.write(text('still'));
    await waitFor(d, () => c.text === 'still', 'echo before');
    const l2Accepted: Stream[] = [];
    const l2 = await settle(d, d.stream.listen(any(d), (x) => l2Accepted.push(x)));
    const c2 = new Probe(await settle(d, d.stream.connect(l2.local)));
    await waitFor(d, () => l2Accepted.length === 1, 'accept on l2');
    const s2 = new Probe(l2Accepted[0]!);
    s2.s.onData((x) => s2.s.write(x));
    await settle(d, l2.close());
    await settle(d, l2.close()); // idempotent
    c2.s.write(text('alive'));
    await waitFor(d, () => c2.text === 'alive', 'echo after listener close');
    is((await rejection(d, d.stream.connect(l2.local))).code, 'ECONNREFUSED');
    c2.s.end();
    await waitFor(d, () => c2.closes.length === 1 && s2.closes.length === 1, 'close l2 pair');
  }));

  t.run();
}
