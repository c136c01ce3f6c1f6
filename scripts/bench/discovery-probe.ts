// One node's witness in `npm run bench:discovery`'s convergence test, run
// inside that node's task of the global service `probe` (`agent exec`). It
// watches the two things a task on this node sees of a service:
//
//   DNS: the agent's resolver (/etc/resolv.conf) asked for --name (tasks.web)
//        every --poll-ms, one query at a time, with EDNS so 50 addresses fit
//        in one UDP reply: how many A records come back (an error reply: 0);
//   VIP: the rules in this netns, `nft -j list table ip agent_lb`: how many
//        backends the dnat rule of --vip has (no rule: 0). Listed when
//        `nft monitor` reports a change in this netns (the kernel's own
//        notification, so the time is the change's, not a poll's), and every
//        --list-every-ms in case a notification was missed.
//
// It first waits until both show --from (the state before the scale) and
// prints {"ready":...}; the bench scales only after every node's probe is
// ready. Then it records, in epoch ms, when each first left --from and when
// each first showed --to, and prints one JSON line when both did, or at
// --timeout-ms. Bounded: it exits by itself, and ends `nft monitor` with it.
//
//   node discovery-probe.mjs --node h0 --name tasks.web --vip IP --from 0 --to 10
//        [--timeout-ms 90000] [--arm-timeout-ms 30000] [--poll-ms 20] [--list-every-ms 250]
import { Buffer } from 'node:buffer';
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { parseBackendChain, vipChainKey } from '../../agent/host/nft-backends.js';
import { DNS_PORT, FLAG_TC, FLAGS_OFFSET, HEADER_BYTES, ID_OFFSET, RCODE_MASK, aQuery, line, parseFlags, resolvConfServer } from './discovery-wire.js';

const SPEC = {
  node: 'name',
  name: 'name',
  vip: 'ipv4',
  from: 'int',
  to: 'int',
  'timeout-ms': 'int',
  'arm-timeout-ms': 'int',
  'poll-ms': 'int',
  'list-every-ms': 'int',
} as const;
// One DNS query's wait; a lost one is counted and the next poll asks again.
const QUERY_TIMEOUT_MS = 500;
// `nft monitor` subscribes after it starts; changes before that are caught by the first list.
const MONITOR_SETTLE_MS = 150;
const NFT_TIMEOUT_MS = 5_000;
const VIP_TABLE = ['-j', 'list', 'table', 'ip', 'agent_lb'];

interface Track {
  count: number | undefined;
  firstChangeAt?: number;
  agreedAt?: number;
  /** Times it showed --to, then something else (a regression after agreement). */
  regressions: number;
  samples: number;
  errors: number;
}

const track = (): Track => ({ count: undefined, regressions: 0, samples: 0, errors: 0 });

