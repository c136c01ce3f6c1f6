import dnsPacket from 'dns-packet';
import { suite, equal, is, ok } from '../../harness.js';
import { seededRand } from '../../../shared/rand.js';
import {
  answerQuestion,
  answerMessage,
  judgeUpstream,
  relayReply,
  rcodeReply,
  upstreamQuery,
  DNS_TTL_S,
  RCODE,
  type Resolution,
  type Step,
} from '../../../agent/discovery/dns-answer.js';
import { viewOf, bigRrView, FRONT_FIRST, BACK_FIRST, NETS } from './dns-fixtures.js';
import type { Asker } from '../../../agent/discovery/records.js';

const t = suite('dns-answer');
const view = viewOf();

function ask(name: string, type = 'A', asker: Asker = FRONT_FIRST, seed = 1): Resolution {
  return answerQuestion({ name, type }, asker, view, seededRand(seed));
}
function a(...ips: string[]): Resolution {
  return { kind: 'records', answers: ips.map((ip) => ({ type: 'A' as const, ip })) };
}
function ipsOf(r: Resolution): string[] {
  return r.kind === 'records' ? r.answers.map((x) => (x.type === 'A' ? x.ip : x.name)) : [];
}
const NXDOMAIN: Resolution = { kind: 'nxdomain' };
const NODATA: Resolution = { kind: 'nodata' };
const FORWARD: Resolution = { kind: 'forward' };

t('TTL is short (issue 9), not docker 600', () => {
  is(DNS_TTL_S, 5);
});

t('<service> in vip mode: the VIP on the first of the asker\'s networks that runs it', () => {
  equal(ask('web'), a('10.0.1.2'));
  equal(ask('web', 'A', BACK_FIRST), a('10.0.2.2'));
  // Only on the asker's second network.
  equal(ask('db'), a('10.0.2.10'));
});

t('<service> in dnsrr mode: every task IP, shuffled by rand, deterministic per seed', () => {
  const r = ask('rr');
  equal(ipsOf(r).slice().sort(), ['10.0.1.5', '10.0.1.6', '10.0.1.7']);
  equal(ask('rr', 'A', FRONT_FIRST, 7), ask('rr', 'A', FRONT_FIRST, 7));
  const orders = new Set<string>();
  const rand = seededRand(3);
  for (let i = 0; i < 300; i++) orders.add(ipsOf(answerQuestion({ name: 'rr', type: 'A' }, FRONT_FIRST, view, rand)).join(','));
  is(orders.size, 6, 'all 3! orders appear');
});

t('tasks.<service>: every task IP on the first shared network, shuffled', () => {
  equal(ipsOf(ask('tasks.web')).sort(), ['10.0.1.3', '10.0.1.4']);
  equal(ipsOf(ask('tasks.web', 'A', BACK_FIRST)).sort(), ['10.0.2.3', '10.0.2.4']);
  equal(ipsOf(ask('tasks.rr')).sort(), ['10.0.1.5', '10.0.1.6', '10.0.1.7']);
  equal(ask('tasks.db'), a('10.0.2.11'));
  const orders = new Set<string>();
  const rand = seededRand(4);
  for (let i = 0; i < 50; i++) orders.add(ipsOf(answerQuestion({ name: 'tasks.web', type: 'A' }, FRONT_FIRST, view, rand)).join(','));
  is(orders.size, 2);
});

t('<name>: a task container name or a standalone --name, on the first shared network', () => {
  equal(ask('web.1.aaa'), a('10.0.1.3'));
  equal(ask('web.1.aaa', 'A', BACK_FIRST), a('10.0.2.3'));
  equal(ask('box'), a('10.0.1.8'));
  equal(ask('db.1.fff'), a('10.0.2.11'));
});

