// The three reference paths of `npm run bench:datapath`, each built in its
// own two-host test bed (so nothing of one path, e.g. a socket on 4789, can
// touch the next). Every extra netns is named <bed prefix>-..., so the bed's
// destroy() removes it with everything inside.
//
//   (a) direct:  h0 ══ veth (underlay MTU) ══ h1
//   (b) kernel:  ep0 ─ veth ─ br (h0) ─ vxlan 42 ─ eth0 ══ switch ══ eth0 ─ vxlan 42 ─ br (h1) ─ veth ─ ep1
//   (c) relay:   ep0 ─ veth ─ br0 ─ vx0 (sandbox) ─ pipe ─ relay (h0, udp 4789) ─ eth0 ══ switch ══ h1 likewise
//   (e) aes relay: (c) with the relay sealing/opening every frame (message 4 of DESIGN.md §4), MTU - 32
import { readFileSync } from 'node:fs';
import { run } from '../../agent/host/run.js';
import type { BedProcess, Host, TestBed } from '../../agent/testbed/index.js';
import type { Pair } from './datapath-measure.js';

export interface PathSetup {
  pair: Pair;
  /** Namespaces whose UDP counters (RcvbufErrors) show drops at the path's own sockets. */
  countersNetns: string[];
  /** Called before the bed is destroyed: stops what the path started, returns lines for the report. */
  finish(): Promise<string[]>;
}

// RFC 7348 §5: the IANA port; both overlay designs use it.
export const VXLAN_PORT = 4789;
const VNI = '42';
// Outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14 (RFC 7348 §5).
export const VXLAN_OVERHEAD_BYTES = 50;
// Message 4's 16-byte header and 16-byte tag (DESIGN.md §4): the encrypted overlay MTU shrinks by this.
export const SECURE_OVERHEAD_BYTES = 32;
// Path (e)'s relays share one fixed AES-256 key: the bench measures the crypto, not key agreement.
const AES_RELAY_KEY = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
// The agent's pipe is a link-local /30 (DESIGN.md §3): .1 the agent (here the relay), .2 the sandbox.
const PIPE_HOST = '169.254.77.1';
const PIPE_SANDBOX = '169.254.77.2';
const PIPE_PREFIX_LEN = 30;
const DIRECT_NET = '10.41.0.';
const KERNEL_NET = '10.42.0.';
const RELAY_NET = '10.43.0.';
const AES_RELAY_NET = '10.45.0.';
const ENDPOINT_PREFIX_LEN = 24;
const RELAY_READY_MS = 10_000;
const STOP_GRACE_MS = 2_000;

const endpointIp = (net: string, h: Host) => `${net}${h.index + 1}`;
const inNetns = (netns: string, argv: readonly string[]) => ['ip', 'netns', 'exec', netns, ...argv];

/** (a) A veth straight from h0 to h1, at the underlay's MTU: the machine's own packet cost. */
export async function directPath(bed: TestBed): Promise<PathSetup> {
  const [h0, h1] = [bed.hosts[0]!, bed.hosts[1]!];
  const mtu = String(h0.mtu);
  await bed.exec(h0, ['ip', 'link', 'add', 'direct', 'mtu', mtu, 'type', 'veth', 'peer', 'name', 'direct', 'netns', h1.netns, 'mtu', mtu]);
  for (const h of [h0, h1]) {
    await bed.exec(h, ['ip', 'addr', 'add', `${endpointIp(DIRECT_NET, h)}/${ENDPOINT_PREFIX_LEN}`, 'dev', 'direct']);
    await bed.exec(h, ['ip', 'link', 'set', 'direct', 'up']);
  }
  return {
    pair: {
      serverIp: endpointIp(DIRECT_NET, h1),
      client: (argv, timeoutMs) => bed.exec(h0, argv, { timeoutMs, allowFail: true }),
      serve: (argv) => bed.spawn(h1, argv),
    },
    countersNetns: [h0.netns, h1.netns],
    finish: async () => [],
  };
}

