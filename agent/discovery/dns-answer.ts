// What the embedded resolver answers (issue 9, DESIGN §5): one question in,
// one resolution out, no I/O. Docker's embedded resolver semantics, scoped to
// the networks of the endpoint that asks and tried in its network order:
//
//   <service>            vip mode: the VIP; dnsrr: every task IP, shuffled
//   tasks.<service>      every task IP, shuffled
//   <name>               a task's container name or a standalone --name
//   <any of these>.<net> the same, on that one network (one of the asker's)
//   d.c.b.a.in-addr.arpa the name of the endpoint (or service, for a VIP) at a.b.c.d
//
// A name we hold answers AAAA and every other type with NOERROR and no
// records, never with a forward. An unknown single label is NXDOMAIN: it
// cannot be a public name, and a container name must not leak upstream.
// Everything else unknown goes to the host's resolvers.
//
// The second half is the same core at the level of messages: query bytes in,
// a reply's bytes (or "drop", or "forward") out, every message through
// dns-packet. The server (dns-server.ts) only moves bytes and keeps time.
import dnsPacket, { type DecodedPacket, type Question } from 'dns-packet';
import { seededRand, type Rand } from '../../shared/rand.js';
import type { Asker, DiscoveryView, ServiceRecord } from './records.js';

/** Seconds our answers may be cached: issue 9 wants a short TTL (docker uses 600) so moved tasks are found within seconds. */
export const DNS_TTL_S = 5;

export type Answer = { type: 'A'; ip: string } | { type: 'PTR'; name: string };

export type Resolution =
  | { kind: 'records'; answers: Answer[] }
  | { kind: 'nodata' }
  | { kind: 'nxdomain' }
  | { kind: 'forward' };

/** RFC 1035 §3.5: the reverse mapping of IPv4 lives under in-addr.arpa, octets reversed. */
const REVERSE_SUFFIX = '.in-addr.arpa';
const TASKS_PREFIX = 'tasks.';

/** The addresses a name stands for on one network; shuffle: several task IPs, to be served in random order. */
interface Found {
  ips: string[];
  shuffle: boolean;
}

/** Resolve q for asker over view; rand only orders the IPs of dnsrr services and tasks.<service>. */
export function answerQuestion(q: { name: string; type: string }, asker: Asker, view: DiscoveryView, rand: Rand): Resolution {
  const raw = q.name.endsWith('.') ? q.name.slice(0, -1) : q.name;
  const name = raw.toLowerCase();
  const type = q.type.toUpperCase();
  // The root (a priming NS query) is the upstream's business.
  if (name === '') return { kind: 'forward' };

  if (name.endsWith(REVERSE_SUFFIX)) {
    const ip = reverseAddress(name.slice(0, -REVERSE_SUFFIX.length));
    const ptr = ip === undefined ? undefined : nameAt(ip, asker.networks, view);
    if (ptr === undefined) return { kind: 'forward' };
    return type === 'PTR' ? { kind: 'records', answers: [{ type: 'PTR', name: ptr }] } : { kind: 'nodata' };
  }

  const found = resolve(raw.split('.'), asker, view);
  if (found === undefined) return name.includes('.') ? { kind: 'forward' } : { kind: 'nxdomain' };
  if (type !== 'A') return { kind: 'nodata' };
  const ips = found.shuffle ? shuffled(found.ips, rand) : found.ips;
  return { kind: 'records', answers: ips.map((ip) => ({ type: 'A', ip })) };
}

/** The whole name on the asker's networks in order, then `<x>.<network>` for every split whose suffix names one of them. */
function resolve(rawLabels: string[], asker: Asker, view: DiscoveryView): Found | undefined {
  const labels = rawLabels.map((l) => l.toLowerCase());
  const whole = labels.join('.');
  for (const nid of asker.networks) {
    const f = lookupOn(whole, view.records(nid));
    if (f !== undefined) return f;
  }
  // Network names may hold dots themselves: try the longest suffix first.
  for (let i = 1; i < labels.length; i++) {
    const nid = networkIdOf(rawLabels.slice(i).join('.'), view);
    if (nid === undefined || !asker.networks.includes(nid)) continue;
    const f = lookupOn(labels.slice(0, i).join('.'), view.records(nid));
    if (f !== undefined) return f;
  }
  return undefined;
}

