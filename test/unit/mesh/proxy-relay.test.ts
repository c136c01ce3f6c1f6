// The relay of a published TCP port (agent/mesh/proxy-relay.ts, issue 10) on
// real loopback sockets, ephemeral ports only: the PROXY v2 header arrives
// first with the client's address, payload and half-close are relayed, and
// every way a pair can end leaves no socket behind.
import { createServer, connect, type Socket } from 'node:net';
import { suite, equal, is, ok, until } from '../../harness.js';
import { ProxyRelay, WARN_INTERVAL_MS, type RelayLog } from '../../../agent/mesh/proxy-relay.js';
import { parseProxyV2, type ProxyHeader } from '../../../agent/mesh/proxy-v2.js';
import { DEADLINE_MS, HOST, closeTcp, listenTcp, roundTrip, tcpServer, within } from './loopback.js';

const t = suite('mesh/proxy-relay');

/**
 * A backend that reads the PROXY header (when told to), then the payload to
 * its end, and answers `<source address>:<source port>\n` + the payload.
 */
function echoBackend(opts: { header: boolean }) {
  const headers: Array<ProxyHeader | undefined> = [];
  const { server, sockets } = tcpServer((s) => {
    let buf = Buffer.alloc(0);
    let header: ProxyHeader | undefined;
    let read = !opts.header;
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (read) return;
      const p = parseProxyV2(buf);
      if (p === 'incomplete') return;
      header = p.header;
      buf = buf.subarray(p.length);
      read = true;
    });
    s.on('end', () => {
      headers.push(header);
      s.end(Buffer.concat([Buffer.from(`${header?.source?.address ?? 'none'}:${header?.source?.port ?? 0}\n`), buf]));
    });
  });
  return { server, headers, sockets };
}

/** Connect and resolve once the peer has closed us, with what was read. */
function closedByPeer(port: number): Promise<{ bytes: number; error?: string }> {
  return new Promise((resolve) => {
    const c = connect({ host: HOST, port });
    let bytes = 0;
    let error: string | undefined;
    c.on('data', (d: Buffer) => (bytes += d.length));
    c.on('error', (e) => (error = (e as NodeJS.ErrnoException).code));
    c.on('close', () => resolve(error === undefined ? { bytes } : { bytes, error }));
  });
}

function recordingLog(): RelayLog & { warnings: Array<{ msg: string; fields?: Record<string, unknown> }> } {
  const warnings: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  return { warnings, warn: (msg, fields) => warnings.push(fields === undefined ? { msg } : { msg, fields }) };
}

const payload64k = (): Buffer => Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7 + 3) & 0xff));

t('the header carries the client address and port; 64 KiB round-trips; half-close relayed', async () => {
  const be = echoBackend({ header: true });
  let relay: ProxyRelay | undefined;
  try {
    const bePort = await listenTcp(be.server);
    const log = recordingLog();
    relay = await ProxyRelay.listen({ port: 0, host: HOST, target: () => ({ host: HOST, port: bePort }), log });
    const data = payload64k();
    const { reply, localPort } = await within(roundTrip(relay.port, data), 'round trip');
    const nl = reply.indexOf(0x0a);
    is(reply.subarray(0, nl).toString(), `127.0.0.1:${localPort}`);
    ok(reply.subarray(nl + 1).equals(data), `payload of ${reply.length - nl - 1} bytes came back intact`);
    equal(be.headers[0], { command: 'proxy', family: 'tcp4', source: { address: HOST, port: localPort }, destination: { address: HOST, port: relay.port } });
    equal(log.warnings, []);
    await until(() => relay!.connections === 0, DEADLINE_MS, 'the pair to close');
    equal(relay.counters, { accepted: 1, noTarget: 0, upstreamFailed: 0 });
  } finally {
    await relay?.close();
    await closeTcp(be.server);
  }
});

t('several clients at once each get their own header', async () => {
  const be = echoBackend({ header: true });
  let relay: ProxyRelay | undefined;
  try {
    const bePort = await listenTcp(be.server);
    relay = await ProxyRelay.listen({ port: 0, host: HOST, target: () => ({ host: HOST, port: bePort }), log: recordingLog() });
    const runs = await within(Promise.all([1, 2, 3, 4].map((i) => roundTrip(relay!.port, Buffer.from(`client ${i}`)))), 'four round trips');
    for (const [i, r] of runs.entries()) is(r.reply.toString(), `127.0.0.1:${r.localPort}\nclient ${i + 1}`);
  } finally {
    await relay?.close();
    await closeTcp(be.server);
  }
});

t('half-close the other way: the backend ends first, the client still sends, and it arrives', async () => {
  let resolveLate: (s: string) => void = () => {};
  const late = new Promise<string>((r) => (resolveLate = r));
  const be = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => s.destroy());
    s.end('bye');
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
    s.on('end', () => {
      const p = parseProxyV2(buf);
      resolveLate(p === 'incomplete' ? 'incomplete' : buf.subarray(p.length).toString());
    });
  });
  let relay: ProxyRelay | undefined;
  let c: Socket | undefined;
  try {
    const bePort = await listenTcp(be);
    relay = await ProxyRelay.listen({ port: 0, host: HOST, target: () => ({ host: HOST, port: bePort }), log: recordingLog() });
    const client = (c = connect({ host: HOST, port: relay.port, allowHalfOpen: true }));
    let got = '';
    client.on('error', () => {});
    client.on('data', (d: Buffer) => (got += d.toString()));
    await within(new Promise<void>((r) => client.once('end', () => r())), 'the backend end to reach the client');
    is(got, 'bye');
    client.end('late words');
    is(await within(late, 'the client bytes after the backend end'), 'late words');
    await until(() => relay!.connections === 0, DEADLINE_MS, 'the pair to close');
  } finally {
    c?.destroy();
    await relay?.close();
    await closeTcp(be);
  }
});

