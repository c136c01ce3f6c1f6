// The 2377 channel end to end over MemNet under a ManualClock (issue 4):
// members, joiners, refusals with their counters, a man in the middle,
// tampering on the wire, and handshake timeouts on both sides.
import { suite, equal, is, ok, match } from '../../../harness.js';
import { CertificateAuthority } from '../../../../agent/cluster/ca/ca.js';
import { newJoinTokens } from '../../../../agent/cluster/ca/join-token.js';
import { secureConnect, type SecureConn, type TrustConfig } from '../../../../agent/cluster/channel/index.js';
import type { Stream } from '../../../../shared/transport/types.js';
import { MANAGER_IP, MEMBER_IP, PORT, Relay, World, bytes, str, text } from './fixtures.js';

const t = suite('secure channel 2377');
const MGR = { host: MANAGER_IP, port: PORT };

function connect(w: World, trust: TrustConfig, node = w.member, to = MGR, ip = MEMBER_IP): Promise<SecureConn> {
  return secureConnect(w.transport(ip), to, { key: node.key, trust, clock: w.clock, rand: w.rand.fork() });
}

function inbox(c: SecureConn): Uint8Array[] {
  const box: Uint8Array[] = [];
  c.onMessage((m) => box.push(m));
  return box;
}

function joinTrust(token: string): TrustConfig {
  return { kind: 'join', token };
}

t('member <-> manager: both sides learn who the other is; messages both ways, one over 64 KiB, arrive whole and in order', async () => {
  const w = new World(1);
  const { l, conns } = await w.listen();
  const c = await w.settle(connect(w, w.memberTrust()));
  await w.until(() => conns.length === 1, 'the accepted channel');
  const s = conns[0]!;
  is(c.peer.nodeId, w.manager.key.nodeId);
  is(c.peer.role, 'manager');
  is(c.peer.joining, false);
  is(c.peer.cert?.nodeId, w.manager.key.nodeId);
  is(c.localRole, 'worker');
  is(s.peer.nodeId, w.member.key.nodeId);
  is(s.peer.role, 'worker');
  is(s.peer.joining, false);
  is(s.localRole, 'manager');

  // Messages sent before the far side registers onMessage are held for it.
  const big = bytes(200_000);
  c.send(text('hello'));
  c.send(big);
  c.send(new Uint8Array(0));
  s.send(text('welcome'));
  s.send(bytes(65_518, 3)); // exactly one full chunk
  s.send(bytes(65_519, 4)); // one byte into a second chunk
  const atServer = inbox(s);
  const atClient = inbox(c);
  await w.until(() => atServer.length === 3 && atClient.length === 3, 'all messages');
  is(str(atServer[0]!), 'hello');
  equal(atServer[1], big);
  is(atServer[2]!.length, 0);
  is(str(atClient[0]!), 'welcome');
  equal(atClient[1], bytes(65_518, 3));
  equal(atClient[2], bytes(65_519, 4));
  is(l.stats.handshakes, 1);
  is(l.stats.handshakeFailures, 0);

  // A graceful close: the peer sees onClose() without an error; send after close is a no-op.
  const closes: (Error | undefined)[] = [];
  s.onClose((e) => closes.push(e));
  c.close();
  c.send(text('ignored'));
  await w.until(() => closes.length === 1, 'the peer to see the close');
  is(closes[0], undefined);
  let late: Error | undefined | null = null;
  c.onClose((e) => (late = e));
  is(late, undefined); // registered after the close: called at once
  await l.close();
});

t('joiner with the worker token: accepted as a joining worker without a certificate', async () => {
  const w = new World(2);
  const { l, conns } = await w.listen();
  const joiner = w.node('worker'); // only its key is used
  const c = await w.settle(connect(w, joinTrust(w.tokens.worker), joiner));
  await w.until(() => conns.length === 1, 'the accepted channel');
  const s = conns[0]!;
  is(s.peer.joining, true);
  is(s.peer.role, 'worker');
  is(s.peer.nodeId, joiner.key.nodeId);
  is(s.peer.cert, undefined);
  is(c.localRole, 'worker');
  is(c.peer.role, 'manager');
  const got = inbox(s);
  c.send(text('csr please'));
  await w.until(() => got.length === 1, 'the message');
  is(str(got[0]!), 'csr please');
  c.close();
  s.close();
  await l.close();
});

