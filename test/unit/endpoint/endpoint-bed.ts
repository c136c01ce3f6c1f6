// The test bed of the endpoint manager's tests (endpoint-manager.test.ts,
// endpoint-mesh.test.ts), without root: FakePlumbing models the host, a real
// DataPlane runs over in-memory datagram networks (the underlay, and this
// node's own 169.254.64.0/18 pipe space), the records file lives in
// memorySecretFiles, the processes are a fake ProcessRunner, and the
// managers are a fake SwarmSide with a small IPAM of its own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../shared/clock.js';
import { seededRand, type Rand } from '../../../shared/rand.js';
import { MemNet } from '../../../shared/transport/memnet.js';
import type { Addr, DatagramTransport } from '../../../shared/transport/types.js';
import type { AttachAnswer } from '../../../agent/api/types.js';
import { memorySecretFiles, type SecretFile } from '../../../agent/cluster/ca/secret-file.js';
import { createLogger } from '../../../agent/daemon/log.js';
import { DataPlane } from '../../../agent/datapath/data-plane.js';
import { FakePlumbing, type FakeLink } from '../../../agent/datapath/plumbing.js';
import { EndpointManager, GWBRIDGE, type PortClaims, type SwarmSide } from '../../../agent/endpoint/endpoint-manager.js';
import type { ProcessRunner, ProcessStatus, StartOptions } from '../../../agent/endpoint/endpoint-process.js';
import { ENDPOINTS_FILE, decodeEndpoints, type EndpointFile } from '../../../agent/endpoint/endpoint-state.js';
import { RemoteError } from '../../../agent/swarm/rpc.js';

export const quiet = createLogger({ level: 'error', format: 'text', write: () => {}, nowIso: () => '' });
export const PREFIX = 'tq';
export const VTEP = '10.0.0.1';
export const DATA_PORT = 4789;
export const UNDERLAY_MTU = 1400;

// ---- the managers: a fake SwarmSide with a dumb IPAM ----------------------------------------

export interface FakeNet {
  id: string;
  name: string;
  vni: number;
  /** 10.0.<octet>.0/24, gateway .1. */
  octet: number;
  attachable: boolean;
  mtu?: number;
  internal?: boolean;
}

export class FakeSwarm implements SwarmSide {
  membership: SwarmSide['membership'] = { nodeId: 'node1', vtep: VTEP, dataPathPort: DATA_PORT };
  readonly nets: FakeNet[] = [
    { id: 'net1aaaaaaaaaaaaaaaaaaaaa1', name: 'front', vni: 4097, octet: 1, attachable: true },
    { id: 'net2bbbbbbbbbbbbbbbbbbbbb2', name: 'back', vni: 4098, octet: 2, attachable: true, mtu: 1300 },
    { id: 'net3ccccccccccccccccccccc3', name: 'third', vni: 4099, octet: 3, attachable: true },
    { id: 'net4ddddddddddddddddddddd4', name: 'plain', vni: 4100, octet: 4, attachable: false },
    { id: 'net5eeeeeeeeeeeeeeeeeeeee5', name: 'vault', vni: 4101, octet: 5, attachable: true, internal: true },
  ];
  /** taskId -> network id -> address (CIDR). */
  readonly held = new Map<string, Map<string, string>>();
  readonly attaches: { taskId: string; name: string; network: string; ip?: string }[] = [];
  readonly detaches: { taskId: string; network?: string }[] = [];

  net(ref: string): FakeNet {
    const n = this.nets.find((x) => x.id === ref || x.name === ref);
    if (!n) throw new RemoteError('ENOTFOUND', `network ${ref} not found`);
    return n;
  }