t('<x>.<network>: only that network, which must be one of the asker\'s', () => {
  equal(ask('web.back'), a('10.0.2.2'));
  equal(ask('web.front', 'A', BACK_FIRST), a('10.0.1.2'));
  equal(ipsOf(ask('tasks.web.back')).sort(), ['10.0.2.3', '10.0.2.4']);
  equal(ask('web.1.aaa.back'), a('10.0.2.3'));
  equal(ask('box.front'), a('10.0.1.8'));
  // box is not on back: not found there, and a dotted unknown name goes upstream.
  equal(ask('box.back'), FORWARD);
  // A network the asker is not on.
  equal(ask('hidden.other'), FORWARD);
  equal(ask('web.other'), FORWARD);
  // Network names with dots.
  equal(ipsOf(ask('tasks.dots.my.net')), ['10.0.4.3']);
  equal(ask('dotted.my.net'), a('10.0.4.3'));
  // Not on BACK_FIRST's networks.
  equal(ask('dotted.my.net', 'A', BACK_FIRST), FORWARD);
});

t('scoping: names on networks the asker is not on do not resolve', () => {
  equal(ask('secret'), NXDOMAIN);
  equal(ask('hidden'), NXDOMAIN);
  equal(ask('hidden.1.ggg'), FORWARD);
  equal(ask('tasks.hidden'), FORWARD);
  equal(ask('db', 'A', { name: 'x', networks: ['n-front'] }), NXDOMAIN);
  equal(ask('web', 'A', { name: 'lonely', networks: [] }), NXDOMAIN);
});

t('names are case-insensitive and a trailing dot is ignored', () => {
  equal(ask('WEB.'), a('10.0.1.2'));
  equal(ask('Web.1.AAA'), a('10.0.1.3'));
  equal(ask('web.BACK.'), a('10.0.2.2'));
  equal(ask('TASKS.DB'), a('10.0.2.11'));
  equal(ask('web', 'a'), a('10.0.1.2'));
});

t('AAAA and every other type for a name we hold: NOERROR, no records, never forwarded', () => {
  equal(ask('web', 'AAAA'), NODATA);
  equal(ask('rr', 'MX'), NODATA);
  equal(ask('tasks.web', 'TXT'), NODATA);
  equal(ask('box', 'ANY'), NODATA);
  equal(ask('web.back', 'AAAA'), NODATA);
  equal(ask('web', 'PTR'), NODATA);
  equal(ask('web', 'UNKNOWN_65'), NODATA);
});

t('PTR: the name at an address on one of the asker\'s networks; a VIP gives the service', () => {
  const ptr = (name: string, asker: Asker = FRONT_FIRST) => ask(name, 'PTR', asker);
  equal(ptr('3.1.0.10.in-addr.arpa'), { kind: 'records', answers: [{ type: 'PTR', name: 'web.1.aaa' }] });
  equal(ptr('8.1.0.10.in-addr.arpa.'), { kind: 'records', answers: [{ type: 'PTR', name: 'box' }] });
  equal(ptr('2.1.0.10.IN-ADDR.ARPA'), { kind: 'records', answers: [{ type: 'PTR', name: 'web' }] });
  equal(ptr('10.2.0.10.in-addr.arpa'), { kind: 'records', answers: [{ type: 'PTR', name: 'db' }] });
  // Another network's address, not ours at all, or not four octets: upstream.
  equal(ptr('3.3.0.10.in-addr.arpa'), FORWARD);
  equal(ptr('1.1.168.192.in-addr.arpa'), FORWARD);
  equal(ptr('1.0.10.in-addr.arpa'), FORWARD);
  equal(ptr('03.1.0.10.in-addr.arpa'), FORWARD);
  equal(ptr('300.1.0.10.in-addr.arpa'), FORWARD);
  equal(ptr('x.3.1.0.10.in-addr.arpa'), FORWARD);
  // A known address asked for another type.
  equal(ask('3.1.0.10.in-addr.arpa', 'A'), NODATA);
});

