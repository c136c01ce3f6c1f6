// `npm run bench:datapath -- --profile`: reads the .cpuprofile that
// `node --cpu-prof` wrote for one agent daemon and answers where its time
// went during a window (the UDP test): self time per function, and per kind
// of work (crypto, dgram, the agent's own code, GC, idle).
//
// The format (Chrome DevTools Profiler.Profile): nodes {id, callFrame
// {functionName, url, lineNumber}, hitCount, children}; samples[i] is the id
// of the node on top of the stack at sample i, timeDeltas[i] the microseconds
// since the previous sample (the first since startTime). V8 stamps them with
// its monotonic clock, which on Linux is CLOCK_MONOTONIC in microseconds, as
// process.hrtime is (in nanoseconds): so a window taken with hrtime in this
// process selects the daemon's samples.
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  /** functionName (url basename:line), or V8's own "(garbage collector)", "(program)", "(idle)". */
  name: string;
  kind: Kind;
  us: number;
}

export type Kind = 'idle' | 'gc' | 'program' | 'crypto' | 'dgram' | 'agent' | 'node' | 'other';

export interface ProfileSummary {
  /** Whether the window selected samples; else the whole profile was used. */
  windowed: boolean;
  /** Microseconds covered by the counted samples. */
  totalUs: number;
  /** Of those, not "(idle)". */
  busyUs: number;
  samples: number;
  byFunction: SelfTime[];
  byKind: { kind: Kind; us: number }[];
}

const SPECIAL: Record<string, Kind> = { '(idle)': 'idle', '(garbage collector)': 'gc', '(program)': 'program', '(root)': 'program' };

/**
 * What a frame is. Native API callbacks (a Cipheriv's update(), a UDP
 * handle's send()) appear with an empty url: they are classified by their
 * parent's url (the JS that called them), which the caller passes.
 */
function kindOf(f: CallFrame, parentUrl: string): Kind {
  const special = SPECIAL[f.functionName];
  if (special !== undefined) return special;
  const url = f.url === '' ? parentUrl : f.url;
  if (/node:internal\/crypto|node:crypto/.test(url)) return 'crypto';
  if (/node:dgram|node:internal\/dgram|udp_wrap/.test(url)) return 'dgram';
  if (/agent\.mjs|\/agent\/|\/shared\//.test(url)) return 'agent';
  if (url.startsWith('node:')) return 'node';
  return 'other';
}

function where(f: CallFrame, parentUrl: string): string {
  const url = f.url === '' ? parentUrl : f.url;
  const base = url.replace(/^file:\/\//, '').split('/').at(-1) ?? url;
  const fn = f.functionName === '' ? '(anonymous)' : f.functionName;
  if (SPECIAL[f.functionName] !== undefined) return fn;
  if (f.url === '') return `${fn} [native, from ${base || '?'}]`;
  return `${fn} (${base}:${f.lineNumber + 1})`;
}

/** Self time per function and per kind over the samples whose time falls in [fromUs, toUs] (CLOCK_MONOTONIC microseconds). */
export function summarizeProfile(path: string, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parentUrl = new Map<number, string>();
  // Nearest ancestor with a url, for native frames.
  const walk = (id: number, url: string): void => {
    const stack: [number, string][] = [[id, url]];
    while (stack.length > 0) {
      const [nid, inherited] = stack.pop()!;
      const n = byId.get(nid);
      if (n === undefined) continue;
      parentUrl.set(nid, inherited);
      const mine = n.callFrame.url === '' ? inherited : n.callFrame.url;
      for (const c of n.children ?? []) stack.push([c, mine]);
    }
  };
  walk(p.nodes[0]!.id, '');
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  // Sample i stands for the time until sample i+1 (the last one: its own delta).
  const times: number[] = [];
  let t = p.startTime;
  for (let i = 0; i < samples.length; i++) times.push((t += deltas[i] ?? 0));
  const weight = (i: number) => Math.max(0, i + 1 < samples.length ? deltas[i + 1] ?? 0 : deltas[i] ?? 0);
  let windowed = false;
  let picked: number[] = samples.map((_, i) => i);
  if (window !== undefined) {
    const inside = picked.filter((i) => times[i]! >= window.fromUs && times[i]! <= window.toUs);
    if (inside.length > 0) {
      picked = inside;
      windowed = true;
    }
  }
  const selfUs = new Map<number, number>();
  for (const i of picked) selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + weight(i));
  const fns = new Map<string, SelfTime>();
  const kinds = new Map<Kind, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (n === undefined) continue;
    const pu = parentUrl.get(id) ?? '';
    const name = where(n.callFrame, pu);
    const kind = kindOf(n.callFrame, pu);
    const e = fns.get(name) ?? { name, kind, us: 0 };
    e.us += us;
    fns.set(name, e);
    kinds.set(kind, (kinds.get(kind) ?? 0) + us);
    totalUs += us;
  }
  const idle = kinds.get('idle') ?? 0;
  return {
    windowed,
    totalUs,
    busyUs: totalUs - idle,
    samples: picked.length,
    byFunction: [...fns.values()].sort((a, b) => b.us - a.us),
    byKind: [...kinds].map(([kind, us]) => ({ kind, us })).sort((a, b) => b.us - a.us),
  };
}

const KIND_LABEL: Record<Kind, string> = {
  idle: 'idle (waiting in epoll)',
  gc: 'garbage collector',
  program: '(program): native time not in a JS frame (libuv, syscalls, V8 itself)',
  crypto: 'node:crypto JS and its native calls (createCipheriv, update, final, getAuthTag)',
  dgram: 'node:dgram JS and its native calls (send, the message event)',
  agent: "the agent's code (forwarder, secure plane, data plane, control plane)",
  node: 'other node: internals (events, buffers, timers)',
  other: 'other',
};

/** The report's lines: top `top` functions by self time (share of all and of busy time) and the kinds. */
export function profileLines(s: ProfileSummary, top: number, packets: number): string[] {
  const pct = (us: number, of: number) => (of > 0 ? `${((100 * us) / of).toFixed(1)}%` : '-');
  const lines: string[] = [];
  lines.push(
    `profile: ${s.samples} samples over ${(s.totalUs / 1e6).toFixed(1)} s ${s.windowed ? 'of the UDP test' : '(the whole daemon life: the UDP window matched no sample)'}; busy ${pct(s.busyUs, s.totalUs)}` +
      (packets > 0 ? `; ${packets} datagrams sealed or opened by this daemon, ${(s.busyUs / packets).toFixed(1)} us busy per datagram` : ''),
  );
  lines.push('');
  const perPacket = (us: number) => (packets > 0 ? (us / packets).toFixed(2) : '-').padStart(7);
  lines.push(`${'self'.padStart(7)} ${'of busy'.padStart(8)} ${'us/pkt'.padStart(7)}  function`);
  for (const f of s.byFunction.filter((x) => x.kind !== 'idle').slice(0, top)) {
    lines.push(`${pct(f.us, s.totalUs).padStart(7)} ${pct(f.us, s.busyUs).padStart(8)} ${perPacket(f.us)}  ${f.name}  [${f.kind}]`);
  }
  lines.push('');
  lines.push('by kind of work:');
  for (const k of s.byKind) {
    const idle = k.kind === 'idle';
    lines.push(`${pct(k.us, s.totalUs).padStart(7)} ${idle ? ''.padStart(8) : pct(k.us, s.busyUs).padStart(8)} ${idle ? ''.padStart(7) : perPacket(k.us)}  ${KIND_LABEL[k.kind]}`);
  }
  return lines;
}