/** An endpoint netns <prefix>-<tag><i> with eth0 (MTU mtu) whose other end, `peerIf`, is left in `into`. */
async function endpoint(bed: TestBed, h: Host, tag: string, into: string, peerIf: string, net: string, mtu: number): Promise<string> {
  const ns = `${bed.prefix}-${tag}${h.index}`;
  await run(['ip', 'netns', 'add', ns]);
  await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  await run(['ip', '-n', ns, 'link', 'add', 'eth0', 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', peerIf, 'netns', into, 'mtu', String(mtu)]);
  await run(['ip', '-n', ns, 'addr', 'add', `${endpointIp(net, h)}/${ENDPOINT_PREFIX_LEN}`, 'dev', 'eth0']);
  await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
  return ns;
}

function endpointPair(bed: TestBed, clientNs: string, serverHost: Host, serverNs: string, serverIp: string): Pair {
  return {
    serverIp,
    client: (argv, timeoutMs) => run(argv, { netns: clientNs, timeoutMs, allowFail: true }),
    // Spawned through the host so the bed tracks (and ends) it; `ip netns exec` execs, the pid stays the program's.
    serve: (argv) => bed.spawn(serverHost, inNetns(serverNs, argv)),
  };
}

/** (b) Plain kernel VXLAN in each host, an endpoint on a bridge with it. */
export async function kernelVxlanPath(bed: TestBed): Promise<PathSetup> {
  const [h0, h1] = [bed.hosts[0]!, bed.hosts[1]!];
  const eps: string[] = [];
  for (const [h, peer] of [
    [h0, h1],
    [h1, h0],
  ] as const) {
    const mtu = h.mtu - VXLAN_OVERHEAD_BYTES;
    const x = (argv: string[]) => bed.exec(h, argv);
    await x(['ip', 'link', 'add', 'vxb', 'mtu', String(mtu), 'type', 'vxlan', 'id', VNI, 'local', h.ip, 'remote', peer.ip, 'dstport', String(VXLAN_PORT), 'dev', 'eth0']);
    await x(['ip', 'link', 'add', 'brb', 'type', 'bridge']);
    await x(['ip', 'link', 'set', 'vxb', 'master', 'brb', 'up']);
    eps.push(await endpoint(bed, h, 'b', h.netns, 'epb', KERNEL_NET, mtu));
    await x(['ip', 'link', 'set', 'epb', 'master', 'brb', 'up']);
    await x(['ip', 'link', 'set', 'brb', 'up']);
  }
  return {
    pair: endpointPair(bed, eps[0]!, h1, eps[1]!, endpointIp(KERNEL_NET, h1)),
    countersNetns: [h0.netns, h1.netns],
    finish: async () => [],
  };
}

interface RelayStart {
  requestedBytes: number;
  pipe: { rcvbuf: number; sndbuf: number };
  wire: { rcvbuf: number; sndbuf: number };
}

interface RelayExit {
  pipeToWire: number;
  wireToPipe: number;
  sendErrors: number;
  /** Path (e): datagrams from the wire that were not a message 4 or did not verify. */
  openFailures?: number;
}

function jsonLines(path: string): Record<string, unknown>[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}

async function relayReady(p: BedProcess, host: string): Promise<RelayStart> {
  const end = performance.now() + RELAY_READY_MS;
  for (;;) {
    const ready = jsonLines(p.logPath).find((l) => l.ready === true);
    if (ready !== undefined) return ready as unknown as RelayStart;
    if (!p.running || performance.now() > end) {
      const log = readFileSync(p.logPath, 'utf8').trim().split('\n').slice(-3).join(' | ');
      throw new Error(`relay on ${host} ${p.running ? `not ready within ${RELAY_READY_MS} ms` : 'exited'}: ${log || '(no output)'}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RelayOptions {
  /** The bundled datapath-relay.ts. */
  script: string;
  bufBytes: number;
  maxSeconds: number;
  /** Path (e): seal and open every frame with AES-256-GCM (a fixed key); the overlay MTU shrinks by 32. */
  sealed?: boolean;
}

/**
 * (c) The agent's pipe design with the minimal Node relay in place of the
 * agent; with relay.sealed, (e): the same relay sealing what it sends to the
 * wire and opening what it receives, endpoints at MTU - 50 - 32.
 */
export async function relayPath(bed: TestBed, relay: RelayOptions): Promise<PathSetup> {
  const [h0, h1] = [bed.hosts[0]!, bed.hosts[1]!];
  const sealed = relay.sealed === true;
  const tag = sealed ? 'e' : 'c';
  const net = sealed ? AES_RELAY_NET : RELAY_NET;
  const eps: string[] = [];
  const relays: { host: Host; proc: BedProcess; start: RelayStart }[] = [];
  for (const [h, peer] of [
    [h0, h1],
    [h1, h0],
  ] as const) {
    const mtu = h.mtu - VXLAN_OVERHEAD_BYTES - (sealed ? SECURE_OVERHEAD_BYTES : 0);
    const sb = `${bed.prefix}-${tag}${h.index}s`;
    const s = (argv: string[]) => run(['ip', '-n', sb, ...argv]);
    await run(['ip', 'netns', 'add', sb]);
    await s(['link', 'set', 'lo', 'up']);
    // The pipe carries whole VXLAN datagrams of inner frames up to the overlay MTU: the underlay's size.
    await bed.exec(h, ['ip', 'link', 'add', 'pipeh', 'mtu', String(h.mtu), 'type', 'veth', 'peer', 'name', 'pipe', 'netns', sb, 'mtu', String(h.mtu)]);
    await bed.exec(h, ['ip', 'addr', 'add', `${PIPE_HOST}/${PIPE_PREFIX_LEN}`, 'dev', 'pipeh']);
    await bed.exec(h, ['ip', 'link', 'set', 'pipeh', 'up']);
    await s(['addr', 'add', `${PIPE_SANDBOX}/${PIPE_PREFIX_LEN}`, 'dev', 'pipe']);
    await s(['link', 'set', 'pipe', 'up']);
    // DESIGN.md §3 gotcha: with TX checksum offload on, inner TCP checksums reach the relay "partial" and the far end drops every segment.
    await run(['ethtool', '-K', 'pipe', 'tx', 'off'], { netns: sb });
    await s(['link', 'add', 'br0', 'type', 'bridge']);
    await s(['link', 'add', 'vx0', 'mtu', String(mtu), 'type', 'vxlan', 'id', VNI, 'local', PIPE_SANDBOX, 'remote', PIPE_HOST, 'dstport', String(VXLAN_PORT), 'nolearning', 'dev', 'pipe']);
    await s(['link', 'set', 'vx0', 'master', 'br0', 'up']);
    eps.push(await endpoint(bed, h, tag, sb, 'ep', net, mtu));
    await s(['link', 'set', 'ep', 'master', 'br0', 'up']);
    await s(['link', 'set', 'br0', 'up']);
    const proc = bed.spawn(h, [
      process.execPath,
      relay.script,
      ...['--wire', h.ip, '--peer', peer.ip, '--pipe', PIPE_HOST, '--sandbox', PIPE_SANDBOX],
      ...['--port', String(VXLAN_PORT), '--buf-bytes', String(relay.bufBytes), '--max-seconds', String(relay.maxSeconds)],
      ...(sealed ? ['--aes-key', AES_RELAY_KEY] : []),
    ]);
    relays.push({ host: h, proc, start: await relayReady(proc, h.name) });
  }
  return {
    pair: endpointPair(bed, eps[0]!, h1, eps[1]!, endpointIp(net, h1)),
    countersNetns: [h0.netns, h1.netns],
    finish: async () => {
      const lines: string[] = [];
      for (const r of relays) {
        await r.proc.stop(STOP_GRACE_MS);
        const exit = jsonLines(r.proc.logPath).find((l) => l.exit !== undefined) as unknown as RelayExit | undefined;
        const { pipe, wire, requestedBytes } = r.start;
        lines.push(
          `${sealed ? 'aes relay' : 'relay'} ${r.host.name}: asked ${requestedBytes === 0 ? 'nothing (kernel default)' : `${requestedBytes} B`} per buffer; granted (getsockopt, the kernel doubles a request up to rmem_max/wmem_max) ` +
            `pipe rcv ${pipe.rcvbuf} snd ${pipe.sndbuf}, wire rcv ${wire.rcvbuf} snd ${wire.sndbuf}` +
            (exit === undefined
              ? ''
              : `; forwarded pipe->wire ${exit.pipeToWire}, wire->pipe ${exit.wireToPipe}, send errors ${exit.sendErrors}` +
                (sealed ? `, open failures ${exit.openFailures ?? 0}` : '')),
        );
      }
      return lines;
    },
  };
}