/** The backends of vip in `nft -j list table ip agent_lb`: its backend chains (none: 0). */
export function vipBackends(json: string, vip: string): number {
  // One chain per backend (agent/host/nft-backends.ts): count the VIP's backend chains.
  const doc = JSON.parse(json) as { nftables?: { chain?: { name?: string } }[] };
  const key = vipChainKey(vip);
  return (doc.nftables ?? []).filter((item) => parseBackendChain(item.chain?.name ?? '')?.key === key).length;
}

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2), SPEC, { 'timeout-ms': 90_000, 'arm-timeout-ms': 30_000, 'poll-ms': 20, 'list-every-ms': 250 });
  const from = Number(f.from);
  const to = Number(f.to);
  const vip = String(f.vip);
  const pollMs = Number(f['poll-ms']);
  if (from < 0 || to < 0 || from === to) throw new Error(`--from, --to: expected two different counts >= 0, got ${from} and ${to}`);
  if (pollMs < 1 || pollMs > 10_000) throw new Error(`--poll-ms: expected 1 to 10000, got ${pollMs}`);
  const server = resolvConfServer();
  const dns = track();
  const vipT = track();
  let phase: 'arming' | 'watching' | 'done' = 'arming';
  let readyAt = 0;
  let monitorEvents = 0;
  let truncated = 0;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  let lister: ReturnType<typeof setInterval> | undefined;

  const sock = createSocket('udp4');
  const monitor = spawn('nft', ['monitor'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const monitorFrom = Date.now();
  monitor.on('error', () => undefined); // no nft: the lists report the errors

  const finish = (why: 'agreed' | 'timeout' | 'not-ready'): void => {
    if (phase === 'done') return;
    const was = phase;
    phase = 'done';
    monitor.kill('SIGTERM');
    clearInterval(lister);
    clearTimeout(deadline);
    sock.close();
    const show = (t: Track) => ({ count: t.count, firstChangeAt: t.firstChangeAt, agreedAt: t.agreedAt, regressions: t.regressions, samples: t.samples, errors: t.errors });
    line({ node: f.node, from, to, result: why, phase: was, readyAt, endAt: Date.now(), dns: { ...show(dns), truncated }, vip: { ...show(vipT), monitorEvents } });
    process.exitCode = why === 'not-ready' ? 3 : 0;
  };

  const observe = (t: Track, count: number | undefined, at: number): void => {
    if (phase === 'done') return;
    if (count === undefined) {
      t.errors++;
      return;
    }
    t.samples++;
    if (phase === 'watching') {
      if (count !== from && t.firstChangeAt === undefined) t.firstChangeAt = at;
      if (count === to && t.agreedAt === undefined) t.agreedAt = at;
      if (t.agreedAt !== undefined && count !== to && t.count === to) t.regressions++;
      t.count = count;
      if (dns.agreedAt !== undefined && vipT.agreedAt !== undefined) finish('agreed');
      return;
    }
    t.count = count;
    if (dns.count === from && vipT.count === from && Date.now() - monitorFrom >= MONITOR_SETTLE_MS) {
      phase = 'watching';
      readyAt = Date.now();
      line({ ready: true, node: f.node, at: readyAt });
      clearTimeout(deadline);
      deadline = setTimeout(() => finish('timeout'), Number(f['timeout-ms']));
    }
  };
  deadline = setTimeout(() => finish('not-ready'), Number(f['arm-timeout-ms']));

  // ---- VIP: a list after every notification of nft monitor, and every --list-every-ms ----
  let listing = false;
  let again = false;
  let eventAt: number | undefined;
  const list = (): void => {
    if (phase === 'done') return;
    if (listing) {
      again = true;
      return;
    }
    listing = true;
    // The list shows every change up to its start; the latest notification before it is when the last of them happened.
    const at = eventAt ?? Date.now();
    eventAt = undefined;
    execFile('nft', VIP_TABLE, { timeout: NFT_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 }, (err, stdout) => {
      let count: number | undefined;
      if (err === null) {
        try {
          count = vipBackends(stdout, vip);
        } catch {
          count = undefined;
        }
      }
      observe(vipT, count, at);
      listing = false;
      if (again) {
        again = false;
        list();
      }
    });
  };
  monitor.stdout.setEncoding('utf8').on('data', () => {
    monitorEvents++;
    eventAt = Date.now();
    list();
  });
  lister = setInterval(list, Number(f['list-every-ms']));
  list();

  // ---- DNS: one query at a time, every --poll-ms ----
  const query = aQuery(String(f.name), true);
  let id = Math.floor(Math.random() * 0x1_0000);
  let waiting: ((m: Buffer | undefined) => void) | undefined;
  sock.on('message', (m) => {
    if (m.length >= HEADER_BYTES && m.readUInt16BE(ID_OFFSET) === id) waiting?.(m);
  });
  sock.on('error', () => waiting?.(undefined));
  await new Promise<void>((resolve) => sock.connect(DNS_PORT, server, () => resolve()));
  const ask = (): Promise<number | undefined> =>
    new Promise((resolve) => {
      id = (id + 1) % 0x1_0000;
      const q = Buffer.from(query);
      q.writeUInt16BE(id, ID_OFFSET);
      const done = (m: Buffer | undefined) => {
        clearTimeout(timer);
        waiting = undefined;
        if (m === undefined) return resolve(undefined);
        const flags = m.readUInt16BE(FLAGS_OFFSET);
        if ((flags & FLAG_TC) !== 0) truncated++;
        // An error reply (SERVFAIL, NXDOMAIN: no task, nothing to answer) is no address.
        if ((flags & RCODE_MASK) !== 0) return resolve(0);
        try {
          resolve((dnsPacket.decode(m).answers ?? []).filter((a) => a.type === 'A').length);
        } catch {
          resolve(undefined);
        }
      };
      const timer = setTimeout(() => done(undefined), QUERY_TIMEOUT_MS);
      waiting = done;
      sock.send(q, (err) => {
        if (err) done(undefined);
      });
    });

  const over = () => phase === 'done';
  while (!over()) {
    const start = Date.now();
    const count = await ask();
    observe(dns, count, Date.now());
    const rest = pollMs - (Date.now() - start);
    if (rest > 0 && !over()) await new Promise((r) => setTimeout(r, rest));
  }
}

try {
  await main();
} catch (e) {
  process.stderr.write(`discovery-probe: ${(e as Error).message}\n`);
  process.exit(2);
}
