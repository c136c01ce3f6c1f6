// `agent daemon`: the long-running process on every node. It owns the state
// dir, serves the local API, and runs the control plane (swarm-node.ts), the
// data plane (datapath/), the endpoints and tasks of this node (endpoint/),
// discovery: the service records, the DNS resolver and the VIP rules
// (discovery/), and the routing mesh: published ports on every node (mesh/);
// with --metrics-addr, Prometheus metrics read from all of them (metrics/).
import { mkdirSync, chmodSync, readFileSync } from 'node:fs';
import { hostname, platform, arch } from 'node:os';
import { ApiServer, Text } from '../api/server.js';
import { API_VERSION, type SystemInfo, type VersionInfo } from '../api/types.js';
import { VERSION, runtimeName } from '../version.js';
import type { Logger } from './log.js';
import { realClock } from '../../shared/clock.js';
import { cryptoRand } from '../../shared/rand.js';
import { tcpTransport } from '../../shared/transport/tcp.js';
import { udpTransport } from '../../shared/transport/udp.js';
import { lanConfig as swimLan } from '../gossip/swim/index.js';
import { lanConfig as networkDbLan } from '../gossip/networkdb/index.js';
import { diskSecretFiles } from '../cluster/ca/secret-file.js';
import { defaultRaftConfig, type RaftConfig } from '../cluster/raft/index.js';
import { nodeDisk } from '../cluster/wal/disk.js';
import { systemInterfaces } from '../swarm/addr.js';
import { SwarmNode } from '../swarm/swarm-node.js';
import { mountSwarmRoutes } from './swarm-routes.js';
import { mountDiagnosticRoutes } from './diagnostic-routes.js';
import { mountEndpointRoutes } from './endpoint-routes.js';
import { DataPlane } from '../datapath/data-plane.js';
import { HostPlumbing } from '../datapath/plumbing.js';
import { underlayMtu } from '../datapath/underlay-mtu.js';
import { EndpointManager, GWBRIDGE } from '../endpoint/endpoint-manager.js';
import { reachesOut } from '../endpoint/endpoint-wiring.js';
import { LocalNetworks, bridgeFlags } from '../network/local-networks.js';
import { mountNetworkRoutes } from './network-routes.js';
import { mountServiceRoutes } from './service-routes.js';
import { hostProcesses } from '../endpoint/endpoint-process.js';
import type { Timer } from '../../shared/clock.js';
import { SecureFollower } from '../datapath/secure/secure-follower.js';
import { RemoteError } from '../swarm/rpc.js';
import type { AssignedTask } from '../swarm/service-views.js';
import { TaskRunner } from '../endpoint/task-runner.js';
import { DnsServer } from '../discovery/dns-server.js';
import { ServiceRecords } from '../discovery/service-records.js';
import { DNS_PORT, parseResolvConf, resolvConfFor, type ResolvConf } from '../discovery/upstream.js';
import { hostNftRunner, VipBalancer } from '../discovery/vip-balancer.js';
import { taskLogs } from '../endpoint/task-logs.js';
import type { DatapathReport } from '../api/types.js';
import type { IngressAssignment } from '../swarm/service-views.js';
import { PortHolder } from '../mesh/port-holder.js';
import { RoutingMesh, meshSandbox } from '../mesh/routing-mesh.js';
import { oneLine } from '../../shared/errors.js';
import { MetricsServer } from '../metrics/metrics-server.js';
import { metricsCollector } from '../metrics/collect.js';
import type { MetricsAddr } from '../metrics/metrics-addr.js';

/** How often the daemon lines the data plane up with the swarm membership and the gossip plane. */
const SYNC_MS = 250;

/** How long the host's resolv.conf is trusted before it is read again. */
const RESOLV_RELOAD_MS = 5_000;