t('joiner with the manager token is accepted as a manager', async () => {
  const w = new World(3);
  const { l, conns } = await w.listen();
  const c = await w.settle(connect(w, joinTrust(w.tokens.manager), w.node('worker')));
  await w.until(() => conns.length === 1, 'the accepted channel');
  is(conns[0]!.peer.role, 'manager');
  is(c.localRole, 'manager');
  c.close();
  conns[0]!.close();
  await l.close();
});

t('wrong token secret: refused with bad-token, counted, the secret never echoed', async () => {
  const w = new World(4);
  const { l, conns } = await w.listen();
  // Same CA digest (so the joiner trusts the manager), another secret.
  const wrong = newJoinTokens(w.ca.digest(), w.rand.fork()).worker;
  const err = await w.rejection(connect(w, joinTrust(wrong), w.node('worker')));
  is(err.code, 'ECHAN_REFUSED');
  is(err.reason, 'bad-token');
  match(err.message, /invalid join token/);
  ok(!err.message.includes(wrong.split('-')[3]!));
  await w.until(() => l.stats.handshakeFailures === 1, 'the failure count');
  is(l.stats.badTokens, 1);
  is(conns.length, 0);
  await l.close();
});

t('rate limit: after 5 failed joins from one source the 6th attempt, even with a good token, is refused', async () => {
  const w = new World(5);
  const { l } = await w.listen();
  const wrong = newJoinTokens(w.ca.digest(), w.rand.fork()).worker;
  const joiner = w.node('worker');
  for (let i = 0; i < 5; i++) {
    const e = await w.rejection(connect(w, joinTrust(wrong), joiner));
    is(e.reason, 'bad-token');
  }
  const e = await w.rejection(connect(w, joinTrust(w.tokens.worker), joiner));
  is(e.code, 'ECHAN_REFUSED');
  is(e.reason, 'rate-limited');
  match(e.message, /too many failed join attempts from 10\.0\.0\.2; retry in 12 s/);
  await w.until(() => l.stats.rateLimited === 1, 'the rate-limit count');
  is(l.stats.badTokens, 5);
  // Another source is not affected.
  const other = await w.settle(connect(w, joinTrust(w.tokens.worker), joiner, MGR, '10.0.0.3'));
  other.close();
  await l.close();
});

t('man in the middle: a responder with another CA is refused by the joiner before the token leaves', async () => {
  const w = new World(6);
  const mallory = CertificateAuthority.create(w.rand.fork(), w.clock);
  const fake = w.node('manager', mallory);
  const { l } = await w.listen({ key: fake.key, cert: fake.cert, root: mallory.root }, mallory);
  const err = await w.rejection(connect(w, joinTrust(w.tokens.worker), w.node('worker')));
  is(err.code, 'ECHAN_UNTRUSTED');
  match(err.message, /^manager certificate does not chain to the CA in the join token \(possible man in the middle\)/);
  await w.until(() => l.stats.handshakeFailures === 1, 'the responder to drop the handshake');
  is(l.stats.badTokens + l.stats.handshakes, 0); // no join request ever arrived
  await l.close();
});

t('man in the middle relaying the real root with its own certificate: refused too', async () => {
  const w = new World(7);
  const mallory = CertificateAuthority.create(w.rand.fork(), w.clock);
  const fake = w.node('manager', mallory);
  const { l } = await w.listen({ key: fake.key, cert: fake.cert, root: w.ca.root });
  const err = await w.rejection(connect(w, joinTrust(w.tokens.worker), w.node('worker')));
  match(err.message, /possible man in the middle/);
  await l.close();
});

t('a revoked member certificate is refused by the manager (untrusted-cert); a revoked manager by the member', async () => {
  const w = new World(8);
  const { l, conns } = await w.listen();
  const mv = w.ca.verify(w.member.cert);
  if (mv.ok) w.revoked.add(mv.cert.serial);
  is(w.revoked.size, 1);
  const err = await w.rejection(connect(w, w.memberTrust()));
  is(err.code, 'ECHAN_REFUSED');
  is(err.reason, 'untrusted-cert');
  match(err.message, /revoked/);
  await w.until(() => l.stats.untrustedPeers === 1, 'the count');
  is(conns.length, 0);

  w.revoked.clear();
  const v = w.ca.verify(w.manager.cert);
  ok(v.ok);
  if (v.ok) w.revoked.add(v.cert.serial);
  const err2 = await w.rejection(connect(w, w.memberTrust()));
  is(err2.code, 'ECHAN_UNTRUSTED');
  match(err2.message, /10\.0\.0\.1:2377 presented an unacceptable certificate: .*revoked/);
  await l.close();
});