/** A network's id by its name as asked, else lower-cased (names are case-insensitive to DNS clients). */
function networkIdOf(rawName: string, view: DiscoveryView): string | undefined {
  return view.networkId(rawName) ?? view.networkId(rawName.toLowerCase());
}

/** name (lower case) on one network: tasks.<service>, then <service>, then a container name. */
function lookupOn(name: string, records: readonly ServiceRecord[]): Found | undefined {
  if (name.startsWith(TASKS_PREFIX)) {
    const tasks = tasksOf(name.slice(TASKS_PREFIX.length), records);
    if (tasks.length > 0) return { ips: unique(tasks.map((r) => r.ip)), shuffle: true };
  }
  const tasks = tasksOf(name, records);
  if (tasks.length > 0) {
    const vip = tasks.find((r) => r.vip !== undefined)?.vip;
    if (vip !== undefined) return { ips: [vip], shuffle: false };
    return { ips: unique(tasks.map((r) => r.ip)), shuffle: true };
  }
  const r = records.find((x) => x.name.toLowerCase() === name);
  return r === undefined ? undefined : { ips: [r.ip], shuffle: false };
}

function tasksOf(service: string, records: readonly ServiceRecord[]): ServiceRecord[] {
  if (service === '') return [];
  return records.filter((r) => r.service !== undefined && r.service.toLowerCase() === service);
}

/** The name behind ip on the first of networks that has it: an endpoint's container name, or a VIP's service. */
function nameAt(ip: string, networks: readonly string[], view: DiscoveryView): string | undefined {
  for (const nid of networks) {
    const records = view.records(nid);
    const ep = records.find((r) => r.ip === ip);
    if (ep !== undefined) return ep.name;
    const svc = records.find((r) => r.vip === ip);
    if (svc !== undefined) return svc.service ?? svc.name;
  }
  return undefined;
}

