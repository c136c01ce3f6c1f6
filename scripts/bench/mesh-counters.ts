// The kernel's counters `npm run bench:mesh` reads around every load run:
// TCP in the client's netns and in each task's, UDP in each host's (the
// agents' sockets). What explains a slow request or a failed one: a SYN
// retransmitted after the 1 s initial RTO, a full accept queue, a SYN that
// met a TIME_WAIT it could not reopen, a frame the overlay dropped. Every
// netns has its own counters; they are read with `cat` inside it.
import { parseSnmpSection } from './datapath-measure.js';

export type Counters = Record<string, number>;

/**
 * TCP counters that stay 0 on a clean run, or explain why one is not; any
 * that moves is in the report. Names as in /proc/net/snmp (Tcp) and
 * /proc/net/netstat (TcpExt). RetransSegs counts tail-loss probes too
 * (TCPLossProbes): on a busy VM an ACK late by a few ms sends one.
 */
export const TCP_COUNTERS = [
  'TCPSynRetrans',
  'RetransSegs',
  'TCPTimeouts',
  'TCPLossProbes',
  'TCPLossProbeRecovery',
  'TCPSpuriousRTOs',
  'TCPDSACKRecv',
  'AttemptFails',
  'EstabResets',
  'InErrs',
  'OutRsts',
  'ListenOverflows',
  'ListenDrops',
  'PAWSActive',
  'PAWSEstab',
  'TCPChallengeACK',
  'TCPACKSkippedTimeWait',
  'TCPTimeWaitOverflow',
  'TCPAbortOnData',
  'TCPAbortOnClose',
  'TCPAbortFailed',
  'TCPBacklogDrop',
  'TCPReqQFullDrop',
] as const;

/** UDP drops in a host's netns: the agent's underlay and pipe sockets (the overlay's frames); reported as Udp<name>. */
export const UDP_COUNTERS = ['RcvbufErrors', 'SndbufErrors', 'InErrors'] as const;

/** The command that prints what parseCounters reads. */
export const COUNTERS_ARGV = ['cat', '/proc/net/snmp', '/proc/net/netstat'] as const;

/** TCP_COUNTERS from /proc/net/snmp's Tcp section and /proc/net/netstat's TcpExt section, or UDP_COUNTERS from the Udp section. */
export function parseCounters(text: string, kind: 'tcp' | 'udp'): Counters {
  const out: Counters = {};
  if (kind === 'udp') {
    const udp = parseSnmpSection(text, 'Udp');
    for (const k of UDP_COUNTERS) {
      const v = udp.get(k);
      if (v !== undefined && Number.isFinite(v)) out[`Udp${k}`] = v;
    }
    return out;
  }
  const tcp = parseSnmpSection(text, 'Tcp');
  const ext = parseSnmpSection(text, 'TcpExt');
  for (const k of TCP_COUNTERS) {
    const v = tcp.get(k) ?? ext.get(k);
    if (v !== undefined && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/** after - before, only the counters that moved. */
export function delta(before: Counters, after: Counters): Counters {
  const out: Counters = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** Sum of several netns' deltas (the tasks'). */
export function sum(cs: readonly Counters[]): Counters {
  const out: Counters = {};
  for (const c of cs) for (const [k, v] of Object.entries(c)) out[k] = (out[k] ?? 0) + v;
  return out;
}

export const show = (c: Counters): string =>
  Object.entries(c)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