  async attach(req: { taskId: string; name: string; network: string; ip?: string }): Promise<AttachAnswer> {
    this.attaches.push({ ...req });
    const n = this.net(req.network);
    if (!n.attachable) throw new RemoteError('EDENIED', `Could not attach to network ${req.network}: network ${n.name} not manually attachable`);
    let mine = this.held.get(req.taskId);
    let address = mine?.get(n.id);
    if (address === undefined) {
      const taken = new Set([...this.held.values()].map((m) => m.get(n.id)).filter((a) => a !== undefined));
      if (req.ip !== undefined) {
        address = `${req.ip}/24`;
        if (taken.has(address)) throw new RemoteError('ECONFLICT', `Address already in use: ${req.ip} on network ${n.name}`);
      } else {
        for (let h = 2; h < 255 && address === undefined; h++) if (!taken.has(`10.0.${n.octet}.${h}/24`)) address = `10.0.${n.octet}.${h}/24`;
      }
      if (!mine) this.held.set(req.taskId, (mine = new Map()));
      mine.set(n.id, address!);
    }
    return {
      NetworkID: n.id,
      Name: n.name,
      VNI: n.vni,
      Subnet: `10.0.${n.octet}.0/24`,
      Gateway: `10.0.${n.octet}.1`,
      Address: address!,
      ...(n.mtu !== undefined ? { MTU: n.mtu } : {}),
      Encrypted: false,
      Internal: n.internal === true,
    };
  }

  async detach(req: { taskId: string; network?: string }): Promise<void> {
    this.detaches.push({ ...req });
    const mine = this.held.get(req.taskId);
    if (!mine) return;
    if (req.network === undefined) mine.clear();
    else mine.delete(req.network);
    if (mine.size === 0) this.held.delete(req.taskId);
  }

  /** What the managers hold for a task, by network name. */
  holding(taskId: string): Record<string, string> {
    return Object.fromEntries([...(this.held.get(taskId) ?? [])].map(([nid, a]) => [this.net(nid).name, a]));
  }
}

// ---- processes -----------------------------------------------------------------------------

export class FakeProcesses implements ProcessRunner {
  readonly started: { netns: string; argv: readonly string[]; logPath: string; exitPath: string; pid: number }[] = [];
  readonly signals: { pid: number; sig: NodeJS.Signals }[] = [];
  readonly #state = new Map<number, ProcessStatus>();
  #next = 4000;
  failNext: string | undefined;
  /** How long a group takes to go after SIGKILL (0: at once). */
  dieAfterMs = 0;

  constructor(readonly clock: ManualClock) {}

  async start(o: StartOptions): Promise<number> {
    if (this.failNext !== undefined) {
      const m = this.failNext;
      this.failNext = undefined;
      throw new Error(m);
    }
    const pid = this.#next++;
    this.started.push({ ...o, argv: [...o.argv], pid });
    this.#state.set(pid, { running: true, exitCode: null });
    return pid;
  }

  status(pid: number): ProcessStatus {
    return { ...(this.#state.get(pid) ?? { running: false, exitCode: null }) };
  }

  signal(pid: number, sig: NodeJS.Signals): void {
    this.signals.push({ pid, sig });
    if (sig !== 'SIGKILL') return;
    const die = () => this.#state.set(pid, { running: false, exitCode: null });
    if (this.dieAfterMs === 0) die();
    else this.clock.after(this.dieAfterMs, die);
  }

  exit(pid: number, code: number): void {
    this.#state.set(pid, { running: false, exitCode: code });
  }
}

/** State dirs made by the tests; a suite removes them after itself (t.after(removeTempDirs)) even when a test failed half-way. */
const dirs: string[] = [];
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'agent-ep-test-'));
  dirs.push(d);
  return d;
}
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

// ---- one node --------------------------------------------------------------------------------