t('proxyHeader false: the bytes go through as they are', async () => {
  const be = echoBackend({ header: false });
  let relay: ProxyRelay | undefined;
  try {
    const bePort = await listenTcp(be.server);
    relay = await ProxyRelay.listen({ port: 0, host: HOST, proxyHeader: false, target: () => ({ host: HOST, port: bePort }), log: recordingLog() });
    const { reply } = await within(roundTrip(relay.port, Buffer.from('plain')), 'round trip');
    is(reply.toString(), 'none:0\nplain');
  } finally {
    await relay?.close();
    await closeTcp(be.server);
  }
});

t('target() undefined (or throwing): the client is closed at once, nothing sent', async () => {
  const log = recordingLog();
  let answer: 'none' | 'throw' = 'none';
  const relay = await ProxyRelay.listen({
    port: 0,
    host: HOST,
    target: () => {
      if (answer === 'throw') throw new Error('boom');
      return undefined;
    },
    log,
  });
  try {
    equal((await within(closedByPeer(relay.port), 'client closed')).bytes, 0);
    answer = 'throw';
    equal((await within(closedByPeer(relay.port), 'client closed')).bytes, 0);
    equal(relay.counters, { accepted: 2, noTarget: 2, upstreamFailed: 0 });
    equal(log.warnings, []);
    await until(() => relay.connections === 0, DEADLINE_MS, 'no connections left');
  } finally {
    await relay.close();
  }
});

t('backend refusing: the client is closed, one warning per 10 s however many fail', async () => {
  // A port nobody listens on: bind one, note it, let it go.
  const probe = createServer();
  const deadPort = await listenTcp(probe);
  await closeTcp(probe);
  const log = recordingLog();
  let now = 1_000_000;
  const relay = await ProxyRelay.listen({ port: 0, host: HOST, target: () => ({ host: HOST, port: deadPort }), log, nowMs: () => now });
  try {
    for (let i = 0; i < 3; i++) equal((await within(closedByPeer(relay.port), 'client closed')).bytes, 0);
    is(log.warnings.length, 1);
    is(log.warnings[0]!.msg, 'could not connect to the backend of a published port');
    equal(log.warnings[0]!.fields?.target, `${HOST}:${deadPort}`);
    ok(/ECONNREFUSED/.test(String(log.warnings[0]!.fields?.error)));
    now += WARN_INTERVAL_MS;
    await within(closedByPeer(relay.port), 'client closed');
    is(log.warnings.length, 2, 'after the interval the next failure is said, with the count held back');
    is(log.warnings[1]!.fields?.suppressed, 2);
    equal(relay.counters, { accepted: 4, noTarget: 0, upstreamFailed: 4 });
    await until(() => relay.connections === 0, DEADLINE_MS, 'no connections left');
  } finally {
    await relay.close();
  }
});

t('a target node:net refuses outright (bad port): the client is closed, counted, nothing thrown', async () => {
  const log = recordingLog();
  const relay = await ProxyRelay.listen({ port: 0, host: HOST, target: () => ({ host: HOST, port: 70000 }), log });
  try {
    equal((await within(closedByPeer(relay.port), 'client closed')).bytes, 0);
    is(log.warnings.length, 1);
    equal(relay.counters, { accepted: 1, noTarget: 0, upstreamFailed: 1 });
    await until(() => relay.connections === 0, DEADLINE_MS, 'no connections left');
  } finally {
    await relay.close();
  }
});

t('close() ends live connections on both sides and stops listening', async () => {
  const held = new Set<Socket>();
  const be = createServer((s) => {
    held.add(s);
    s.resume(); // read, or the end of the relayed side is never seen
    s.on('error', () => {});
    s.on('close', () => held.delete(s));
  });
  let relay: ProxyRelay | undefined;
  const clients: Socket[] = [];
  try {
    const bePort = await listenTcp(be);
    relay = await ProxyRelay.listen({ port: 0, host: HOST, target: () => ({ host: HOST, port: bePort }), log: recordingLog() });
    const port = relay.port;
    const closed = [1, 2].map(
      () =>
        new Promise<void>((resolve) => {
          const c = connect({ host: HOST, port });
          clients.push(c);
          c.on('error', () => {});
          c.on('close', () => resolve());
          c.write('hello');
        }),
    );
    await until(() => held.size === 2 && relay!.connections === 2, DEADLINE_MS, 'two relayed connections');
    await within(relay.close(), 'relay close');
    await within(Promise.all(closed), 'clients closed');
    await until(() => held.size === 0, DEADLINE_MS, 'backend sockets closed');
    is(relay.connections, 0);
    const after = await within(closedByPeer(port), 'connect after close');
    is(after.error, 'ECONNREFUSED');
    await within(relay.close(), 'second close'); // idempotent
  } finally {
    for (const c of clients) c.destroy();
    await relay?.close();
    await closeTcp(be);
  }
});

t('listening on a taken port rejects with EADDRINUSE', async () => {
  const other = createServer();
  let relay: ProxyRelay | undefined;
  try {
    const port = await listenTcp(other);
    const e = await within(
      ProxyRelay.listen({ port, host: HOST, target: () => undefined, log: recordingLog() }).then(
        (r) => ((relay = r), undefined),
        (err: NodeJS.ErrnoException) => err,
      ),
      'listen',
    );
    is(e?.code, 'EADDRINUSE');
  } finally {
    await relay?.close();
    await closeTcp(other);
  }
});

t.run();
