// mac1, mac2, cookie replies (agent/datapath/secure/cookie.ts; the WireGuard
// paper §5.3 with SHA-256 and AES-GCM) and the load guard's token buckets
// (load-guard.ts), on their own. The plane-level behaviour is in plane-dos.
import { suite, equal, is, ok } from '../../../harness.js';
import { generateKeypair } from '../../../../shared/crypto/noise-dh.js';
import { CookieChecker, equalAt, mac1KeyFor, openCookieReply, cookieReplyKeyFor, writeMacs } from '../../../../agent/datapath/secure/cookie.js';
import { LoadGuard, TokenBucket } from '../../../../agent/datapath/secure/load-guard.js';
import { INIT_MAC1_OFFSET, INIT_SENDER_OFFSET, INITIATION_BYTES, writeU32 } from '../../../../agent/datapath/secure/wire-format.js';
import { SEED, seededRand } from './fixture.js';

const t = suite('secure cookies and load');
const rand = seededRand(SEED);
const R = generateKeypair(rand);

function message(): Uint8Array {
  const m = rand.bytes(INITIATION_BYTES);
  m[0] = 1;
  writeU32(m, INIT_SENDER_OFFSET, 0x1234);
  return m;
}

t('mac1 is keyed by the receiver: ours passes, one for another key or a changed byte does not', () => {
  const cc = new CookieChecker({ publicKey: R.publicKey, rand: seededRand(1), nowMs: 0, secretMs: 120_000 });
  const m = message();
  writeMacs(m, INIT_MAC1_OFFSET, mac1KeyFor(R.publicKey), null);
  ok(cc.checkMac1(m, INIT_MAC1_OFFSET));
  ok(equalAt(m, 136, new Uint8Array(16), 16), 'mac2 zero without a cookie');
  ok(!cc.checkMac2(m, INIT_MAC1_OFFSET, '10.0.0.1', 0), 'a zero mac2 never passes');
  const other = Uint8Array.from(m);
  writeMacs(other, INIT_MAC1_OFFSET, mac1KeyFor(generateKeypair(rand).publicKey), null);
  ok(!cc.checkMac1(other, INIT_MAC1_OFFSET));
  m[50]! ^= 1;
  ok(!cc.checkMac1(m, INIT_MAC1_OFFSET));
});

t('the cookie round trip: reply, open with the mac1 sent, mac2 passes from that source only, until the secret rotates', () => {
  const cc = new CookieChecker({ publicKey: R.publicKey, rand: seededRand(2), nowMs: 0, secretMs: 120_000 });
  const m = message();
  const mac1 = writeMacs(m, INIT_MAC1_OFFSET, mac1KeyFor(R.publicKey), null);
  const reply = cc.reply(m, INIT_SENDER_OFFSET, INIT_MAC1_OFFSET, '10.0.0.1', 1000);
  is(reply.length, 52);
  is(reply[0], 3);
  is((reply[4]! << 24) | (reply[5]! << 16) | (reply[6]! << 8) | reply[7]!, 0x1234, 'addressed by the answered sender_index');
  const key = cookieReplyKeyFor(R.publicKey);
  is(openCookieReply(reply, reply.length, key, new Uint8Array(16)), null, 'sealed over mac1: another ad fails');
  is(openCookieReply(reply, 51, key, mac1), null, 'length-exact');
  const bad = Uint8Array.from(reply);
  bad[30]! ^= 1;
  is(openCookieReply(bad, bad.length, key, mac1), null);
  const cookie = openCookieReply(reply, reply.length, key, mac1);
  ok(cookie !== null && cookie.length === 16);
  const retry = message();
  writeMacs(retry, INIT_MAC1_OFFSET, mac1KeyFor(R.publicKey), cookie);
  ok(cc.checkMac2(retry, INIT_MAC1_OFFSET, '10.0.0.1', 60_000));
  ok(!cc.checkMac2(retry, INIT_MAC1_OFFSET, '10.0.0.2', 60_000), 'the cookie is bound to the source VTEP');
  ok(!cc.checkMac2(retry, INIT_MAC1_OFFSET, '10.0.0.1', 121_000), 'the secret rotated');
});

t('token bucket: burst, then the rate, never above the burst', () => {
  const b = new TokenBucket(2, 3, 0);
  ok(b.take(0) && b.take(0) && b.take(0));
  ok(!b.take(0));
  ok(!b.take(499));
  ok(b.take(500), 'one token per 500 ms');
  ok(!b.take(500));
  ok(b.take(10_000) && b.take(10_000) && b.take(10_000));
  ok(!b.take(10_000), 'refilled to the burst only');
  const never = new TokenBucket(0, 0, 0);
  ok(!never.take(1e9));
});

t('load guard: over the global rate everyone needs a cookie for the hold time; a noisy source on its own; proven messages rate-limited per source', () => {
  const g = new LoadGuard({ handshakesPerSecond: 3, underLoadHoldMs: 1000, sourceHandshakesPerSecond: 1, sourceHandshakeBurst: 2 }, 0);
  equal([g.needsCookie('a', 0), g.needsCookie('b', 0), g.needsCookie('c', 0)], [false, false, false]);
  ok(g.needsCookie('d', 0), 'the fourth in a second: under load');
  ok(g.underLoad(999));
  ok(g.needsCookie('d', 500), 'still held');
  ok(!g.underLoad(2000));
  ok(!g.needsCookie('a', 2000));
  ok(!g.needsCookie('a', 2000));
  ok(g.needsCookie('a', 2000), "a's own burst of 2 is spent (it took one at 0 and refilled)");
  ok(!g.needsCookie('b', 3000), 'others are not affected (3 more global tokens by now)');
  ok(g.allowProven('a', 3000) && g.allowProven('a', 3000));
  ok(!g.allowProven('a', 3000), 'proven burst spent');
  ok(g.allowProven('a', 4000));
  g.forget('a');
  ok(g.allowProven('a', 4000) && g.allowProven('a', 4000), 'forgotten: a fresh bucket');
  const always = new LoadGuard({ handshakesPerSecond: 0, underLoadHoldMs: 0, sourceHandshakesPerSecond: 10, sourceHandshakeBurst: 10 }, 0);
  ok(always.needsCookie('a', 0) && always.needsCookie('a', 1e6), 'a rate of 0: always under load');
});

t.run();