t('an expired member certificate is refused', async () => {
  const w = new World(9);
  const shortLived = w.node('worker', w.ca, 1_000);
  const { l } = await w.listen();
  w.clock.advance(2_000);
  const err = await w.rejection(connect(w, w.memberTrust(shortLived), shortLived));
  is(err.reason, 'untrusted-cert');
  match(err.message, /expired/);
  await l.close();
});

t('a member certificate for another key (replayed) is refused', async () => {
  const w = new World(10);
  const { l } = await w.listen();
  const thief = w.node('worker');
  const err = await w.rejection(connect(w, w.memberTrust(w.member), thief));
  is(err.reason, 'untrusted-cert');
  match(err.message, /another key/);
  await l.close();
});

t('tampered ciphertext on an established channel: that connection closes and is counted', async () => {
  const w = new World(11);
  const { l, conns } = await w.listen();
  const relay = new Relay(w);
  const r = await relay.start('10.0.0.9', MGR);
  const c = await w.settle(connect(w, w.memberTrust(), w.member, { host: '10.0.0.9', port: PORT }));
  await w.until(() => conns.length === 1, 'the accepted channel');
  const s = conns[0]!;
  const got = inbox(s);
  const serverClosed: (Error | undefined)[] = [];
  const clientClosed: (Error | undefined)[] = [];
  s.onClose((e) => serverClosed.push(e));
  c.onClose((e) => clientClosed.push(e));
  c.send(text('intact'));
  await w.until(() => got.length === 1, 'the first message');
  relay.tamper = true;
  c.send(text('flipped'));
  await w.until(() => serverClosed.length === 1 && clientClosed.length === 1, 'both sides to close');
  is(got.length, 1);
  is((serverClosed[0] as { code?: string } | undefined)?.code, 'ECHAN_PROTOCOL');
  ok(clientClosed[0] !== undefined); // reset by the server
  is(l.stats.badFrames, 1);
  await r.close();
  await l.close();
});

t('handshake timeout: a silent responder makes secureConnect reject after 5 s', async () => {
  const w = new World(12);
  const silent: Stream[] = [];
  const ls = await w.settle(w.transport(MANAGER_IP).listen(MGR, (s) => silent.push(s)));
  const started = w.clock.nowMs();
  const err = await w.rejection(connect(w, w.memberTrust()));
  is(err.code, 'ECHAN_TIMEOUT');
  match(err.message, /did not finish within 5000 ms/);
  ok(w.clock.nowMs() - started >= 5_000);
  for (const s of silent) s.destroy();
  await ls.close();
});

t('handshake timeout: a silent initiator is dropped by the responder after 5 s and counted', async () => {
  const w = new World(13);
  const { l } = await w.listen();
  const raw = await w.settle(w.transport(MEMBER_IP).connect(MGR));
  const closed: (Error | undefined)[] = [];
  raw.onClose((e) => closed.push(e));
  await w.until(() => closed.length === 1, 'the responder to give up');
  is(l.stats.handshakeTimeouts, 1);
  is(l.stats.handshakeFailures, 1);
  ok(w.clock.nowMs() >= 5_000);
  await l.close();
});

t('garbage instead of message 1: closed and counted, the listener keeps serving', async () => {
  const w = new World(14);
  const { l, conns } = await w.listen();
  const raw = await w.settle(w.transport(MEMBER_IP).connect(MGR));
  const closed: (Error | undefined)[] = [];
  raw.onClose((e) => closed.push(e));
  raw.write(Uint8Array.from([0, 0, 0, 3, 1, 2, 3])); // a 3-byte frame: too short for an ephemeral key
  await w.until(() => closed.length === 1, 'the close');
  is(l.stats.badFrames, 1);
  raw.destroy();
  const raw2 = await w.settle(w.transport(MEMBER_IP).connect(MGR));
  const closed2: (Error | undefined)[] = [];
  raw2.onClose((e) => closed2.push(e));
  raw2.write(Uint8Array.from([0xff, 0xff, 0xff, 0xff])); // announces a frame over 65535 bytes
  await w.until(() => closed2.length === 1, 'the close');
  is(l.stats.badFrames, 2);
  const c = await w.settle(connect(w, w.memberTrust()));
  await w.until(() => conns.length === 1, 'a good channel after the bad ones');
  c.close();
  conns[0]!.close();
  await l.close();
});

t('a malformed join token fails before dialling, with parseJoinToken\'s message', async () => {
  const w = new World(15);
  const err = await w.rejection(connect(w, joinTrust('SWMTKN-1-abc-def')));
  match(err.message, /^invalid join token: .*Docker Swarm token/);
});

t.run();
