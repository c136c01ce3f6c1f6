// The push-pull state codec (push-pull-wire.ts): golden bytes, round trips,
// pushPullSize() equal to the encoded length, every rejection.
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { decodePushPull, encodePushPull, pushPullSize, SwimWireError, type PushPullState } from '../../../../agent/gossip/swim/index.js';
import { seededRand } from '../../../../shared/rand.js';

const t = suite('swim push-pull wire');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

t('golden bytes: version, flags, count, members, user state', () => {
  const state: PushPullState = { join: true, members: [{ id: 'a', addr: '10.0.0.1:7946', incarnation: 5, state: 'suspect' }] };
  const h = '01 01 00000001  02 00000005 01 61 0d 31302e302e302e313a37393436  00000001 ff';
  is(hex(encodePushPull(state, Uint8Array.from([0xff]))), h.replace(/\s+/g, ''));
  equal(decodePushPull(bytes(h)), { state, userState: Uint8Array.from([0xff]) });
  // No members, no user state: the smallest body.
  is(hex(encodePushPull({ join: false, members: [] })), '01000000000000000000');
});

t('state codes 1..4 are alive, suspect, dead, left', () => {
  const members = (['alive', 'suspect', 'dead', 'left'] as const).map((state, i) => ({ id: `n${i}`, addr: '10.0.0.1:1', incarnation: i, state }));
  const b = encodePushPull({ join: false, members });
  const codes: number[] = [];
  let off = 6;
  for (let i = 0; i < 4; i++) {
    codes.push(b[off]!);
    off += 1 + 4 + 1 + 2 + 1 + 10;
  }
  equal(codes, [1, 2, 3, 4]);
});

t('round trips and exact sizes (1,000 seeded states)', () => {
  const r = seededRand(9);
  const states = ['alive', 'suspect', 'dead', 'left'] as const;
  for (let i = 0; i < 1_000; i++) {
    const n = r.int(20);
    const members = Array.from({ length: n }, (_, j) => ({ id: `node-${j}-${r.int(1000)}`, addr: `10.0.${r.int(256)}.${r.int(256)}:${1 + r.int(65535)}`, incarnation: r.u32(), state: states[r.int(4)]! }));
    const state: PushPullState = { join: r.int(2) === 1, members };
    const user = r.bytes(r.int(30));
    const b = encodePushPull(state, user);
    is(pushPullSize(state, user), b.length);
    equal(decodePushPull(b), { state, userState: user });
  }
});

function refusal(h: string): string {
  try {
    decodePushPull(bytes(h));
    return 'accepted';
  } catch (e) {
    ok(e instanceof SwimWireError, String(e));
    return (e as Error).message;
  }
}

t('every decode rejection, with its exact message', () => {
  const member = (code: string, id = '61') => `${code} 00000005 01 ${id} 0d 31302e302e302e313a37393436`;
  const cases: [string, string][] = [
    ['01 00 0000', 'truncated push-pull header: need 6 bytes at offset 0, have 4'],
    ['02 00 00000000 00000000', 'push-pull version 2 is not 1'],
    ['01 02 00000000 00000000', 'push-pull flags has reserved bits set: 0x02'],
    ['01 00 00010001 00000000', 'push-pull lists 65537 members, at most 65536 allowed'],
    ['01 00 00000001', 'truncated push-pull member 0: need 5 bytes at offset 6, have 0'],
    [`01 00 00000001 ${member('05')} 00000000`, 'push-pull member 0 has unknown state 5'],
    [`01 00 00000001 ${member('00')} 00000000`, 'push-pull member 0 has unknown state 0'],
    ['01 00 00000001 01 00000005 00', 'push-pull member id must be 1..32 bytes, got 0'],
    ['01 00 00000001 01 00000005 01 ff 01 61', 'push-pull member id is not valid UTF-8'],
    ['01 00 00000001 01 00000005 01 61 04 31323334 00000000', 'push-pull member addr must be host:port, got "1234"'],
    [`01 00 00000002 ${member('01')} ${member('02')} 00000000`, 'push-pull lists member "a" twice'],
    [`01 00 00000001 ${member('01')}`, 'truncated push-pull user state length: need 4 bytes at offset 27, have 0'],
    [`01 00 00000001 ${member('01')} 00000002 ff`, 'truncated push-pull user state: need 2 bytes at offset 31, have 1'],
    [`01 00 00000001 ${member('01')} 00000000 00`, 'push-pull has 1 trailing bytes'],
  ];
  for (const [h, msg] of cases) is(refusal(h), msg, h);
});

t('the encoder refuses bad fields', () => {
  throws(() => encodePushPull({ join: false, members: [{ id: '', addr: '10.0.0.1:1', incarnation: 0, state: 'alive' }] }), /member id must be 1..32 bytes of UTF-8, got 0/);
  throws(() => encodePushPull({ join: false, members: [{ id: 'a', addr: '10.0.0.1:1', incarnation: 2 ** 32, state: 'alive' }] }), /incarnation must be an integer in 0..2\^32-1/);
  throws(() => encodePushPull({ join: false, members: [{ id: 'a', addr: '10.0.0.1:1', incarnation: 0, state: 'zombie' as never }] }), /unknown member state "zombie"/);
});

t.run();
