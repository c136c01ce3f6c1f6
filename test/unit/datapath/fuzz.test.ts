// A seeded fuzz of every parser on the overlay data path: 100,000 inputs,
// mutations of valid datagrams and of valid peer records (bit flips,
// truncation, extension, random bytes, wrong VNIs, oversized, a random
// header byte), each through the VXLAN parse, the ARP parse,
// Forwarder.fromPipe, Forwarder.fromWire and decodePeerRecord. Nothing may
// throw, except decodePeerRecord with a TableRecordError (and setPeer with a
// RangeError for a record it cannot use, e.g. IPv6). Every forwarder input
// must end as exactly one outcome: one drop counter, or one unicast sent,
// one flood, one ARP reply, one ARP kept local, one delivery; and whatever
// came out must make sense (zero copy, right VNI, a remote VTEP, within the
// pipe's limit). TEST_SEED=n replays another run; failures print the seed.
import { suite, is, ok } from '../../harness.js';
import { seededRand, type Rand } from '../../../shared/rand.js';
import { Forwarder, DROP_REASONS, type ForwarderOutput, type ForwarderStats } from '../../../agent/datapath/forwarder.js';
import {
  ARP_OP_REPLY, ARP_OP_REQUEST, MAC48_BROADCAST, classifyArp, encodeArpDatagram, parseArpDatagram, parseArpRequest,
} from '../../../agent/datapath/arp.js';
import { parseMac48, parseVxlanFrame, readVni, writeMac48 } from '../../../agent/datapath/vxlan-frame.js';
import { decodePeerRecord, encodePeerRecord, TableRecordError } from '../../../agent/gossip/networkdb/table-records.js';

