// The published-port holder (agent/mesh/port-holder.ts, issue 10) on real
// loopback sockets, ephemeral ports only: an owner holds exactly the ports it
// last claimed, all or nothing; a port of another owner or of another program
// is refused saying which; SCTP is held in the books only, or refused where
// the kernel cannot NAT it; a TCP holder relays what reaches it; close() lets
// everything go.
import { createServer, connect, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { suite, equal, is, ok, unreachable } from '../../harness.js';
import { createLogger } from '../../../agent/daemon/log.js';
import { PortHolder, PortInUseError, SctpUnsupportedError, SCTP_UNSUPPORTED, type PortClaim } from '../../../agent/mesh/port-holder.js';
import { parseProxyV2 } from '../../../agent/mesh/proxy-v2.js';
import { HOST, closeTcp, listenTcp, roundTrip, tcpServer, within } from './loopback.js';

const t = suite('mesh/port-holder');
const quiet = createLogger({ level: 'error', format: 'text', write: () => {}, nowIso: () => '' });

function bindUdp(port: number): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type: 'udp4' });
    s.once('error', (e) => {
      s.close();
      reject(e);
    });
    s.bind({ port, address: HOST, exclusive: true }, () => resolve(s));
  });
}

const closeUdp = (s: UdpSocket) => new Promise<void>((r) => s.close(() => r()));

/** A port free for both TCP and UDP on 127.0.0.1 right now (bound with port 0, then let go). */
async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const probe = createServer();
    const port = await listenTcp(probe);
    const udp = await bindUdp(port).catch(() => undefined);
    await closeTcp(probe);
    if (udp) {
      await closeUdp(udp);
      return port;
    }
  }
  throw new Error('no port free for both tcp and udp');
}

/** Two distinct free ports. */
async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = await freePort();
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/** Whether another program could take the port now: bound and let go at once. */
async function tcpFree(port: number): Promise<boolean> {
  const s = createServer();
  try {
    await listenTcp(s, port);
    return true;
  } catch (e) {
    is((e as NodeJS.ErrnoException).code, 'EADDRINUSE');
    return false;
  } finally {
    await closeTcp(s);
  }
}

async function udpFree(port: number): Promise<boolean> {
  try {
    await closeUdp(await bindUdp(port));
    return true;
  } catch (e) {
    is((e as NodeJS.ErrnoException).code, 'EADDRINUSE');
    return false;
  }
}

async function refusal(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  unreachable('expected a refusal');
  throw new Error('unreachable');
}

const tcp = (published: number, relay?: PortClaim['relay']): PortClaim => ({ protocol: 'tcp', published, ...(relay ? { relay } : {}) });
const udp = (published: number): PortClaim => ({ protocol: 'udp', published });
const sctp = (published: number): PortClaim => ({ protocol: 'sctp', published });

/** An echo server: answers everything it read, once the client ends; the bytes it read are kept. */
function echoServer() {
  const got: Buffer[] = [];
  const { server, sockets } = tcpServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      // Echo as it comes too, so a client that has not ended gets its bytes back.
      s.write(d);
    });
    s.on('end', () => {
      got.push(buf);
      s.end();
    });
  });
  return { server, got, sockets };
}

t('claim TCP and UDP: both bound, in the books under the owner; release lets both go', async () => {
  const h = new PortHolder({ log: quiet, address: HOST });
  const [p] = await freePorts(1);
  try {
    await h.claim('a', [tcp(p!), udp(p!)]);
    equal([h.ownerOf('tcp', p!), h.ownerOf('udp', p!), h.ownerOf('sctp', p!)], ['a', 'a', undefined]);
    equal(h.portsOf('a').sort(), [`${p}/tcp`, `${p}/udp`]);
    equal(h.portsOf('b'), []);
    equal(h.owners, ['a']);
    is(await tcpFree(p!), false, 'tcp bound');
    is(await udpFree(p!), false, 'udp bound');
    await h.release('a');
    equal([h.ownerOf('tcp', p!), h.ownerOf('udp', p!), h.owners], [undefined, undefined, []]);
    is(await tcpFree(p!), true);
    is(await udpFree(p!), true);
    await h.release('a'); // nothing held: nothing to do
    await h.release('nobody');
  } finally {
    await h.close();
  }
});