t('unknown names: a single label is NXDOMAIN (never leaked), anything dotted is forwarded', () => {
  equal(ask('nosuch'), NXDOMAIN);
  equal(ask('nosuch', 'AAAA'), NXDOMAIN);
  equal(ask('localhost.'), NXDOMAIN);
  equal(ask('example.com'), FORWARD);
  equal(ask('example.com.', 'AAAA'), FORWARD);
  equal(ask('tasks.'), NXDOMAIN);
  equal(ask('tasks.nosuch'), FORWARD);
  // The root (a priming query) is the upstream's.
  equal(ask('.', 'NS'), FORWARD);
});

t('a service whose tasks are all gone is unknown', () => {
  const v = viewOf({ front: { id: 'n-front', records: NETS.front!.records.filter((r) => r.service !== 'web') } });
  equal(answerQuestion({ name: 'web', type: 'A' }, FRONT_FIRST, v, seededRand(1)), NXDOMAIN);
});

t('network names: asked as written first, lower-cased second', () => {
  const asked: string[] = [];
  const v = { ...view, networkId: (n: string) => (asked.push(n), view.networkId(n)) };
  equal(answerQuestion({ name: 'web.BACK', type: 'A' }, FRONT_FIRST, v, seededRand(1)), a('10.0.2.2'));
  equal(asked, ['BACK', 'back']);
});

// ---- Messages ----

function query(name: string, type: dnsPacket.RecordType = 'A', extra: Partial<dnsPacket.Packet> = {}): Buffer {
  return dnsPacket.encode({ type: 'query', id: 0x1234, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }], ...extra });
}
function msg(name: string, type: dnsPacket.RecordType = 'A', asker: Asker | null = FRONT_FIRST, transport: 'udp' | 'tcp' = 'udp', v = view): Step {
  return answerMessage(query(name, type), transport, asker ?? undefined, v, seededRand(1));
}
function decoded(s: Step): dnsPacket.DecodedPacket & { rcode?: string } {
  if (s.kind !== 'reply') throw new Error(`expected a reply, got ${s.kind}`);
  return dnsPacket.decode(s.bytes);
}

t('message: an A answer is authoritative, echoes id, question and RD, sets RA, carries the TTL', () => {
  const s = msg('Web');
  is(s.kind === 'reply' && s.outcome, 'answered');
  const p = decoded(s);
  is(p.id, 0x1234);
  is(p.type, 'response');
  ok(p.flag_aa && p.flag_rd && p.flag_ra && !p.flag_tc);
  is(p.rcode, 'NOERROR');
  equal(p.questions, [{ name: 'Web', type: 'A', class: 'IN' }]);
  equal(p.answers!.map((x) => [x.name, x.type, (x as dnsPacket.StringAnswer).ttl, x.type === 'A' ? x.data : '']), [['Web', 'A', 5, '10.0.1.2']]);
});

t('message: NXDOMAIN and NODATA are authoritative and empty; PTR answers carry the name', () => {
  const nx = decoded(msg('nosuch'));
  is(nx.rcode, 'NXDOMAIN');
  ok(nx.flag_aa);
  is(nx.answers!.length, 0);
  const nd = decoded(msg('web', 'AAAA'));
  is(nd.rcode, 'NOERROR');
  ok(nd.flag_aa);
  is(nd.answers!.length, 0);
  const ptr = decoded(msg('4.1.0.10.in-addr.arpa', 'PTR'));
  equal(ptr.answers!.map((x) => [x.type, x.type === 'PTR' ? x.data : '']), [['PTR', 'web.2.bbb']]);
});

t('message: a stranger is REFUSED, RD copied, no AA', () => {
  const s = msg('web', 'A', null);
  is(s.kind === 'reply' && s.outcome, 'refused');
  const p = decoded(s);
  is(p.rcode, 'REFUSED');
  ok(!p.flag_aa && p.flag_rd);
  equal(p.questions!.map((q) => q.name), ['web']);
});

