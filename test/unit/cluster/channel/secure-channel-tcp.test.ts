// The 2377 channel over real TCP on 127.0.0.1 with the real clock: the same
// handshake and chunking as on MemNet, and nothing left open afterwards.
import { suite, equal, is, until } from '../../../harness.js';
import { realClock } from '../../../../shared/clock.js';
import { seededRand } from '../../../../shared/rand.js';
import { tcpTransport } from '../../../../shared/transport/tcp.js';
import { CertificateAuthority } from '../../../../agent/cluster/ca/ca.js';
import { JoinRateLimiter } from '../../../../agent/cluster/ca/join-rate-limiter.js';
import { newJoinTokens } from '../../../../agent/cluster/ca/join-token.js';
import { generateNodeKey } from '../../../../agent/cluster/ca/node-key.js';
import { secureConnect, secureListen, type SecureConn } from '../../../../agent/cluster/channel/index.js';

const t = suite('secure channel 2377 over tcp');

t('member and manager over 127.0.0.1: a 300 KB message each way, then a clean close', async () => {
  const clock = realClock();
  const rand = seededRand(41);
  const ca = CertificateAuthority.create(rand.fork(), clock);
  const mk = generateNodeKey(rand);
  const wk = generateNodeKey(rand);
  const mcert = ca.issue({ nodeId: mk.nodeId, role: 'manager', publicKey: mk.publicKey }).bytes;
  const wcert = ca.issue({ nodeId: wk.nodeId, role: 'worker', publicKey: wk.publicKey }).bytes;
  const conns: SecureConn[] = [];
  const tcp = tcpTransport();
  const l = await secureListen(tcp, { host: '127.0.0.1', port: 0 }, {
    key: mk, cert: mcert, root: ca.root, revoked: () => new Set(), tokens: () => newJoinTokens(ca.digest(), rand.fork()),
    limiter: new JoinRateLimiter(clock), clock, rand: rand.fork(), onConn: (c) => conns.push(c),
  });
  const c = await secureConnect(tcp, l.local, { key: wk, trust: { kind: 'member', root: ca.root, revoked: () => new Set(), cert: wcert }, clock, rand: rand.fork() });
  await until(() => conns.length === 1, 2000, 'the accepted channel');
  const s = conns[0]!;
  is(c.peer.nodeId, mk.nodeId);
  is(s.peer.nodeId, wk.nodeId);
  const up = seededRand(1).bytes(300_000);
  const down = seededRand(2).bytes(300_000);
  const atS: Uint8Array[] = [];
  const atC: Uint8Array[] = [];
  s.onMessage((m) => atS.push(m));
  c.onMessage((m) => atC.push(m));
  c.send(up);
  s.send(down);
  await until(() => atS.length === 1 && atC.length === 1, 5000, 'both messages');
  equal(atS[0], up);
  equal(atC[0], down);
  let serverSaw: Error | undefined | null = null;
  s.onClose((e) => (serverSaw = e));
  c.close();
  await until(() => serverSaw !== null, 2000, 'the server to see the close');
  is(serverSaw, undefined);
  await l.close();
});

t.run();
