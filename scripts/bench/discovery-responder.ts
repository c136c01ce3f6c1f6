// The baseline of `npm run bench:discovery`'s DNS test: the smallest Node DNS
// server that does the agent's resolver's job per query, one UDP socket,
// every query decoded with dns-packet and answered with one static A record
// (the question echoed, AA and RA set, TTL 5 s as the agent's), encoded with
// dns-packet. No asker lookup, no records, no EDNS, no TCP. Whatever the
// agent's resolver costs on top of this is its own (records, the asker's
// networks, the exact-echo check, counters).
//
//   node discovery-responder.mjs --address IP --port N [--answer IP] [--max-seconds 300]
//
// Started by the bench inside the host's netns on the gwbridge gateway (the
// agent's resolver's address) at another port, so a task's query crosses the
// same veth and bridge to reach it. Prints one JSON line once bound; exits
// after --max-seconds, or on SIGTERM with its counters.
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { line, parseFlags } from './discovery-wire.js';

/** The agent's DNS_TTL_S (agent/discovery/dns-answer.ts). */
const TTL_S = 5;
const FLAG_AA = 0x0400;

const SPEC = { address: 'ipv4', port: 'int', answer: 'ipv4', 'max-seconds': 'int' } as const;

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2), SPEC, { answer: '192.0.2.1', 'max-seconds': 300 });
  const port = Number(f.port);
  if (port < 1 || port > 65_535) throw new Error(`--port: expected 1 to 65535, got ${port}`);
  const answer = String(f.answer);
  const sock = createSocket('udp4');
  const n = { queries: 0, answered: 0, undecodable: 0 };
  sock.on('message', (msg, rinfo) => {
    n.queries++;
    let q;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      n.undecodable++;
      return;
    }
    const question = q.questions?.[0];
    if (question === undefined) return void n.undecodable++;
    const reply = dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | FLAG_AA,
      questions: [question],
      answers: [{ type: 'A', name: question.name, class: 'IN', ttl: TTL_S, data: answer }],
    });
    n.answered++;
    sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: String(f.address), port, exclusive: true }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  line({ ready: true, address: String(f.address), port });
  const finish = (why: string): void => {
    line({ exit: why, ...n });
    process.exit(0);
  };
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => finish(sig));
  setTimeout(() => finish(`max-seconds ${String(f['max-seconds'])}`), Number(f['max-seconds']) * 1000);
}

try {
  await main();
} catch (e) {
  process.stderr.write(`discovery-responder: ${(e as Error).message}\n`);
  process.exit(2);
}