t('message: too short or a response is dropped; garbage with a header is FORMERR echoing the id', () => {
  equal(answerMessage(Buffer.alloc(11), 'udp', FRONT_FIRST, view, seededRand(1)), { kind: 'drop' });
  const resp = dnsPacket.encode({ type: 'response', id: 9, questions: [{ name: 'web', type: 'A' }] });
  equal(answerMessage(resp, 'udp', FRONT_FIRST, view, seededRand(1)), { kind: 'drop' });
  const garbage = Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x05, 0x61]);
  const s = answerMessage(garbage, 'udp', FRONT_FIRST, view, seededRand(1));
  is(s.kind === 'reply' && s.outcome, 'formerr');
  const p = decoded(s);
  is(p.id, 0xabcd);
  is(p.rcode, 'FORMERR');
  is(p.questions!.length, 0);
});

t('message: no question, two questions, or an opcode other than QUERY is FORMERR', () => {
  const none = dnsPacket.encode({ type: 'query', id: 1, questions: [] });
  const two = dnsPacket.encode({ type: 'query', id: 2, questions: [{ name: 'web', type: 'A' }, { name: 'db', type: 'A' }] });
  const notify = query('web', 'A', { flags: 4 << 11 });
  for (const m of [none, two, notify]) {
    const s = answerMessage(m, 'udp', FRONT_FIRST, view, seededRand(1));
    is(s.kind === 'reply' && s.outcome, 'formerr');
    is(decoded(s).rcode, 'FORMERR');
  }
  is((decoded(answerMessage(notify, 'udp', FRONT_FIRST, view, seededRand(1))).flags! >> 11) & 0xf, 4, 'opcode echoed');
});

t('message: a class other than IN is NOTIMP; unknown names are forwarded with the query kept', () => {
  const ch = dnsPacket.encode({ type: 'query', id: 3, questions: [{ name: 'web', type: 'TXT', class: 'CH' }] });
  const s = answerMessage(ch, 'udp', FRONT_FIRST, view, seededRand(1));
  is(s.kind === 'reply' && s.outcome, 'notimp');
  is(decoded(s).rcode, 'NOTIMP');
  const f = msg('example.com');
  is(f.kind, 'forward');
  if (f.kind === 'forward') {
    is(f.query.id, 0x1234);
    equal(f.query.asked, { name: 'example.com', type: 'A', class: 'IN' });
  }
});

t('message: a name dns-packet cannot echo exactly (a dot inside a label) is forwarded, not answered', () => {
  // One label "web.front": as text it would read as web on front.
  const m = query('xxxxxxxxx');
  Buffer.from('web.front').copy(m, 13);
  const s = answerMessage(m, 'udp', FRONT_FIRST, view, seededRand(1));
  is(s.kind, 'forward');
  if (s.kind === 'forward') is(s.query.echo, undefined);
});

t('message: UDP answers over 512 bytes are truncated with TC; EDNS raises the limit to at most 4096; TCP is whole', () => {
  const big = bigRrView(60);
  const udp = msg('big', 'A', FRONT_FIRST, 'udp', big);
  ok(udp.kind === 'reply' && udp.truncated);
  const p = decoded(udp);
  ok(p.flag_tc);
  ok(udp.kind === 'reply' && udp.bytes.length <= 512);
  ok(p.answers!.length > 0 && p.answers!.length < 60, `${p.answers!.length} answers kept`);
  const tcp = msg('big', 'A', FRONT_FIRST, 'tcp', big);
  ok(tcp.kind === 'reply' && !tcp.truncated);
  is(decoded(tcp).answers!.length, 60);
  const edns = (size: number) =>
    answerMessage(query('big', 'A', { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: size, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] }), 'udp', FRONT_FIRST, big, seededRand(1));
  const e = edns(4096);
  ok(e.kind === 'reply' && !e.truncated);
  const ep = decoded(e);
  is(ep.answers!.length, 60);
  equal(ep.additionals!.map((x) => [x.type, x.type === 'OPT' ? x.udpPayloadSize : 0]), [['OPT', 4096]]);
  // Advertising less than 512 still gets 512; more than 4096 is capped.
  const small = edns(100);
  ok(small.kind === 'reply' && small.truncated && small.bytes.length <= 512 && small.bytes.length > 400);
  const huge = answerMessage(query('big', 'A'), 'udp', FRONT_FIRST, bigRrView(400), seededRand(1));
  ok(huge.kind === 'reply' && huge.truncated);
  const hugeEdns = answerMessage(
    query('big', 'A', { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 65000, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] }),
    'udp', FRONT_FIRST, bigRrView(400), seededRand(1));
  ok(hugeEdns.kind === 'reply' && hugeEdns.truncated && hugeEdns.bytes.length <= 4096 && hugeEdns.bytes.length > 3900);
});

