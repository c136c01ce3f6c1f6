// The load of `npm run bench:mesh`, run in the client's netns (h2's host
// netns for the mesh path, a client endpoint's for the direct and VIP
// paths): HTTP GETs, each over a new TCP connection (the mesh and the VIP
// place each connection, not each request), --concurrency of them in flight
// at all times, round-robin over --hosts. First --warmup requests (not
// counted: JIT, ARP and conntrack on every hop), then --requests counted.
// Each request is timed from before its connect to the end of the response.
// Prints one JSON line: requests, ok, errors (by kind), seconds, rps (answers
// per second), latency percentiles, slow requests, and which backend answered
// how often (the first word of the body: http-name.mjs answers with its task
// name).
//
//   node mesh-load.mjs --hosts IP[,IP...] --port N [--requests 3000] [--concurrency 8]
//        [--warmup 200] [--max-seconds 30] [--timeout-ms 5000]
//
// Bounded: it starts no request after --max-seconds (warm-up included), and
// every request ends by --timeout-ms; the program then exits.
import { request } from 'node:http';
import { line, parseFlags, percentile } from './program-args.js';

const SPEC = { hosts: 'ipv4s', port: 'int', requests: 'int', concurrency: 'int', warmup: 'int', 'max-seconds': 'int', 'timeout-ms': 'int' } as const;
// Requests slower than these are counted: 1 s is a lost SYN's first retransmission (RFC 6298 §2.1), 200 ms a retransmitted segment's.
const SLOW_MS = [200, 1000] as const;

type Outcome = { ok: true; ms: number; backend: string } | { ok: false; ms: number; error: string };

function get(host: string, port: number, timeoutMs: number): Promise<Outcome> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(o);
    };
    const fail = (error: string) => finish({ ok: false, ms: performance.now() - t0, error });
    const req = request({ host, port, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) fail(`http ${res.statusCode}`);
        else finish({ ok: true, ms: performance.now() - t0, backend: body.trim().split(' ')[0] ?? '' });
      });
      res.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })), timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
    req.end();
  });
}

interface Phase {
  ok: number;
  latencies: number[];
  errors: Record<string, number>;
  backends: Record<string, number>;
  seconds: number;
  stoppedBy: 'count' | 'time';
}

/** count requests, `concurrency` in flight, none started after `until` (performance.now() ms). */
async function phase(hosts: readonly string[], port: number, count: number, concurrency: number, until: number, timeoutMs: number): Promise<Phase> {
  const p: Phase = { ok: 0, latencies: [], errors: {}, backends: {}, seconds: 0, stoppedBy: 'count' };
  let issued = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (issued < count) {
      if (performance.now() >= until) {
        p.stoppedBy = 'time';
        return;
      }
      const host = hosts[issued++ % hosts.length]!;
      const o = await get(host, port, timeoutMs);
      if (o.ok) {
        p.ok++;
        p.latencies.push(o.ms);
        p.backends[o.backend] = (p.backends[o.backend] ?? 0) + 1;
      } else {
        p.errors[o.error] = (p.errors[o.error] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  p.seconds = (performance.now() - t0) / 1000;
  return p;
}

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2), SPEC, { requests: 3000, concurrency: 8, warmup: 200, 'max-seconds': 30, 'timeout-ms': 5000 });
  const hosts = String(f.hosts).split(',');
  const port = Number(f.port);
  const requests = Number(f.requests);
  const concurrency = Number(f.concurrency);
  const warmup = Number(f.warmup);
  const maxSeconds = Number(f['max-seconds']);
  const timeoutMs = Number(f['timeout-ms']);
  if (port < 1 || port > 65535) throw new Error(`--port: expected 1 to 65535, got ${port}`);
  if (requests < 1 || requests > 100_000) throw new Error(`--requests: expected 1 to 100000, got ${requests}`);
  if (concurrency < 1 || concurrency > 256) throw new Error(`--concurrency: expected 1 to 256, got ${concurrency}`);
  if (warmup < 0 || warmup > 10_000) throw new Error(`--warmup: expected 0 to 10000, got ${warmup}`);
  if (maxSeconds < 1 || maxSeconds > 300) throw new Error(`--max-seconds: expected 1 to 300, got ${maxSeconds}`);
  if (timeoutMs < 100 || timeoutMs > 30_000) throw new Error(`--timeout-ms: expected 100 to 30000, got ${timeoutMs}`);

  const until = performance.now() + maxSeconds * 1000;
  const warm = warmup > 0 ? await phase(hosts, port, warmup, concurrency, until, timeoutMs) : undefined;
  const p = await phase(hosts, port, requests, concurrency, until, timeoutMs);
  const lat = Float64Array.from(p.latencies).sort();
  const errors = Object.values(p.errors).reduce((a, b) => a + b, 0);
  line({
    target: `${hosts.join(',')}:${port}`,
    concurrency,
    requests: p.ok + errors,
    ok: p.ok,
    errors,
    errorKinds: p.errors,
    seconds: p.seconds,
    rps: p.seconds > 0 ? p.ok / p.seconds : 0,
    p50Ms: percentile(lat, 0.5),
    p90Ms: percentile(lat, 0.9),
    p99Ms: percentile(lat, 0.99),
    p999Ms: percentile(lat, 0.999),
    maxMs: lat.length > 0 ? lat[lat.length - 1] : undefined,
    slow: Object.fromEntries(SLOW_MS.map((ms) => [`over${ms}Ms`, p.latencies.filter((x) => x > ms).length])),
    stoppedBy: p.stoppedBy,
    backends: p.backends,
    warmup: warm === undefined ? undefined : { ok: warm.ok, errorKinds: warm.errors, seconds: warm.seconds },
  });
}

try {
  await main();
} catch (e) {
  process.stderr.write(`mesh-load: ${(e as Error).message}\n`);
  process.exit(2);
}
