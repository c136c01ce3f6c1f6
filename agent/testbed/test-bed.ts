// A test bed of real hosts on one machine: each host is a network namespace,
// wired by veth pairs to an underlay switch (a Linux bridge) that lives in its
// own namespace, so nothing at all is created in the root netns. Used by every
// end-to-end test and by `agent demo`. Names: see naming.ts.
//
//   <prefix>-sw:  <prefix>-br0 ─┬─ <prefix>-h0 ══ eth0 of <prefix>-h0 (192.0.2.10/24)
//                               ├─ <prefix>-h1 ══ eth0 of <prefix>-h1 (192.0.2.11/24)
//                               └─ ...
//                 <prefix>-br1 ── <prefix>-h<i>b ══ eth1 (198.51.100.(10+i)/24), with secondUnderlay
//
// Partitions and loss are nft rules in the switch (switch-rules.ts); delay and
// jitter are tc netem on the hosts' underlay interfaces.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type RunOptions, type RunResult } from '../host/run.js';
import { AgentProcess, type StartAgentOptions } from './agent-process.js';
import { BedProcess } from './bed-process.js';
import { registerLive, unregisterLive } from './cleanup.js';
import { listOurs, removePrefix, removePrefixSync } from './leftovers.js';
import { endPidsSync } from './processes.js';
import { IFNAME_MAX, UNDERLAY_PREFIX_LEN, UNDERLAYS, names, nextPrefix, validatePrefix } from './naming.js';
import { renderSwitchRules, type SwitchHost } from './switch-rules.js';

export const NEEDS_ROOT = 'the test bed needs root (network namespaces): run as root';

export interface CreateOptions {
  hosts: number;
  /** MTU of every host's underlay link(s); default 1400 (as on this machine's eth0). */
  mtu?: number;
  /** A second underlay (eth1, 198.51.100.0/24 on its own bridge), e.g. to separate control and data traffic. */
  secondUnderlay?: boolean;
  /** Default tb<pid36>-<n>; a custom prefix is never swept by sweepStale(). */
  prefix?: string;
  /** The effective uid, for testing the root check; default process.getuid(). */
  uid?: number;
}

export interface Host {
  readonly index: number;
  /** h0, h1, ... */
  readonly name: string;
  readonly netns: string;
  /** Address on eth0 (first underlay), without the /24. */
  readonly ip: string;
  /** Address on eth1 (second underlay), when the bed has one. */
  readonly ip2?: string;
  /** Current MTU of this host's underlay link(s). */
  mtu: number;
}

export interface Netem {
  delayMs?: number;
  jitterMs?: number;
  lossPct?: number;
}