t('upstream: our own id on the way out, the client\'s back; only a matching response is taken', () => {
  const m = query('example.com');
  const s = answerMessage(m, 'udp', FRONT_FIRST, view, seededRand(1));
  if (s.kind !== 'forward') throw new Error('expected forward');
  const out = upstreamQuery(m, 0x4242);
  is(out.readUInt16BE(0), 0x4242);
  is(m.readUInt16BE(0), 0x1234, 'the client bytes are left alone');
  const answer = (id: number, extra: Partial<dnsPacket.Packet> = {}) =>
    dnsPacket.encode({ type: 'response', id, flags: dnsPacket.RECURSION_AVAILABLE, questions: [{ name: 'EXAMPLE.com', type: 'A' }], answers: [{ type: 'A', name: 'example.com', ttl: 60, data: '93.184.216.34' }], ...extra });
  is(judgeUpstream(s.query, 0x4242, answer(0x4242)), 'answer');
  is(judgeUpstream(s.query, 0x4242, answer(0x4243)), 'ignore');
  is(judgeUpstream(s.query, 0x4242, upstreamQuery(m, 0x4242)), 'ignore', 'not a response');
  is(judgeUpstream(s.query, 0x4242, answer(0x4242, { questions: [{ name: 'other.com', type: 'A' }] })), 'ignore');
  is(judgeUpstream(s.query, 0x4242, answer(0x4242, { flags: dnsPacket.TRUNCATED_RESPONSE })), 'truncated');
  is(judgeUpstream(s.query, 0x4242, answer(0x4242, { flags: RCODE.SERVFAIL })), 'next');
  is(judgeUpstream(s.query, 0x4242, answer(0x4242, { flags: RCODE.REFUSED })), 'next');
  is(judgeUpstream(s.query, 0x4242, answer(0x4242, { flags: RCODE.NXDOMAIN })), 'answer');
  is(judgeUpstream(s.query, 0x4242, Buffer.from([0x42, 0x42, 0x80])), 'ignore');
  const relayed = relayReply(s.query, answer(0x4242));
  is(relayed.truncated, false);
  const p = dnsPacket.decode(relayed.bytes);
  is(p.id, 0x1234);
  equal(p.answers!.map((x) => (x.type === 'A' ? x.data : '')), ['93.184.216.34']);
  // Bigger than the client takes over UDP: an empty TC reply, so it asks again over TCP.
  const many = answer(0x4242, { answers: Array.from({ length: 40 }, (_, i) => ({ type: 'A' as const, name: 'example.com', ttl: 60, data: `1.2.3.${i}` })) });
  const cut = relayReply(s.query, many);
  ok(cut.truncated);
  const cp = dnsPacket.decode(cut.bytes);
  ok(cp.flag_tc && cp.id === 0x1234 && cp.answers!.length === 0);
  equal(cp.questions, [{ name: 'example.com', type: 'A', class: 'IN' }]);
  const sf = dnsPacket.decode(rcodeReply(s.query, RCODE.SERVFAIL)) as dnsPacket.DecodedPacket & { rcode: string };
  is(sf.rcode, 'SERVFAIL');
  ok(!sf.flag_aa && sf.flag_rd && sf.flag_ra);
});

t.run();