/** "d.c.b.a" → "a.b.c.d" when it is exactly four canonical decimal octets. */
function reverseAddress(reversed: string): string | undefined {
  const parts = reversed.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reverse().join('.');
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** Fisher-Yates over a copy: one draw from rand seeds a fast generator for the rest (a CSPRNG call per element cost most of a 50-task answer, bench:discovery). */
function shuffled(xs: readonly string[], rand: Rand): string[] {
  const out = xs.slice();
  if (out.length < 2) return out;
  const r = seededRand(rand.u32());
  for (let i = out.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// ---- Messages -------------------------------------------------------------
//
// RFC 1035 §4.1.1, the 12-byte header (big-endian):
//
//    0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
//   |                      ID                       |  offset 0
//   |QR|  Opcode   |AA|TC|RD|RA| Z|AD|CD|   RCODE   |  offset 2
//   |        QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT     |  offsets 4..11
//
// dns-packet decodes and encodes whole messages; only the ID and the flags
// are read here before it runs, to answer (or drop) what it cannot decode.

export const HEADER_BYTES = 12;
const ID_OFFSET = 0;
const FLAGS_OFFSET = 2;
const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const FLAG_RA = 0x0080;
const OPCODE_SHIFT = 11;
const OPCODE_MASK = 0xf;
const OPCODE_QUERY = 0;
const RCODE_MASK = 0xf;

/** RFC 1035 §4.1.1 response codes. */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** RFC 1035 §2.3.4: a UDP reply to a client without EDNS holds at most 512 bytes. */
export const CLASSIC_UDP_BYTES = 512;
/** RFC 6891 §6.2.5: the EDNS payload size we honour (and advertise) at most. */
export const MAX_UDP_BYTES = 4096;
/** RFC 1035 §4.2.2: a TCP message is framed by a two-byte length. */
export const MAX_TCP_BYTES = 65_535;

export type Transport = 'udp' | 'tcp';

/** What the server needs to know of a query after the step that read it. */
export interface Query {
  id: number;
  /** The query's flags word, QR clear. */
  flags: number;
  /** Its only question as decoded (undefined: none, several, or undecodable). */
  asked: Question | undefined;
  /** The same question when dns-packet re-encodes it byte for byte, so a reply can echo it exactly. */
  echo: Question | undefined;
  /** The largest reply this client takes on its transport. */
  limit: number;
  /** The client spoke EDNS(0) (RFC 6891 §7): replies carry an OPT record. */
  edns: boolean;
}

export type Outcome = 'answered' | 'refused' | 'formerr' | 'notimp';

export type Step =
  | { kind: 'drop' }
  | { kind: 'reply'; outcome: Outcome; bytes: Buffer; truncated: boolean }
  | { kind: 'forward'; query: Query };

/**
 * One query message from a client (asker: who the source address is, or
 * undefined for a stranger) to what the server does with it. Never throws on
 * any input: too short for a header or a response (QR set, which must not be
 * answered lest two servers ping-pong) → drop; a stranger → REFUSED; not
 * decodable, not opcode QUERY, not exactly one question → FORMERR; a class
 * other than IN → NOTIMP; then answerQuestion decides.
 */
export function answerMessage(msg: Buffer, transport: Transport, asker: Asker | undefined, view: DiscoveryView, rand: Rand): Step {
  const query = readQuery(msg, transport);
  if (query === undefined) return { kind: 'drop' };
  if (asker === undefined) return reply(query, 'refused', RCODE.REFUSED);
  if (query.asked === undefined || ((query.flags >> OPCODE_SHIFT) & OPCODE_MASK) !== OPCODE_QUERY) return reply(query, 'formerr', RCODE.FORMERR);
  // A name dns-packet cannot echo exactly (a dot or bytes that are not UTF-8 inside a label) is none of ours.
  if (query.echo === undefined) return { kind: 'forward', query };
  if (query.echo.class !== 'IN') return reply(query, 'notimp', RCODE.NOTIMP);
  const res = answerQuestion(query.echo, asker, view, rand);
  switch (res.kind) {
    case 'forward':
      return { kind: 'forward', query };
    case 'nxdomain':
      return reply(query, 'answered', RCODE.NXDOMAIN, true);
    case 'nodata':
      return reply(query, 'answered', RCODE.NOERROR, true);
    case 'records':
      return reply(query, 'answered', RCODE.NOERROR, true, res.answers);
  }
}

/** Header, question and EDNS size of msg; undefined when it is no query at all. */
function readQuery(msg: Buffer, transport: Transport): Query | undefined {
  if (msg.length < HEADER_BYTES) return undefined;
  const flags = msg.readUInt16BE(FLAGS_OFFSET);
  if ((flags & FLAG_QR) !== 0) return undefined;
  let packet: DecodedPacket | undefined;
  try {
    packet = dnsPacket.decode(msg);
  } catch {
    packet = undefined;
  }
  const asked = packet?.questions?.length === 1 ? packet.questions[0] : undefined;
  const opt = packet?.additionals?.find((a) => a.type === 'OPT');
  const advertised = opt !== undefined && 'udpPayloadSize' in opt ? opt.udpPayloadSize : CLASSIC_UDP_BYTES;
  return {
    id: msg.readUInt16BE(ID_OFFSET),
    flags,
    asked,
    echo: asked !== undefined && echoesExactly(msg, asked) ? asked : undefined,
    limit: transport === 'tcp' ? MAX_TCP_BYTES : Math.min(MAX_UDP_BYTES, Math.max(CLASSIC_UDP_BYTES, advertised)),
    edns: opt !== undefined,
  };
}

/** Does q, encoded again, give the bytes that follow msg's header? */
function echoesExactly(msg: Buffer, q: Question): boolean {
  try {
    const again = dnsPacket.encode({ questions: [q] }).subarray(HEADER_BYTES);
    return msg.subarray(HEADER_BYTES, HEADER_BYTES + again.length).equals(again);
  } catch {
    return false;
  }
}

function reply(q: Query, outcome: Outcome, rcode: number, authoritative = false, answers: Answer[] = []): Step {
  const { bytes, truncated } = encodeFitting(q, rcode, authoritative, answers);
  return { kind: 'reply', outcome, bytes, truncated };
}

/** The reply with as many answers as fit q.limit; TC set when some were left out (RFC 2181 §9). */
function encodeFitting(q: Query, rcode: number, authoritative: boolean, answers: Answer[]): { bytes: Buffer; truncated: boolean } {
  const whole = encodeReply(q, rcode, authoritative, answers, false);
  if (whole.length <= q.limit) return { bytes: whole, truncated: false };
  let lo = 0;
  let hi = answers.length - 1; // the most answers that could fit
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (encodeReply(q, rcode, authoritative, answers.slice(0, mid), true).length <= q.limit) lo = mid;
    else hi = mid - 1;
  }
  return { bytes: encodeReply(q, rcode, authoritative, answers.slice(0, lo), true), truncated: true };
}

function encodeReply(q: Query, rcode: number, authoritative: boolean, answers: Answer[], truncated: boolean): Buffer {
  const name = q.echo?.name ?? '.';
  const flags =
    (((q.flags >> OPCODE_SHIFT) & OPCODE_MASK) << OPCODE_SHIFT) |
    (authoritative ? FLAG_AA : 0) |
    (truncated ? FLAG_TC : 0) |
    (q.flags & FLAG_RD) |
    FLAG_RA |
    (rcode & RCODE_MASK);
  return dnsPacket.encode({
    type: 'response',
    id: q.id,
    flags,
    questions: q.echo === undefined ? [] : [q.echo],
    answers: answers.map((a) =>
      a.type === 'A' ? { type: 'A', name, class: 'IN', ttl: DNS_TTL_S, data: a.ip } : { type: 'PTR', name, class: 'IN', ttl: DNS_TTL_S, data: a.name },
    ),
    additionals: q.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: MAX_UDP_BYTES, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
  });
}

/** A reply carrying only rcode (SERVFAIL when forwarding failed), the question echoed when it can be. */
export function rcodeReply(q: Query, rcode: number): Buffer {
  return encodeReply(q, rcode, false, [], false);
}

/** The query to send upstream: the client's bytes as they are, under our own id. */
export function upstreamQuery(msg: Buffer, id: number): Buffer {
  const out = Buffer.from(msg);
  out.writeUInt16BE(id, ID_OFFSET);
  return out;
}

/**
 * What an upstream's message is to the query sent under id: the answer, a
 * truncated answer (retry over TCP), a failure to move past (SERVFAIL,
 * REFUSED: the next upstream may do better), or not ours (a wrong id, no
 * response, another question: a stray or spoofed packet, to ignore).
 */
export function judgeUpstream(q: Query, id: number, m: Buffer): 'answer' | 'truncated' | 'next' | 'ignore' {
  if (m.length < HEADER_BYTES || m.readUInt16BE(ID_OFFSET) !== id) return 'ignore';
  const flags = m.readUInt16BE(FLAGS_OFFSET);
  if ((flags & FLAG_QR) === 0) return 'ignore';
  const truncated = (flags & FLAG_TC) !== 0;
  let packet: DecodedPacket;
  try {
    packet = dnsPacket.decode(m);
  } catch {
    // A truncated answer may be cut mid-record (RFC 2181 §9); anything else must decode to be relayed.
    return truncated ? 'truncated' : 'ignore';
  }
  const got = packet.questions?.length === 1 ? packet.questions[0]! : undefined;
  const want = q.asked;
  if (got === undefined || want === undefined || got.name.toLowerCase() !== want.name.toLowerCase() || got.type !== want.type || got.class !== want.class) return 'ignore';
  if (truncated) return 'truncated';
  const rcode = flags & RCODE_MASK;
  return rcode === RCODE.SERVFAIL || rcode === RCODE.REFUSED ? 'next' : 'answer';
}

/** An upstream's answer for the client: its id restored; over the client's limit, an empty reply with TC so it asks again over TCP. */
export function relayReply(q: Query, m: Buffer): { bytes: Buffer; truncated: boolean } {
  if (m.length > q.limit) {
    return { bytes: encodeReply(q, m.readUInt16BE(FLAGS_OFFSET) & RCODE_MASK, false, [], true), truncated: true };
  }
  const out = Buffer.from(m);
  out.writeUInt16BE(q.id, ID_OFFSET);
  return { bytes: out, truncated: false };
}