export interface DaemonOptions {
  socketPath: string;
  stateDir: string;
  /** Prefix of every netns and link this daemon creates, so several agents can share a machine. */
  namePrefix: string;
  log: Logger;
  /** Shown in `node ls` (default: the host's name). */
  hostname?: string;
  /** Raft timing (default swarmkit's: 1 s tick, 10 s election); tests shorten it. */
  raftConfig?: RaftConfig;
  /** Encrypted overlays re-handshake this often (default 120 s); tests shorten it. */
  rekeyMs?: number;
  /** The host's resolvers and search list, for names the built-in resolver forwards (default /etc/resolv.conf). */
  resolvConfPath?: string;
  /** Serve Prometheus metrics on this address (`--metrics-addr`, issue 11); none when absent. */
  metricsAddr?: MetricsAddr;
}

export class Daemon {
  readonly #opts: DaemonOptions;
  readonly #api = new ApiServer();
  readonly #swarm: SwarmNode;
  readonly #data: DataPlane;
  readonly #endpoints: EndpointManager;
  readonly #bridges: LocalNetworks;
  #syncTimer: Timer | undefined;
  #syncing: Promise<void> = Promise.resolve();
  #restored = false;
  #stopped = false;
  #dataError = '';
  readonly #tasks: TaskRunner;
  readonly #records: ServiceRecords;
  readonly #balancer: VipBalancer;
  /** The built-in resolver, on the gwbridge gateway once an endpoint made it (issue 9). */
  #dns: DnsServer | undefined;
  #dnsError = '';
  #resolv: { atMs: number; conf: ResolvConf } | undefined;
  /** The assignment's tasks, held until the endpoints of an earlier run are restored (undefined: not in a swarm). */
  #assignedTasks: AssignedTask[] | undefined;
  readonly #secure: SecureFollower;
  readonly #ports: PortHolder;
  readonly #mesh: RoutingMesh;
  /** The routing mesh as the assignment says (undefined: no ingress network, or not in a swarm). */
  #ingress: IngressAssignment | undefined;
  #ingressError = '';
  readonly #metrics: MetricsServer | undefined;