const t = suite('datapath fuzz');
const SEED = Number(process.env.TEST_SEED ?? 0xf022);
const INPUTS = 100_000;
const hexOf = (b: Uint8Array, len = b.length): string => Buffer.from(b.buffer, b.byteOffset, Math.max(0, Math.min(len, b.length))).toString('hex');
const macOf = (ip: string): string => ['02', '42', ...ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
const ipU32 = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[r.int(xs.length)]!;

const LOCAL = '10.99.0.1';
const REMOTES = ['10.99.0.2', '10.99.0.3'];
// Three pipes with different limits, so 'oversized' is reachable at small sizes too.
const NETS = [
  { vni: 4096, max: 1472 },
  { vni: 4097, max: 200 },
  { vni: 4098, max: 64 },
];
const LOCAL_IPS = ['10.0.0.2', '10.0.0.3'];
const REMOTE_IPS = ['10.0.0.5', '10.0.0.6', '10.0.0.7'];
const vtepOfRemote = (ip: string): string => REMOTES[REMOTE_IPS.indexOf(ip) % REMOTES.length]!;

function frame(vni: number, dst: string, src: string, payload: number): Uint8Array {
  const b = new Uint8Array(22 + payload);
  b.set([0x08, 0, 0, 0, (vni >>> 16) & 0xff, (vni >>> 8) & 0xff, vni & 0xff, 0]);
  writeMac48(b, 8, parseMac48(dst)!);
  writeMac48(b, 14, parseMac48(src)!);
  b.set([0x08, 0x00], 20);
  for (let i = 22; i < b.length; i++) b[i] = i & 0xff;
  return b;
}

interface Input {
  label: string;
  buf: Uint8Array;
  len: number;
  /** The pipe it is fed to, and the VTEP it arrives from. */
  vni: number;
  src: string;
}

/** A valid input of some kind: what the kernel or a peer agent would really send, or a peer record. */
function template(r: Rand): Input {
  const { vni } = pick(r, NETS);
  const local = pick(r, LOCAL_IPS);
  const remote = pick(r, REMOTE_IPS);
  const src = vtepOfRemote(remote);
  const k = r.int(8);
  const mk = (label: string, buf: Uint8Array): Input => ({ label, buf, len: buf.length, vni, src });
  if (k === 0) return mk('pipe unicast', frame(vni, macOf(remote), macOf(local), r.int(60)));
  if (k === 1) return mk('broadcast', frame(vni, 'ff:ff:ff:ff:ff:ff', macOf(r.int(2) ? local : remote), r.int(60)));
  if (k === 2) return mk('wire unicast', frame(vni, macOf(local), macOf(remote), r.int(60)));
  if (k === 3 || k === 4) {
    const m = parseMac48(macOf(local))!;
    const target = pick(r, [...LOCAL_IPS, ...REMOTE_IPS, '10.0.0.99']);
    const op = k === 3 ? ARP_OP_REQUEST : ARP_OP_REPLY;
    const f = { op, ethDst: MAC48_BROADCAST, ethSrc: m, senderMac: m, senderIp: ipU32(local), targetMac: 0, targetIp: ipU32(target) };
    return mk('arp', encodeArpDatagram(vni, f));
  }
  // Peer records, IPv4 and IPv6, as NetworkDB carries them.
  const v6 = r.int(4) === 0;
  const rec = encodePeerRecord({ ip: v6 ? 'fd00::5' : remote, mac: macOf(remote), vtep: v6 ? 'fd00:99::2' : src });
  return mk('peer record', rec);
}

const MUTATIONS = ['none', 'bit flips', 'truncate', 'extend', 'random bytes', 'wrong vni', 'oversized', 'header byte', 'short len'] as const;

function mutate(r: Rand, x: Input): Input {
  const m = pick(r, MUTATIONS);
  let buf = x.buf;
  let len = x.len;
  switch (m) {
    case 'none':
      break;
    case 'bit flips':
      buf = Uint8Array.from(buf);
      for (let n = 1 + r.int(8); n > 0 && buf.length > 0; n--) buf[r.int(buf.length)]! ^= 1 << r.int(8);
      break;
    case 'truncate':
      buf = buf.slice(0, r.int(buf.length + 1));
      len = buf.length;
      break;
    case 'extend': {
      const more = new Uint8Array(buf.length + 1 + r.int(64));
      more.set(buf);
      more.set(r.bytes(more.length - buf.length), buf.length);
      buf = more;
      len = buf.length;
      break;
    }
    case 'random bytes':
      buf = r.bytes(r.int(100));
      len = buf.length;
      break;
    case 'wrong vni':
      buf = Uint8Array.from(buf);
      if (buf.length >= 7) {
        const v = r.int(2) ? pick(r, NETS).vni : r.int(2 ** 24);
        buf.set([(v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff], 4);
      }
      break;
    case 'oversized': {
      const big = new Uint8Array(pick(r, NETS).max + 1 + r.int(100));
      big.set(buf.subarray(0, Math.min(buf.length, big.length)));
      buf = big;
      len = buf.length;
      break;
    }
    case 'header byte':
      buf = Uint8Array.from(buf);
      if (buf.length > 0) buf[r.int(Math.min(buf.length, 50))] = r.int(256);
      break;
    case 'short len':
      // The receive buffer is longer than the datagram, or the length is nonsense.
      len = r.int(4) === 0 ? pick(r, [-1, buf.length + 1, 0.5, NaN]) : r.int(buf.length + 1);
      break;
  }
  return { ...x, label: `${x.label}, ${m}`, buf, len, src: r.int(16) === 0 ? pick(r, [LOCAL, '10.99.0.200', '']) : x.src };
}

/** Inputs that reached an outcome so far. */
function outcomes(s: ForwarderStats): number {
  let dropped = 0;
  for (const r of DROP_REASONS) dropped += s.drops[r];
  return dropped + s.arpLocal + s.broadcasts + (s.toWire.packets - s.floods) + s.toPipe.packets;
}

function dropsTaken(before: ForwarderStats, after: ForwarderStats): number {
  let n = 0;
  for (const r of DROP_REASONS) n += after.drops[r] - before.drops[r];
  return n;
}

t(`${INPUTS} mutated inputs through every parser: no unexpected exception, one outcome each (seed ${SEED})`, () => {
  const r = seededRand(SEED);
  let cur: Input = { label: '', buf: new Uint8Array(0), len: 0, vni: 0, src: '' };
  let i = 0;
  const where = () => `seed=${SEED} input=${i} (${cur.label}) vni=${cur.vni} src=${cur.src} len=${cur.len} bytes=${hexOf(cur.buf)}`;
  const must = (cond: boolean, what: string) => {
    if (!cond) throw new Error(`${where()}: ${what}`);
  };
  const pipeMax = new Map(NETS.map((n) => [n.vni, n.max]));
  let fromWire = false;
  const out: ForwarderOutput = {
    toWire(vtep, buf, len) {
      must(!fromWire, 'nothing from the wire goes back to the wire');
      must(REMOTES.includes(vtep), `toWire to ${vtep}, not a remote VTEP`);
      must(buf === cur.buf && len === cur.len, 'toWire: zero copy of the input');
      must(parseVxlanFrame(buf, len)?.vni === cur.vni, 'toWire: a VXLAN datagram of the pipe\'s VNI');
      must(len <= pipeMax.get(cur.vni)!, 'toWire: within the pipe\'s limit');
    },
    toPipe(vni, buf, len) {
      must(pipeMax.has(vni), `toPipe to ${vni}, not a pipe`);
      must(parseVxlanFrame(buf, len)?.vni === vni, 'toPipe: a VXLAN datagram of that VNI');
      if (fromWire) {
        must(buf === cur.buf && len === cur.len, 'toPipe: zero copy of the input');
        must(len <= pipeMax.get(vni)!, 'toPipe: within the pipe\'s limit');
      } else {
        const a = parseArpDatagram(buf, len);
        must(a !== undefined && a.op === ARP_OP_REPLY && len === 50 && vni === cur.vni, 'toPipe from a pipe: only an ARP reply, to the same pipe');
        must(REMOTE_IPS.includes(a!.senderIp), 'ARP replies answer for remote peers only');
      }
    },
  };
  const f = new Forwarder(out, { localVtep: LOCAL });
  for (const n of NETS) {
    // The last network is encrypted: plain frames for it are dropped unless the secure plane opened them.
    f.addNetwork(n.vni, { maxDatagramBytes: n.max, encrypted: n === NETS[NETS.length - 1] });
    LOCAL_IPS.forEach((ip, k) => f.setPeer(n.vni, `l${k}`, { ip, mac: macOf(ip), vtep: LOCAL }));
    REMOTE_IPS.forEach((ip, k) => f.setPeer(n.vni, `r${k}`, { ip, mac: macOf(ip), vtep: vtepOfRemote(ip) }));
  }
  // Records that decode are fed to a forwarder of their own, so the one above keeps its tables.
  const sink = new Forwarder({ toWire() {}, toPipe() {} }, { localVtep: LOCAL });
  let decoded = 0;
  let refused = 0;

  for (i = 0; i < INPUTS; i++) {
    cur = mutate(r, template(r));
    const { buf, len } = cur;
    try {
      // The parsers: each returns a value or undefined.
      const fr = parseVxlanFrame(buf, len);
      if (fr !== undefined) must(fr.vni === readVni(buf) && fr.payloadBytes === len - 22, 'parseVxlanFrame reads what it was given');
      const cls = classifyArp(buf, len);
      const arp = parseArpDatagram(buf, len);
      must((arp === undefined) === (cls === 2), 'parseArpDatagram agrees with classifyArp');
      must((parseArpRequest(buf, len) !== undefined) === (cls === 0), 'parseArpRequest agrees with classifyArp');
      try {
        const rec = decodePeerRecord(buf.subarray(0, Number.isInteger(len) && len >= 0 ? len : buf.length));
        decoded++;
        try {
          sink.setPeer(4096, `k${i % 8}`, rec);
        } catch (e) {
          must(e instanceof RangeError, `setPeer threw ${(e as Error).name}: ${(e as Error).message}`);
        }
      } catch (e) {
        must(e instanceof TableRecordError, `decodePeerRecord threw ${(e as Error).name}: ${(e as Error).message}`);
        refused++;
      }
      // The forwarder, both ways: exactly one outcome per input.
      for (const wire of [false, true]) {
        fromWire = wire;
        const before = f.stats();
        if (wire) f.fromWire(cur.src, buf, len, (i & 3) === 0);
        else f.fromPipe(cur.vni, buf, len);
        const after = f.stats();
        must(outcomes(after) - outcomes(before) === 1, `${wire ? 'fromWire' : 'fromPipe'}: one outcome, got ${outcomes(after) - outcomes(before)}`);
        must(dropsTaken(before, after) <= 1, 'at most one drop counter moved');
      }
    } catch (e) {
      if ((e as Error).message.startsWith(`seed=${SEED} `)) throw e;
      throw new Error(`${where()}: unexpected ${(e as Error).name}: ${(e as Error).message}`);
    }
  }

  const s = f.stats();
  is(s.fromPipe.packets + s.fromWire.packets, 2 * INPUTS, 'every input counted in');
  is(outcomes(s), 2 * INPUTS, `seed=${SEED}: the counters add up to the inputs`);
  // The mutations must reach every rule, or the fuzz proves little.
  for (const reason of DROP_REASONS) ok(s.drops[reason] > 0, `seed=${SEED}: drop ${reason} reached`);
  for (const k of ['arpReplies', 'arpLocal', 'broadcasts', 'floods'] as const) ok(s[k] > 0, `seed=${SEED}: ${k} reached`);
  ok(s.toWire.packets > s.floods && s.toPipe.packets > s.arpReplies, `seed=${SEED}: unicast sent and datagrams delivered`);
  ok(decoded > 0 && refused > 0, `seed=${SEED}: peer records both decoded (${decoded}) and refused (${refused})`);
});

t.run();
