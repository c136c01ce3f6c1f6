// Micro-benchmark of the resolver's per-query cost (issue 9), the twin of
// `npm run bench:discovery`'s DNS rate: not a test, not wired into
// package.json, no sockets. Bundle it and run it:
//
//   npx esbuild --bundle --platform=node --format=esm --packages=external scripts/bench/discovery-hotpath.ts --outfile=scripts/bench/.hotpath.mjs
//   node scripts/bench/.hotpath.mjs && rm scripts/bench/.hotpath.mjs
//
// (inside the repo, so dns-packet resolves from node_modules). Measures, per
// query message: the baseline responder's work (dns-packet decode + encode of
// one static A), the agent's answerMessage for `web` (the VIP) and
// `tasks.web` (every task, shuffled) over ServiceRecords holding 7, 54 and
// 500 records of one network (the bench's swarm at 3 and 50 tasks, and a
// large service), with the daemon's cryptoRand and with a seeded generator
// (what the shuffle's randomness costs), with and without EDNS; and
// ServiceRecords.records() alone (copied and sorted on every read).
import { Buffer } from 'node:buffer';
import dnsPacket from 'dns-packet';
import { answerMessage } from '../../agent/discovery/dns-answer.js';
import { ServiceRecords } from '../../agent/discovery/service-records.js';
import { cryptoRand, seededRand, type Rand } from '../../shared/rand.js';

const NET = 'net1';
const ROUNDS = 5;

function query(name: string, edns: boolean): Buffer {
  return Buffer.from(
    dnsPacket.encode({
      type: 'query',
      id: 7,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name, class: 'IN' }],
      additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
    }),
  );
}

/** Median microseconds per call over ROUNDS rounds of n calls, after a warm-up. */
function time(label: string, n: number, fn: () => void): void {
  for (let i = 0; i < Math.min(n, 5_000); i++) fn();
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    rounds.push(((performance.now() - t0) * 1000) / n);
  }
  rounds.sort((a, b) => a - b);
  process.stdout.write(`${label.padEnd(52)} ${rounds[ROUNDS >> 1]!.toFixed(2).padStart(9)} us\n`);
}

/** n records on one network: n - 4 tasks of web (one VIP), 4 of another service, as a swarm's table holds them. */
function view(n: number): ServiceRecords {
  const recs = new ServiceRecords({ networkIdOf: (name) => (name === 'benchnet' ? NET : undefined) });
  for (let i = 0; i < n; i++) {
    const ip = `10.0.${i >> 8}.${(i & 255) + 2}`;
    recs.publish(NET, `ep${String(i).padStart(4, '0')}`, i < n - 4 ? { name: `web.${i}.t${i}`, ip, service: 'web', vip: '10.0.9.2' } : { name: `probe.${i}`, ip, service: 'probe', vip: '10.0.9.3' });
  }
  return recs;
}

const staticAnswer = query('web', false);
time('baseline: decode + encode one static A', 100_000, () => {
  const p = dnsPacket.decode(staticAnswer);
  dnsPacket.encode({ type: 'response', id: p.id, flags: 0x8580, questions: [p.questions![0]!], answers: [{ type: 'A', name: 'web', class: 'IN', ttl: 5, data: '192.0.2.1' }] });
});
const crypto = cryptoRand();
time('cryptoRand().int(50) (one draw of the shuffle)', 100_000, () => crypto.int(50));
const asker = { name: 'client', networks: [NET] };
for (const n of [7, 54, 500]) {
  const recs = view(n);
  const calls = n > 100 ? 2_000 : 20_000;
  const run = (name: string, edns: boolean, rand: Rand) => {
    const m = query(name, edns);
    return () => void answerMessage(m, 'udp', asker, recs, rand);
  };
  time(`${n} records: records() alone`, calls, () => void recs.records(NET));
  time(`${n} records: web`, calls, run('web', false, crypto));
  time(`${n} records: tasks.web, no EDNS (512 B)`, calls, run('tasks.web', false, crypto));
  time(`${n} records: tasks.web, EDNS 4096`, calls, run('tasks.web', true, crypto));
  time(`${n} records: tasks.web, EDNS 4096, seeded rand`, calls, run('tasks.web', true, seededRand(1)));
}