  constructor(opts: DaemonOptions) {
    this.#opts = opts;
    const clock = realClock();
    const plumbing = new HostPlumbing();
    this.#data = new DataPlane({ udp: udpTransport(), plumbing, namePrefix: opts.namePrefix, log: opts.log.with({ plane: 'data' }) });
    this.#secure = new SecureFollower({ data: this.#data, log: opts.log.with({ plane: 'data' }), ...(opts.rekeyMs ? { rekeyMs: opts.rekeyMs } : {}) });
    this.#bridges = new LocalNetworks({ stateDir: opts.stateDir, io: diskSecretFiles(), plumbing, rand: cryptoRand(), clock });
    const meshLog = opts.log.with({ plane: 'mesh' });
    this.#ports = new PortHolder({ log: meshLog });
    this.#mesh = new RoutingMesh({
      view: { records: (nid) => this.#records.records(nid), networkId: (name) => this.#records.networkId(name) },
      sandbox: () => meshSandbox(this.#endpoints.ingress),
      services: () => this.#ingress?.services ?? [],
      local: () => this.#endpoints.localPorts(),
      holder: this.#ports,
      run: hostNftRunner(),
      clock,
      log: meshLog,
    });
    this.#records = new ServiceRecords({
      networkIdOf: (name) => this.#endpoints.records.flatMap((r) => r.networks).find((n) => n.name === name)?.networkId,
      onChange: () => {
        this.#balancer.changed();
        this.#mesh.changed();
      },
    });
    this.#balancer = new VipBalancer({
      view: this.#records,
      endpoints: () => this.#endpoints.records.filter((r) => r.networks.length > 0).map((r) => ({ netns: r.netns, networks: r.networks.map((n) => n.networkId) })),
      run: hostNftRunner(),
      clock,
      log: opts.log.with({ plane: 'lb' }),
    });
    this.#endpoints = new EndpointManager({
      discovery: this.#records,
      resolvConf: (gateway) => resolvConfFor(gateway, this.#hostResolv().search),
      onChange: () => {
        this.#balancer.changed();
        this.#mesh.changed();
      },
      ports: this.#ports,
      gwbridge: () => {
        const b = this.#bridges.byName(GWBRIDGE);
        return b ? { device: b.device, ...bridgeFlags(b) } : undefined;
      },
      stateDir: opts.stateDir,
      io: diskSecretFiles(),
      namePrefix: opts.namePrefix,
      swarm: () => this.#swarm,
      data: this.#data,
      plumbing,
      processes: hostProcesses(),
      underlayMtu,
      clock,
      rand: cryptoRand(),
      log: opts.log.with({ plane: 'endpoints' }),
    });
    this.#swarm = new SwarmNode({
      stateDir: opts.stateDir,
      clock: realClock(),
      rand: cryptoRand(),
      transport: tcpTransport(),
      disk: nodeDisk(),
      io: diskSecretFiles(),
      ifaces: systemInterfaces,
      hostname: opts.hostname ?? hostname(),
      raftConfig: opts.raftConfig ?? defaultRaftConfig(),
      log: opts.log,
      udp: udpTransport(),
      // memberlist's 1,400-byte datagrams assume a 1,500-byte link; this fleet's underlays may be 1,400
      // (REFERENCE: this machine's NIC), so leave room for the IPv4 and UDP headers and never fragment.
      gossip: { swim: { ...swimLan(), udpPacketBytes: 1_372 }, networkDb: networkDbLan() },
      onAssignment: (a) => {
        this.#secure.follow(a, this.#swarm.staticKey);
        this.#assignedTasks = a ? (a.tasks ?? []) : undefined;
        this.#ingress = a?.ingress;
        this.#applyTasks();
        this.#mesh.changed();
      },
      onRequest: (method, args) => {
        if (method === 'logs') return taskLogs(this.#endpoints, args);
        throw new RemoteError('EDENIED', `${method}: unknown request`);
      },
      datapathStatus: () => this.#report(),
    });
    this.#tasks = new TaskRunner({
      host: this.#endpoints,
      report: (r) => this.#swarm.reportTask(r),
      clock,
      log: opts.log.with({ plane: 'tasks' }),
    });
    this.#api
      .route('GET', '/_ping', () => new Text('OK'))
      .route('GET', '/version', (): VersionInfo => versionInfo())
      .route('GET', '/info', (): SystemInfo => ({
        Name: opts.hostname ?? hostname(),
        Pid: process.pid,
        StateDir: opts.stateDir,
        NamePrefix: opts.namePrefix,
        Runtime: runtimeName(),
        Swarm: this.#swarm.info(),
      }));
    mountSwarmRoutes(this.#api, () => this.#swarm, () => this.#kick(), (force) => this.#endpoints.beforeLeave(force));
    mountDiagnosticRoutes(this.#api, () => this.#swarm.gossip, () => this.#data, () => this.#swarm.assignment?.dataKeys ?? []);
    mountEndpointRoutes(this.#api, () => this.#endpoints);
    mountServiceRoutes(this.#api, () => this.#swarm, () => this.#bridges);
    mountNetworkRoutes(this.#api, () => this.#swarm, () => this.#bridges, this.#endpoints);
    const metricsLog = opts.log.with({ plane: 'metrics' });
    const planes = { swarm: this.#swarm, data: this.#data, dns: () => this.#dns, endpoints: this.#endpoints, records: this.#records, ingress: () => this.#ingress };
    if (opts.metricsAddr) this.#metrics = new MetricsServer({ addr: opts.metricsAddr, log: metricsLog, collect: metricsCollector(planes, { log: metricsLog }) });
  }

  async start(): Promise<void> {
    // The state dir will hold keys and the Raft log: only root may read it.
    mkdirSync(this.#opts.stateDir, { recursive: true, mode: 0o700 });
    chmodSync(this.#opts.stateDir, 0o700);
    await this.#swarm.open();
    this.#bridges.load();
    this.#endpoints.load();
    try {
      await this.#metrics?.listen();
      await this.#api.listen(this.#opts.socketPath);
    } catch (e) {
      await this.#swarm.close();
      await this.#metrics?.close();
      throw e;
    }
    this.#scheduleSync();
    this.#opts.log.info('daemon started', { version: VERSION, runtime: runtimeName(), socket: this.#opts.socketPath, state_dir: this.#opts.stateDir });
  }

  // The data plane follows the membership: the underlay socket opens once this
  // node is in a swarm (its data path address and port known), endpoints an
  // earlier run left are restored then, and NetworkDB is followed across
  // gossip restarts.
  #scheduleSync(): void {
    // Idle outside a swarm once restored: no timer at all (init and join kick it again).
    if (this.#stopped || (this.#restored && !this.#swarm.membership && !this.#data.running)) {
      this.#syncTimer = undefined;
      return;
    }
    this.#syncTimer = realClock().after(this.#restored ? SYNC_MS : 0, () => {
      this.#syncing = this.#sync().finally(() => this.#scheduleSync());
    });
  }

  #kick(): void {
    if (this.#stopped || this.#syncTimer) return;
    this.#scheduleSync();
  }

  async #sync(): Promise<void> {
    const m = this.#swarm.membership;
    const wasRunning = this.#data.running;
    try {
      if (m) await this.#data.start(m.vtep, m.dataPathPort);
      else if (this.#data.running) await this.#data.stopUnderlay();
      this.#dataError = '';
    } catch (e) {
      const msg = (e as Error).message;
      if (msg !== this.#dataError) this.#opts.log.error('data path socket', { error: msg });
      this.#dataError = msg;
    }
    this.#data.bindGossip(this.#swarm.gossip);
    // After the data plane: it holds the NetworkDB attachments the service records live in.
    this.#records.bindGossip(this.#swarm.gossip);
    await this.#ensureDns();
    if (this.#restored && !wasRunning && this.#data.running) this.#applyTasks();
    if (!this.#restored && (m === undefined || this.#data.running)) {
      this.#restored = true;
      try {
        await this.#endpoints.restore();
      } catch (e) {
        this.#opts.log.error('restoring endpoints failed', { error: (e as Error).message });
      }
      this.#applyTasks();
    }
    if (this.#restored) await this.#syncIngress();
  }

  /** The ingress sandbox follows the assignment (made once the data path runs; a failure is tried again next sync). */
  async #syncIngress(): Promise<void> {
    const want = this.#data.running ? this.#ingress?.network : undefined;
    const have = this.#endpoints.ingress?.networks[0];
    if (want === undefined ? have === undefined : have !== undefined && have.networkId === want.NetworkID && have.address === want.Address && have.vni === want.VNI) return;
    try {
      await this.#endpoints.setIngress(want);
      this.#ingressError = '';
    } catch (e) {
      const msg = oneLine(e);
      if (msg !== this.#ingressError) this.#opts.log.error('ingress sandbox', { error: msg });
      this.#ingressError = msg;
    }
  }

  /** The host's resolvers and search list, read again at most every RESOLV_RELOAD_MS. */
  #hostResolv(): ResolvConf {
    const now = Date.now();
    if (this.#resolv && now - this.#resolv.atMs < RESOLV_RELOAD_MS) return this.#resolv.conf;
    let text = '';
    try {
      text = readFileSync(this.#opts.resolvConfPath ?? '/etc/resolv.conf', 'utf8');
    } catch {
      // No resolv.conf: nothing to forward to (the resolver answers SERVFAIL for other names).
    }
    this.#resolv = { atMs: now, conf: parseResolvConf(text) };
    return this.#resolv.conf;
  }

  /** The resolver listens on the gwbridge gateway, once one exists (the first endpoint makes it). */
  async #ensureDns(): Promise<void> {
    const gw = this.#endpoints.records.find((r) => r.gw)?.gw?.gateway;
    if (this.#dns || gw === undefined || this.#stopped) return;
    try {
      this.#dns = await DnsServer.start({
        address: gw,
        port: DNS_PORT,
        view: this.#records,
        askerOf: (ip) => {
          const r = this.#endpoints.byGatewayAddress(ip);
          return r ? { name: r.name, networks: r.networks.map((n) => n.networkId), internal: !reachesOut(r.networks) } : undefined;
        },
        upstreams: () => this.#hostResolv().nameservers,
        // Upstream query ids must not be guessable: the platform CSPRNG (answer shuffles draw from it once per query).
        rand: cryptoRand(),
        clock: realClock(),
        log: this.#opts.log.with({ plane: 'dns' }),
      });
      this.#dnsError = '';
      this.#opts.log.info('dns resolver listening', { addr: `${gw}:${DNS_PORT}` });
    } catch (e) {
      const msg = (e as Error).message;
      if (msg !== this.#dnsError) this.#opts.log.error('dns resolver', { error: msg });
      this.#dnsError = msg;
    }
  }

  /** The tasks follow the assignment, once the data path is up and an earlier run's endpoints are back. */
  #applyTasks(): void {
    if (!this.#restored) return;
    if (this.#assignedTasks !== undefined && !this.#data.running) return;
    void this.#tasks.apply(this.#assignedTasks);
  }

  /** What the leader shows in `network inspect` and `node inspect`: every encrypted network with local endpoints. */
  #report(): DatapathReport | undefined {
    const a = this.#swarm.assignment;
    const sp = this.#data.secure;
    const nets = this.#data.sealedNetworks();
    const portErrors = this.#mesh.errors.map((e) => ({ serviceId: e.serviceId, port: e.port, error: e.error }));
    const gossip = this.#swarm.gossipReport();
    const more = { ...(portErrors.length > 0 ? { portErrors } : {}), ...(gossip ? { gossip } : {}) };
    if (nets.length === 0) return this.#dataError || portErrors.length > 0 || gossip ? { networks: [], ...(this.#dataError ? { error: this.#dataError } : {}), ...more } : undefined;
    return {
      ...more,
      networks: nets.map(({ nid, vni }) => {
        const hasKey = a?.dataKeys.some((k) => k.vni === vni && k.keys.length > 0) ?? false;
        const sessions = sp?.status(vni) ?? [];
        const peers = sessions.map((s) => ({ nodeId: s.nodeId, state: s.state, reason: s.reason, lastHandshakeWallMs: s.lastHandshakeWallMs, txBytes: s.txBytes, rxBytes: s.rxBytes }));
        if (!hasKey && peers.length === 0) {
          // No key: every peer on the network is out of reach, and says why.
          for (const p of a?.peers ?? []) {
            if (p.networks.includes(nid)) peers.push({ nodeId: p.nodeId, state: 'no-key', reason: 'this node holds no data key for the network (yet)', lastHandshakeWallMs: null, txBytes: 0, rxBytes: 0 });
          }
        }
        return { networkId: nid, peers };
      }),
      ...(this.#dataError ? { error: this.#dataError } : {}),
    };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    // Tasks keep running (live restore): only the watching stops.
    this.#tasks.stop();
    this.#balancer.close();
    await this.#mesh.close();
    await this.#ports.close();
    this.#syncTimer?.cancel();
    await this.#syncing;
    this.#syncTimer?.cancel();
    // After the last sync: it may have just started the resolver.
    await this.#dns?.close();
    await this.#metrics?.close();
    await this.#api.close();
    await this.#data.close();
    await this.#swarm.close();
    this.#opts.log.info('daemon stopped');
  }
}

export function versionInfo(): VersionInfo {
  return { Version: VERSION, ApiVersion: API_VERSION, Os: platform(), Arch: arch(), Runtime: runtimeName() };
}