t('the same owner claiming the same ports again is a no-op: the listener (and a live connection through it) stays', async () => {
  const echo = echoServer();
  const h = new PortHolder({ log: quiet, address: HOST });
  let c: Socket | undefined;
  try {
    const echoPort = await listenTcp(echo.server);
    const [p] = await freePorts(1);
    const claims = [tcp(p!, { target: () => ({ host: HOST, port: echoPort }), proxyHeader: false })];
    await h.claim('a', claims);
    const client = (c = connect({ host: HOST, port: p! }));
    client.on('error', () => {});
    let got = '';
    client.on('data', (d: Buffer) => (got += d.toString()));
    client.write('one');
    await within(new Promise<void>((r) => client.once('data', () => r())), 'the first echo');
    await h.claim('a', claims);
    await h.claim('a', [...claims, ...claims]); // the same port twice in one claim: once
    equal(h.portsOf('a'), [`${p}/tcp`]);
    client.write('two');
    await within(
      new Promise<void>((r) => {
        const check = () => (got === 'onetwo' ? r() : client.once('data', check));
        check();
      }),
      'the second echo over the same connection',
    );
    is(got, 'onetwo');
  } finally {
    c?.destroy();
    await h.close();
    await closeTcp(echo.server);
  }
});

t('all or nothing: a port another program holds refuses the claim, names that port, and the ports bound on the way are let go', async () => {
  const other = createServer();
  const h = new PortHolder({ log: quiet, address: HOST });
  try {
    const [p1, p2, p3] = await freePorts(3);
    await listenTcp(other, p2);
    await h.claim('a', [tcp(p3!)]);
    const e = await refusal(h.claim('a', [tcp(p3!), tcp(p1!), udp(p1!), tcp(p2!)]));
    ok(e instanceof PortInUseError, String(e));
    const pe = e as PortInUseError;
    equal([pe.port, pe.heldBy, pe.message], [`${p2}/tcp`, undefined, `port ${p2}/tcp is in use on this node by another program`]);
    is(pe.name, 'PortInUseError');
    equal(h.portsOf('a'), [`${p3}/tcp`], 'exactly what it held before');
    is(await tcpFree(p1!), true, 'the tcp port bound on the way was let go');
    is(await udpFree(p1!), true, 'and the udp one');
    is(await tcpFree(p3!), false, 'the port it held before is still held');
  } finally {
    await h.close();
    await closeTcp(other);
  }
});

t('a UDP port another program holds: the same refusal, heldBy undefined', async () => {
  const h = new PortHolder({ log: quiet, address: HOST });
  const [p] = await freePorts(1);
  const other = await bindUdp(p!);
  try {
    const e = (await refusal(h.claim('a', [tcp(p!), udp(p!)]))) as PortInUseError;
    ok(e instanceof PortInUseError);
    equal([e.port, e.heldBy, e.message], [`${p}/udp`, undefined, `port ${p}/udp is in use on this node by another program`]);
    equal(h.owners, []);
    is(await tcpFree(p!), true);
  } finally {
    await h.close();
    await closeUdp(other);
  }
});

t('set semantics: claiming a smaller set lets the rest go; an empty claim is a release', async () => {
  const h = new PortHolder({ log: quiet, address: HOST });
  try {
    const [p, q] = await freePorts(2);
    await h.claim('a', [tcp(p!), udp(p!), tcp(q!)]);
    await h.claim('a', [tcp(p!)]);
    equal(h.portsOf('a'), [`${p}/tcp`]);
    is(await udpFree(p!), true);
    is(await tcpFree(q!), true);
    is(await tcpFree(p!), false);
    await h.claim('a', []);
    equal(h.owners, []);
    is(await tcpFree(p!), true);
  } finally {
    await h.close();
  }
});

t('a port another owner holds: PortInUseError naming that owner; the claimant gets nothing; two claims at once, one wins', async () => {
  const h = new PortHolder({ log: quiet, address: HOST });
  try {
    const [p, q] = await freePorts(2);
    await h.claim('a', [tcp(p!)]);
    const e = (await refusal(h.claim('b', [udp(q!), tcp(p!)]))) as PortInUseError;
    ok(e instanceof PortInUseError);
    equal([e.port, e.heldBy, e.message], [`${p}/tcp`, 'a', `port ${p}/tcp is already published on this node by a`]);
    equal(h.portsOf('b'), []);
    is(await udpFree(q!), true, "b's udp port bound on the way was let go");
    // Claims are serialized: of two at once for one port, the second is refused by the first's owner.
    const both = await Promise.allSettled([h.claim('x', [tcp(q!)]), h.claim('y', [tcp(q!)])]);
    equal(both.map((r) => r.status), ['fulfilled', 'rejected']);
    is(((both[1] as PromiseRejectedResult).reason as PortInUseError).heldBy, 'x');
    equal(h.owners.sort(), ['a', 'x']);
  } finally {
    await h.close();
  }
});

