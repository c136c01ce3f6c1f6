// The values of the peers and services tables (table-records.ts) and the IP
// text they carry (ip-bytes.ts): golden bytes, canonical text (RFC 5952 §4),
// every rejection.
import { suite, equal, is, ok } from '../../../harness.js';
import { seededRand } from '../../../../shared/rand.js';
import { decodePeerRecord, decodeServiceRecord, encodePeerRecord, encodeServiceRecord, TableRecordError } from '../../../../agent/gossip/networkdb/index.js';
import { MAX_VALUE_BYTES } from '../../../../agent/gossip/networkdb/wire.js';
import { formatIp, formatMac, parseIp, parseMac } from '../../../../agent/gossip/networkdb/ip-bytes.js';

const t = suite('networkdb table records');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/[\s|]/g, ''), 'hex'));

const peer4 = { ip: '10.0.1.5', mac: '02:42:0a:00:01:05', vtep: '192.0.2.10' };
const peer6 = { ip: 'fd00::5', mac: '02:42:0a:00:01:05', vtep: '2001:db8::a' };
const svc = { service: 'web', task: 'web.1', ip: '10.0.1.5', vip: '10.0.1.2' };
const rr = { service: 'db', task: 'db.1', ip: '10.0.1.6', vip: '' };

t('golden bytes, and back', () => {
  const cases: [Uint8Array, string, unknown, (b: Uint8Array) => unknown][] = [
    [encodePeerRecord(peer4), '01 | 04 0a000105 | 02420a000105 | 04 c000020a', peer4, decodePeerRecord],
    [encodePeerRecord(peer6), '01 | 06 fd000000000000000000000000000005 | 02420a000105 | 06 20010db800000000000000000000000a', peer6, decodePeerRecord],
    [encodeServiceRecord(svc), '01 | 03 776562 | 05 7765622e31 | 04 0a000105 | 04 0a000102', svc, decodeServiceRecord],
    [encodeServiceRecord(rr), '01 | 02 6462 | 04 64622e31 | 04 0a000106 | 00', rr, decodeServiceRecord],
  ];
  for (const [b, g, v, dec] of cases) {
    is(hex(b), hex(unhex(g)));
    equal(dec(b), v);
  }
});

t('the largest service record fits a NetworkDB value', () => {
  const big = { service: 's'.repeat(128), task: 't'.repeat(128), ip: 'ffff::1', vip: 'ffff::2' };
  const b = encodeServiceRecord(big);
  is(b.length, 293);
  ok(b.length <= MAX_VALUE_BYTES);
  equal(decodeServiceRecord(b), big);
});

t('every rejection, with its exact message', () => {
  const bad = (dec: (b: Uint8Array) => unknown, g: string) => {
    try {
      dec(unhex(g));
      return 'accepted';
    } catch (e) {
      ok(e instanceof TableRecordError, String(e));
      return (e as Error).message;
    }
  };
  const P = decodePeerRecord;
  const S = decodeServiceRecord;
  is(bad(P, ''), 'truncated format');
  is(bad(P, '02 04 0a000105 02420a000105 04 c000020a'), 'unknown record format 2');
  is(bad(P, '01 05 0a000105 02420a000105 04 c000020a'), 'ip family must be 4 or 6, got 5');
  is(bad(P, '01 04 0a0001'), 'truncated ip');
  is(bad(P, '01 04 0a000105 02420a'), 'truncated mac');
  is(bad(P, '01 04 0a000105 02420a000105 00'), 'vtep family must be 4 or 6, got 0');
  is(bad(P, '01 04 0a000105 02420a000105 04 c000020a ff'), '1 bytes after the peer record');
  is(bad(S, '01 00'), 'truncated task length', 'an empty service is a standalone endpoint: the task follows');
  is(bad(S, '01 00 00'), 'task must be 1..128 bytes, got 0');
  is(bad(S, `01 81 ${'73'.repeat(129)}`), 'service must be 0..128 bytes, got 129');
  is(bad(S, '01 01 ff 01 74 04 0a000105 00'), 'service is not UTF-8');
  is(bad(S, '01 01 73 03 7474'), 'truncated task');
  is(bad(S, '01 01 73 01 74 04 0a000105 07'), 'vip family must be 0, 4 or 6, got 7');
  is(bad(S, '01 01 73 01 74 04 0a000105 00 00'), '1 bytes after the service record');
});

t('encoders refuse bad fields with exact messages', () => {
  const msg = (f: () => unknown) => {
    try {
      f();
      return 'accepted';
    } catch (e) {
      ok(e instanceof RangeError, String(e));
      return (e as Error).message;
    }
  };
  is(msg(() => encodePeerRecord({ ...peer4, ip: '10.0.1' })), 'encodePeerRecord: ip must be an IPv4 or IPv6 address, got "10.0.1"');
  is(msg(() => encodePeerRecord({ ...peer4, mac: '02:42:0a:00:01' })), 'encodePeerRecord: mac must be six hex octets separated by colons, got "02:42:0a:00:01"');
  is(msg(() => encodePeerRecord({ ...peer4, vtep: '010.0.0.1' })), 'encodePeerRecord: vtep must be an IPv4 or IPv6 address, got "010.0.0.1"');
  is(msg(() => encodeServiceRecord({ ...svc, service: 's'.repeat(129) })), 'encodeServiceRecord: service must be 0..128 bytes of UTF-8, got 129');
  is(msg(() => encodeServiceRecord({ ...svc, task: '' })), 'encodeServiceRecord: task must be 1..128 bytes of UTF-8, got 0');
  // A standalone endpoint: no service, known by its name.
  equal(decodeServiceRecord(encodeServiceRecord({ ...svc, service: '', vip: '' })), { ...svc, service: '', vip: '' });
  is(msg(() => encodeServiceRecord({ ...svc, task: 't'.repeat(129) })), 'encodeServiceRecord: task must be 1..128 bytes of UTF-8, got 129');
  is(msg(() => encodeServiceRecord({ ...svc, vip: 'none' })), 'encodeServiceRecord: vip must be an IPv4 or IPv6 address, got "none"');
});

t('IPv6 text is canonical (RFC 5952 §4) and strict', () => {
  const canon: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2: one zero group stays
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // §4.2.3: the longest run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // §4.2.3: the first of equal runs
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
  ];
  for (const [inp, out] of canon) is(formatIp(parseIp(inp)!), out, inp);
  for (const badIp of ['1::2::3', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', '::ffff:1.2.3.4', 'g::', ':::', '', '1.2.3', '1.2.3.256', '01.2.3.4']) {
    is(parseIp(badIp), undefined, badIp);
  }
  is(formatMac(parseMac('02:42:AC:11:00:02')!), '02:42:ac:11:00:02');
  is(parseMac('2:42:ac:11:00:02'), undefined);
});

t('IP text round-trips for random addresses', () => {
  const r = seededRand(3);
  for (let i = 0; i < 2000; i++) {
    const b = r.bytes(r.int(2) ? 4 : 16);
    if (b.length === 16 && r.int(2)) b.fill(0, r.int(8) * 2, r.int(8) * 2 + 6);
    equal(parseIp(formatIp(b)), b);
  }
});

t.run();