export class Node {
  readonly clock = new ManualClock();
  readonly rand: Rand;
  readonly plumbing = new FakePlumbing();
  readonly files = new Map<string, SecretFile>();
  readonly io = memorySecretFiles(this.files);
  readonly swarm = new FakeSwarm();
  readonly processes = new FakeProcesses(this.clock);
  readonly underlay: MemNet;
  /** This node's pipe addresses (169.254.64.0/18): survive a restart as the kernel's do. */
  readonly local: MemNet;
  readonly udp: DatagramTransport = { bind: (a: Addr) => (a.host.startsWith('169.254.') ? this.local : this.underlay).datagram(a.host).bind(a) };
  /** run() makes <stateDir>/endpoints on disk for the logs; the records file itself stays in memory. */
  readonly stateDir = tempDir();
  readonly mtuAsked: string[] = [];
  /** Service records published and withdrawn, in order. */
  readonly names: string[] = [];
  /** How many times the manager said its endpoints changed. */
  changes = 0;
  data!: DataPlane;
  m!: EndpointManager;

  /** seed: the node's randomness; ports: the published ports' holder (none: the manager holds no ports). */
  constructor(seed: number, readonly ports?: PortClaims) {
    this.rand = seededRand(seed);
    this.underlay = new MemNet({ clock: this.clock, rand: this.rand.fork() });
    this.local = new MemNet({ clock: this.clock, rand: this.rand.fork() });
  }

  /** A (new) agent process: a DataPlane and an EndpointManager over the same host, files and managers. */
  async boot(): Promise<void> {
    this.data = new DataPlane({ udp: this.udp, plumbing: this.plumbing, namePrefix: PREFIX, log: quiet });
    await this.data.start(VTEP, DATA_PORT);
    this.m = new EndpointManager({
      stateDir: this.stateDir,
      io: this.io,
      namePrefix: PREFIX,
      swarm: () => this.swarm,
      data: this.data,
      plumbing: this.plumbing,
      processes: this.processes,
      underlayMtu: async (vtep) => (this.mtuAsked.push(vtep), UNDERLAY_MTU),
      discovery: {
        publish: (nid, ep, r) => this.names.push(`+ ${nid.slice(0, 4)} ${ep.slice(0, 6)} ${r.name} ${r.ip}${r.service ? ` ${r.service}` : ''}${r.vip ? ` vip ${r.vip}` : ''}`),
        unpublish: (nid, ep) => this.names.push(`- ${nid.slice(0, 4)} ${ep.slice(0, 6)}`),
      },
      resolvConf: (gw) => `nameserver ${gw}\n`,
      onChange: () => void this.changes++,
      ...(this.ports !== undefined ? { ports: this.ports } : {}),
      clock: this.clock,
      rand: this.rand,
      log: quiet,
    });
  }

  /** The agent dies: its sockets go, the plumbing and the files stay. */
  async crash(): Promise<void> {
    await this.data.close();
  }

  async close(): Promise<void> {
    await this.data.close();
    rmSync(this.stateDir, { recursive: true, force: true });
  }

  run(name: string | undefined, networks: string[], ip?: string) {
    return this.m.run({ ...(name !== undefined ? { Name: name } : {}), Networks: networks, ...(ip !== undefined ? { IP: ip } : {}), Cmd: ['sleep', 'inf'] });
  }

  /** The records file as the next agent would read it. */
  file(): EndpointFile | undefined {
    const f = this.files.get(join(this.stateDir, ENDPOINTS_FILE));
    return f === undefined ? undefined : decodeEndpoints(f.bytes, 'endpoints.cbor');
  }

  link(netns: string, name: string): FakeLink | undefined {
    return this.plumbing.netns(netns)?.links.find((l) => l.name === name);
  }

  hostLink(name: string): FakeLink | undefined {
    return this.plumbing.host().links.find((l) => l.name === name);
  }

  /** The host's links besides lo and the gwbridge. */
  hostLinks(): string[] {
    return this.plumbing
      .host()
      .links.map((l) => l.name)
      .filter((l) => l !== 'lo' && l !== GWBRIDGE);
  }

  ops(): string[] {
    return this.plumbing.calls.map((c) => c.op);
  }
}

/** A node whose agent runs and has loaded its records file. */
export async function node(seed: number, ports?: PortClaims): Promise<Node> {
  const n = new Node(seed, ports);
  await n.boot();
  n.m.load();
  return n;
}

export async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure, got success');
}