t('sctp: refused where the kernel cannot NAT it (nothing else kept); held in the books only where it can', async () => {
  const [p] = await freePorts(1);
  const no = new PortHolder({ log: quiet, address: HOST, sctp: () => false });
  try {
    const e = await refusal(no.claim('a', [tcp(p!), sctp(p!)]));
    ok(e instanceof SctpUnsupportedError, String(e));
    equal([e.name, e.message], ['SctpUnsupportedError', SCTP_UNSUPPORTED]);
    equal(no.owners, []);
    is(await tcpFree(p!), true, 'the tcp port bound on the way was let go');
  } finally {
    await no.close();
  }
  let asked = 0;
  const yes = new PortHolder({ log: quiet, address: HOST, sctp: () => (asked++, true) });
  try {
    await yes.claim('a', [sctp(p!)]);
    is(yes.ownerOf('sctp', p!), 'a');
    is(asked, 1);
    ok((await tcpFree(p!)) && (await udpFree(p!)), 'no socket behind it');
    const e = (await refusal(yes.claim('b', [sctp(p!)]))) as PortInUseError;
    equal([e.port, e.heldBy], [`${p}/sctp`, 'a'], 'still one owner per port');
    await yes.release('a');
    equal(yes.owners, []);
  } finally {
    await yes.close();
  }
});

t('a TCP port with a relay target: a loopback connection reaches the target, with a PROXY v2 header when asked, bare when not', async () => {
  const echo = echoServer();
  const h = new PortHolder({ log: quiet, address: HOST });
  try {
    const echoPort = await listenTcp(echo.server);
    const [plainPort, proxyPort] = await freePorts(2);
    await h.claim('plain', [tcp(plainPort!, { target: () => ({ host: HOST, port: echoPort }), proxyHeader: false })]);
    await h.claim('proxied', [tcp(proxyPort!, { target: () => ({ host: HOST, port: echoPort }), proxyHeader: true })]);

    const bare = await within(roundTrip(plainPort!, 'hello'), 'plain round trip');
    is(bare.reply.toString(), 'hello', 'no header on the wire');
    is(echo.got.at(-1)!.toString(), 'hello');

    const viaProxy = await within(roundTrip(proxyPort!, 'hi'), 'proxied round trip');
    const seen = echo.got.at(-1)!;
    const parsed = parseProxyV2(seen);
    ok(parsed !== 'incomplete', 'a whole header first');
    equal(parsed.header.source, { address: HOST, port: viaProxy.localPort });
    equal(parsed.header.destination, { address: HOST, port: proxyPort });
    is(seen.subarray(parsed.length).toString(), 'hi');
  } finally {
    await h.close();
    await closeTcp(echo.server);
  }
});

t('a TCP port without a relay (or whose target is gone): a connection is closed at once', async () => {
  const h = new PortHolder({ log: quiet, address: HOST });
  try {
    const [p, q] = await freePorts(2);
    await h.claim('a', [tcp(p!), tcp(q!, { target: () => undefined, proxyHeader: false })]);
    equal((await within(roundTrip(p!, 'x'), 'no relay')).reply.toString(), '');
    equal((await within(roundTrip(q!, 'x'), 'no target')).reply.toString(), '');
  } finally {
    await h.close();
  }
});

t('close() lets every port of every owner go: they can be bound again', async () => {
  const h = new PortHolder({ log: quiet, address: HOST, sctp: () => true });
  const [p, q] = await freePorts(2);
  await h.claim('a', [tcp(p!), udp(p!)]);
  await h.claim('b', [tcp(q!), sctp(q!)]);
  equal(h.owners.sort(), ['a', 'b']);
  await h.close();
  equal(h.owners, []);
  equal([h.ownerOf('tcp', p!), h.ownerOf('sctp', q!)], [undefined, undefined]);
  ok(await tcpFree(p!));
  ok(await udpFree(p!));
  ok(await tcpFree(q!));
  await h.close(); // idempotent
});

t.run();
