// What the programs `npm run bench:discovery` starts inside the test bed
// share (discovery-dnsperf.ts, discovery-probe.ts, discovery-responder.ts):
// their flags, the DNS header fields they read without decoding a whole
// message, the query they send, and the resolver a task's /etc/resolv.conf
// names. Each program is its own bundle; this file is inlined into each.
import { Buffer } from 'node:buffer';
import { readFileSync, writeSync } from 'node:fs';
import dnsPacket from 'dns-packet';

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

/** One line of JSON on stdout, written synchronously (the program may exit right after). */
export const line = (o: object): void => void writeSync(1, `${JSON.stringify(o)}\n`);

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

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export type FlagKind = 'int' | 'ipv4' | 'name' | 'bool';

/**
 * `--key value` pairs (a bool flag takes no value) against spec: every key
 * known, every value of its kind, every key without a default given. Throws
 * one line naming the flag, what was expected and what came.
 */
export function parseFlags<S extends Record<string, FlagKind>>(
  argv: readonly string[],
  spec: S,
  defaults: Partial<Record<keyof S, string | number | boolean>>,
): Record<keyof S, string | number | boolean> {
  const out: Partial<Record<keyof S, string | number | boolean>> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const key = flag.replace(/^--/, '');
    const kind = spec[key];
    if (!flag.startsWith('--') || kind === undefined) throw new Error(`unknown argument ${flag}; expected one of ${Object.keys(spec).map((k) => `--${k}`).join(', ')}`);
    if (kind === 'bool') {
      out[key as keyof S] = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${flag}: expected a value`);
    if (kind === 'int') {
      const n = Number(v);
      if (!Number.isSafeInteger(n)) throw new Error(`${flag}: expected an integer, got ${JSON.stringify(v)}`);
      out[key as keyof S] = n;
    } else if (kind === 'ipv4') {
      if (!IPV4.test(v)) throw new Error(`${flag}: expected an IPv4 address, got ${JSON.stringify(v)}`);
      out[key as keyof S] = v;
    } else {
      if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(v)) throw new Error(`${flag}: expected a DNS name, got ${JSON.stringify(v)}`);
      out[key as keyof S] = v;
    }
  }
  for (const key of Object.keys(spec)) if (out[key as keyof S] === undefined && spec[key] !== 'bool') throw new Error(`--${key}: required`);
  return out as Record<keyof S, string | number | boolean>;
}

/** Nearest-rank percentile of sorted values (q in 0..1); undefined for none. */
export function percentile(sorted: ArrayLike<number>, q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