const MAX_HOSTS = 64;
const DEFAULT_MTU = 1400;
// Agents get this long to exit on SIGTERM at destroy; other processes less.
const AGENT_STOP_GRACE_MS = 5_000;
const PROCESS_STOP_GRACE_MS = 2_000;
const EXIT_STOP_GRACE_MS = 2_000;

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name}: expected an integer from ${min} to ${max}, got ${v}`);
}

function checkRange(name: string, v: number | undefined, min: number, max: number): void {
  if (v !== undefined && !(Number.isFinite(v) && v >= min && v <= max)) throw new Error(`${name}: expected a number from ${min} to ${max}, got ${v}`);
}

let netemProbe: Promise<boolean> | undefined;

export class TestBed {
  readonly prefix: string;
  /** Temp dir of this bed: per-agent dirs, process logs. */
  readonly dir: string;
  readonly hosts: readonly Host[];
  readonly underlays: number;
  private readonly switchNetns: string;
  private readonly procs = new Set<BedProcess>();
  private readonly agents = new Set<AgentProcess>();
  private readonly blocked = new Map<number, Set<number>>();
  private readonly lossPct = new Map<number, number>();
  private readonly delayed = new Set<number>();
  private logCount = 0;
  private destroying: Promise<void> | undefined;

  private constructor(prefix: string, dir: string, hostCount: number, underlays: number, mtu: number) {
    this.prefix = prefix;
    this.dir = dir;
    this.underlays = underlays;
    this.switchNetns = names.switchNetns(prefix);
    this.hosts = Array.from({ length: hostCount }, (_, i) => ({
      index: i,
      name: names.hostName(i),
      netns: names.hostNetns(prefix, i),
      ip: UNDERLAYS[0].addr(i),
      ...(underlays > 1 ? { ip2: UNDERLAYS[1].addr(i) } : {}),
      mtu,
    }));
  }

  static async create(opts: CreateOptions): Promise<TestBed> {
    const uid = opts.uid ?? process.getuid?.();
    if (uid !== 0) throw new Error(NEEDS_ROOT);
    checkInt('hosts', opts.hosts, 1, MAX_HOSTS);
    const mtu = opts.mtu ?? DEFAULT_MTU;
    checkInt('mtu', mtu, 68, 65_535);
    if (opts.prefix !== undefined) validatePrefix(opts.prefix);
    const prefix = opts.prefix ?? nextPrefix();
    const underlays = opts.secondUnderlay === true ? 2 : 1;
    const longest = names.port(prefix, opts.hosts - 1, underlays - 1);
    if (longest.length > IFNAME_MAX) throw new Error(`prefix: link name ${longest} would exceed ${IFNAME_MAX} characters; use a shorter prefix`);
    // Never adopt (and later delete) what someone else made under this prefix.
    const existing = await listOurs(prefix);
    if (existing.netns.length > 0) throw new Error(`prefix: ${prefix} is in use (netns ${existing.netns.join(', ')})`);
    const dir = mkdtempSync(join(tmpdir(), `${prefix}.`));
    const bed = new TestBed(prefix, dir, opts.hosts, underlays, mtu);
    registerLive(bed);
    try {
      await bed.build(mtu);
    } catch (e) {
      await bed.destroy();
      throw e;
    }
    return bed;
  }

  private async build(mtu: number): Promise<void> {
    const sw = this.switchNetns;
    await run(['ip', 'netns', 'add', sw]);
    await run(['ip', '-n', sw, 'link', 'set', 'lo', 'up']);
    for (let u = 0; u < this.underlays; u++) {
      await run(['ip', '-n', sw, 'link', 'add', names.bridge(this.prefix, u), 'type', 'bridge']);
      await run(['ip', '-n', sw, 'link', 'set', names.bridge(this.prefix, u), 'up']);
    }
    await Promise.all(this.hosts.map((h) => this.buildHost(h, mtu)));
  }

  private async buildHost(h: Host, mtu: number): Promise<void> {
    const sw = this.switchNetns;
    await run(['ip', 'netns', 'add', h.netns]);
    await run(['ip', '-n', h.netns, 'link', 'set', 'lo', 'up']);
    for (let u = 0; u < this.underlays; u++) {
      const port = names.port(this.prefix, h.index, u);
      const hostIf = names.hostIf(u);
      // Created inside the switch netns with the peer placed straight into the host netns: never in the root netns.
      await run(['ip', '-n', sw, 'link', 'add', port, 'mtu', `${mtu}`, 'type', 'veth', 'peer', 'name', hostIf, 'mtu', `${mtu}`, 'netns', h.netns]);
      await run(['ip', '-n', sw, 'link', 'set', port, 'master', names.bridge(this.prefix, u), 'up']);
      await run(['ip', '-n', h.netns, 'addr', 'add', `${this.addrOf(h, u)}/${UNDERLAY_PREFIX_LEN}`, 'dev', hostIf]);
      await run(['ip', '-n', h.netns, 'link', 'set', hostIf, 'up']);
    }
  }

  private addrOf(h: Host, underlay: number): string {
    return underlay === 0 ? h.ip : (h.ip2 ?? '');
  }

  private host(h: Host): Host {
    const mine = this.hosts[h.index];
    if (mine !== h) throw new Error(`host: expected a host of bed ${this.prefix}, got ${h.name} (${h.netns})`);
    if (this.destroying !== undefined) throw new Error(`bed ${this.prefix} is destroyed`);
    return mine;
  }

  /** Runs argv to completion inside the host's netns (rejects on failure unless allowFail). */
  exec(h: Host, argv: readonly string[], opts: Omit<RunOptions, 'netns'> = {}): Promise<RunResult> {
    return run(argv, { ...opts, netns: this.host(h).netns });
  }

  /** Starts a long-running process inside the host's netns; destroy() ends it if nobody else does. */
  spawn(h: Host, argv: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): BedProcess {
    const host = this.host(h);
    const logPath = join(this.dir, `${host.name}-p${this.logCount++}.log`);
    const p = BedProcess.start(argv, { netns: host.netns, logPath, env: opts.env });
    this.procs.add(p);
    void p.exited.then(() => this.procs.delete(p));
    return p;
  }

  /**
   * Starts `agentCmd daemon --host unix://<dir>/agent.sock --state-dir <dir>/state
   * --name-prefix <prefix>-<id> ...args` in the host's netns, stdout and stderr to
   * <dir>/daemon.log, and resolves once GET /_ping answers. <dir> is <bed dir>/<id>
   * and survives stop(), so starting the same id again is a restart with its state.
   */
  async startAgent(h: Host, opts: StartAgentOptions): Promise<AgentProcess> {
    const host = this.host(h);
    const id = opts.id ?? host.name;
    if (!/^[a-z0-9][a-z0-9-]{0,15}$/.test(id)) throw new Error(`id: expected 1-16 of [a-z0-9-], got ${JSON.stringify(id)}`);
    for (const a of this.agents) if (a.dir === join(this.dir, id)) throw new Error(`agent ${id} is already running (pid ${a.pid})`);
    const agent = await AgentProcess.start({ host, dir: join(this.dir, id), namePrefix: `${this.prefix}-${id}` }, opts);
    this.agents.add(agent);
    void agent.exited.then(() => this.agents.delete(agent));
    return agent;
  }

  /** Sets the MTU of both ends of each of the host's underlay links, like a NIC and its switch port. */
  async setMtu(h: Host, mtu: number): Promise<void> {
    const host = this.host(h);
    checkInt('mtu', mtu, 68, 65_535);
    for (let u = 0; u < this.underlays; u++) {
      await run(['ip', '-n', this.switchNetns, 'link', 'set', names.port(this.prefix, host.index, u), 'mtu', `${mtu}`]);
      await run(['ip', '-n', host.netns, 'link', 'set', names.hostIf(u), 'mtu', `${mtu}`]);
    }
    host.mtu = mtu;
  }

  /** Whether this kernel has sch_netem (delay, jitter); loss works without it. */
  netemAvailable(): Promise<boolean> {
    netemProbe ??= run(['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { netns: this.switchNetns, allowFail: true }).then(
      async (r) => {
        if (r.code === 0) await run(['tc', 'qdisc', 'del', 'dev', 'lo', 'root'], { netns: this.switchNetns, allowFail: true });
        return r.code === 0;
      },
    );
    return netemProbe;
  }

  /**
   * Impairs what the host sends on its underlay(s): delay and jitter with tc
   * netem on its interfaces' egress, loss by dropping its frames at the switch.
   * A round trip through one impaired host grows by delayMs. null clears all.
   */
  async netem(h: Host, n: Netem | null): Promise<void> {
    const host = this.host(h);
    checkRange('delayMs', n?.delayMs, 0, 60_000);
    checkRange('jitterMs', n?.jitterMs, 0, 60_000);
    checkRange('lossPct', n?.lossPct, 0, 100);
    const delayMs = n?.delayMs ?? 0;
    const jitterMs = n?.jitterMs ?? 0;
    if (delayMs > 0 || jitterMs > 0) {
      if (!(await this.netemAvailable())) {
        throw new Error('netem: delay and jitter need the kernel qdisc sch_netem (CONFIG_NET_SCH_NETEM), which this kernel lacks');
      }
      for (let u = 0; u < this.underlays; u++) {
        await run(['tc', 'qdisc', 'replace', 'dev', names.hostIf(u), 'root', 'netem', 'delay', `${delayMs}ms`, `${jitterMs}ms`], { netns: host.netns });
      }
      this.delayed.add(host.index);
    } else if (this.delayed.delete(host.index)) {
      for (let u = 0; u < this.underlays; u++) await run(['tc', 'qdisc', 'del', 'dev', names.hostIf(u), 'root'], { netns: host.netns, allowFail: true });
    }
    const loss = n?.lossPct ?? 0;
    const hadLoss = this.lossPct.has(host.index);
    if (loss > 0) this.lossPct.set(host.index, loss);
    else this.lossPct.delete(host.index);
    if (loss > 0 || hadLoss) await this.applySwitchRules();
  }

  /** Drops everything `from` sends to any address of `to`, on every underlay (one-way). */
  async block(from: Host, to: Host): Promise<void> {
    const f = this.host(from);
    const t = this.host(to);
    if (f === t) throw new Error(`block: a host cannot be cut from itself (${f.name})`);
    const tos = this.blocked.get(f.index) ?? new Set<number>();
    tos.add(t.index);
    this.blocked.set(f.index, tos);
    await this.applySwitchRules();
  }

  /** Cuts every host of a from every host of b, both ways; traffic within each side and with others flows. */
  async partition(a: readonly Host[], b: readonly Host[]): Promise<void> {
    for (const x of a) {
      for (const y of b) {
        if (this.host(x) === this.host(y)) throw new Error(`partition: ${x.name} is on both sides`);
        for (const [f, t] of [
          [x, y],
          [y, x],
        ] as const) {
          const tos = this.blocked.get(f.index) ?? new Set<number>();
          tos.add(t.index);
          this.blocked.set(f.index, tos);
        }
      }
    }
    await this.applySwitchRules();
  }

  /** Lifts every block and partition (loss set by netem stays). */
  async heal(): Promise<void> {
    if (this.blocked.size === 0) return;
    this.blocked.clear();
    await this.applySwitchRules();
  }

  private async applySwitchRules(): Promise<void> {
    const hosts: SwitchHost[] = this.hosts.map((h) => ({
      ports: Array.from({ length: this.underlays }, (_, u) => names.port(this.prefix, h.index, u)),
      addrs: Array.from({ length: this.underlays }, (_, u) => this.addrOf(h, u)),
    }));
    const script = renderSwitchRules(hosts, { blocked: this.blocked, lossPct: this.lossPct });
    await run(['nft', '-f', '-'], { netns: this.switchNetns, input: script });
  }

  /**
   * Stops every agent (SIGTERM, then SIGKILL after 5 s) and process it started,
   * ends anything else still inside its namespaces, deletes every netns and
   * link carrying its prefix, removes its temp dir. Idempotent.
   */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      try {
        await Promise.all([...this.agents].map((a) => a.stop(AGENT_STOP_GRACE_MS)));
        await Promise.all([...this.procs].map((p) => p.stop(PROCESS_STOP_GRACE_MS)));
        await removePrefix(this.prefix);
        rmSync(this.dir, { recursive: true, force: true });
      } finally {
        unregisterLive(this);
      }
    })();
    return this.destroying;
  }

  /** destroy() for exit time: synchronous, shorter grace. */
  destroySync(): void {
    try {
      endPidsSync([...this.agents, ...this.procs].filter((p) => p.running).map((p) => p.pid), EXIT_STOP_GRACE_MS);
      removePrefixSync(this.prefix);
      rmSync(this.dir, { recursive: true, force: true });
    } finally {
      unregisterLive(this);
    }
  }
}
