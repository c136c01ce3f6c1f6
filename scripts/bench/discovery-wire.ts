// What the programs `npm run bench:discovery` starts inside the test bed
// share (discovery-dnsperf.ts, discovery-probe.ts, discovery-responder.ts):
// their flags and output (program-args.ts, re-exported here), the DNS header
// fields they read without decoding a whole message, the query they send,
// and the resolver a task's /etc/resolv.conf names. Each program is its own
// bundle; this file is inlined into each.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import dnsPacket from 'dns-packet';

export { line, parseFlags, percentile, type FlagKind } from './program-args.js';

// RFC 1035 §4.1.1, the 12-byte header (big-endian): ID at 0, flags at 2
// (QR 0x8000, TC 0x0200, RCODE the low 4 bits), then QDCOUNT, ANCOUNT,
// NSCOUNT, ARCOUNT at 4, 6, 8, 10.
export const HEADER_BYTES = 12;
export const ID_OFFSET = 0;
export const FLAGS_OFFSET = 2;
export const ANCOUNT_OFFSET = 6;
export const FLAG_QR = 0x8000;
export const FLAG_TC = 0x0200;
export const RCODE_MASK = 0xf;
/** RFC 6891 §6.2.5: the payload size the probe advertises, so 50 A records (~850 bytes) come over UDP untruncated. */
export const EDNS_PAYLOAD_BYTES = 4096;
export const DNS_PORT = 53;

/** An A query for name (RD set) under id 0; with edns, an OPT record advertising EDNS_PAYLOAD_BYTES. */
export function aQuery(name: string, edns: boolean): Buffer {
  return Buffer.from(
    dnsPacket.encode({
      type: 'query',
      id: 0,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name, class: 'IN' }],
      additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_PAYLOAD_BYTES, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
    }),
  );
}

/** The first nameserver of /etc/resolv.conf: inside a task, the agent's resolver (`ip netns exec` mounts the task's file there). */
export function resolvConfServer(path = '/etc/resolv.conf'): string {
  const text = readFileSync(path, 'utf8');
  const m = /^\s*nameserver\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$/m.exec(text);
  if (m === null) throw new Error(`${path}: no IPv4 nameserver line in ${JSON.stringify(text.slice(0, 200))}`);
  return m[1]!;
}
