// The load of `npm run bench:discovery`'s DNS test, a dnsperf-like loop run
// inside a task (`agent exec TASK -- node discovery-dnsperf.mjs ...`): A
// queries for one name over UDP from one connected socket, --window of them
// outstanding at all times (each answer or timeout sends the next), for
// --warmup-ms (not counted: JIT on both ends) and then --seconds (counted).
// Answers are matched by ID; a reply with an ID not outstanding is "late" (its
// query timed out already). Prints one JSON line: answers/s, latency
// percentiles, timeouts, error replies by RCODE, and the ANCOUNT and TC of the
// first reply (what the name resolves to).
//
//   node discovery-dnsperf.mjs --name web [--server IP] [--port 53] [--seconds 3]
//        [--warmup-ms 500] [--window 32] [--timeout-ms 1000]
//
// Without --server: the first nameserver of /etc/resolv.conf (in a task, the
// agent's resolver). Bounded: it sends for warmup + seconds, then waits at
// most --timeout-ms for what is outstanding, and exits.
import { Buffer } from 'node:buffer';
import { createSocket } from 'node:dgram';
import { ANCOUNT_OFFSET, DNS_PORT, FLAG_QR, FLAG_TC, FLAGS_OFFSET, HEADER_BYTES, ID_OFFSET, RCODE_MASK, aQuery, line, parseFlags, percentile, resolvConfServer } from './discovery-wire.js';

const ID_SPACE = 0x1_0000;
// How often outstanding queries are checked against --timeout-ms: the timeout's resolution.
const SWEEP_MS = 20;
// Past this, a query is abandoned however long --timeout-ms asks to wait (IDs are reused after 65,536 queries).
const MAX_TIMEOUT_MS = 5_000;

const SPEC = { name: 'name', server: 'ipv4', port: 'int', seconds: 'int', 'warmup-ms': 'int', window: 'int', 'timeout-ms': 'int' } as const;

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2), SPEC, { port: DNS_PORT, seconds: 3, 'warmup-ms': 500, window: 32, 'timeout-ms': 1000, server: '' });
  const server = f.server === '' ? resolvConfServer() : String(f.server);
  const port = Number(f.port);
  const seconds = Number(f.seconds);
  const warmupMs = Number(f['warmup-ms']);
  const window = Number(f.window);
  const timeoutMs = Number(f['timeout-ms']);
  if (seconds < 1 || seconds > 60) throw new Error(`--seconds: expected 1 to 60, got ${seconds}`);
  if (window < 1 || window > 1024) throw new Error(`--window: expected 1 to 1024, got ${window}`);
  if (timeoutMs < 10 || timeoutMs > MAX_TIMEOUT_MS) throw new Error(`--timeout-ms: expected 10 to ${MAX_TIMEOUT_MS}, got ${timeoutMs}`);
  if (warmupMs < 0 || warmupMs > 10_000) throw new Error(`--warmup-ms: expected 0 to 10000, got ${warmupMs}`);

  const template = aQuery(String(f.name), false);
  const sock = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.connect(port, server, () => {
      sock.off('error', reject);
      resolve();
    });
  });

  const sentAt = new Float64Array(ID_SPACE);
  const outstanding = new Set<number>();
  let nextId = 0;
  let sending = true;
  const t0 = performance.now();
  const from = t0 + warmupMs;
  const to = from + seconds * 1000;
  const inWindow = (t: number) => t >= from && t < to;
  const n = { sent: 0, answered: 0, timeouts: 0, late: 0, short: 0, sendErrors: 0, socketErrors: 0 };
  const rcodes: Record<string, number> = {};
  const latencies: number[] = [];
  let first: { ancount: number; truncated: boolean; rcode: number; bytes: number } | undefined;

  const send = () => {
    if (!sending) return;
    const id = nextId;
    nextId = (nextId + 1) % ID_SPACE;
    const b = Buffer.from(template);
    b.writeUInt16BE(id, ID_OFFSET);
    const now = performance.now();
    sentAt[id] = now;
    outstanding.add(id);
    if (inWindow(now)) n.sent++;
    sock.send(b, (err) => {
      if (err) n.sendErrors++;
    });
  };

  sock.on('error', () => n.socketErrors++); // an ICMP refusal on the connected socket; its query times out
  sock.on('message', (msg) => {
    const now = performance.now();
    if (msg.length < HEADER_BYTES || (msg.readUInt16BE(FLAGS_OFFSET) & FLAG_QR) === 0) {
      n.short++;
      return;
    }
    const id = msg.readUInt16BE(ID_OFFSET);
    if (!outstanding.delete(id)) {
      n.late++;
      return;
    }
    const flags = msg.readUInt16BE(FLAGS_OFFSET);
    const rcode = flags & RCODE_MASK;
    first ??= { ancount: msg.readUInt16BE(ANCOUNT_OFFSET), truncated: (flags & FLAG_TC) !== 0, rcode, bytes: msg.length };
    if (inWindow(now)) {
      if (rcode === 0) {
        n.answered++;
        latencies.push(now - sentAt[id]!);
      } else {
        rcodes[rcode] = (rcodes[rcode] ?? 0) + 1;
      }
    }
    send();
  });

  const sweep = setInterval(() => {
    const now = performance.now();
    for (const id of outstanding) {
      if (now - sentAt[id]! < timeoutMs) continue;
      outstanding.delete(id);
      if (inWindow(now)) n.timeouts++;
      send();
    }
    if (now >= to) sending = false;
  }, SWEEP_MS);

  for (let i = 0; i < window; i++) send();
  await new Promise((r) => setTimeout(r, Math.max(0, to - performance.now())));
  sending = false;
  // What is still outstanding gets its --timeout-ms, then the program ends.
  const drainEnd = performance.now() + timeoutMs;
  while (outstanding.size > 0 && performance.now() < drainEnd) await new Promise((r) => setTimeout(r, SWEEP_MS));
  clearInterval(sweep);
  sock.close();

  latencies.sort((a, b) => a - b);
  line({
    server: `${server}:${port}`,
    name: f.name,
    window,
    seconds,
    sent: n.sent,
    answered: n.answered,
    qps: n.answered / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies.at(-1),
    timeouts: n.timeouts,
    rcodes,
    late: n.late,
    short: n.short,
    sendErrors: n.sendErrors,
    socketErrors: n.socketErrors,
    leftOutstanding: outstanding.size,
    first,
  });
}

try {
  await main();
} catch (e) {
  process.stderr.write(`discovery-dnsperf: ${(e as Error).message}\n`);
  process.exit(2);
}
