// `agent daemon`: the long-running process on every node. It owns the state
// dir, serves the local API, and runs the control plane (swarm-node.ts);
// the gossip and data planes are added to it as they are built.
import { mkdirSync, chmodSync } from 'node:fs';
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
}

export class Daemon {
  readonly #opts: DaemonOptions;
  readonly #api = new ApiServer();
  readonly #swarm: SwarmNode;

  constructor(opts: DaemonOptions) {
    this.#opts = opts;
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
    mountSwarmRoutes(this.#api, () => this.#swarm);
    mountDiagnosticRoutes(this.#api, () => this.#swarm.gossip);
  }

  async start(): Promise<void> {
    // The state dir will hold keys and the Raft log: only root may read it.
    mkdirSync(this.#opts.stateDir, { recursive: true, mode: 0o700 });
    chmodSync(this.#opts.stateDir, 0o700);
    await this.#swarm.open();
    try {
      await this.#api.listen(this.#opts.socketPath);
    } catch (e) {
      await this.#swarm.close();
      throw e;
    }
    this.#opts.log.info('daemon started', { version: VERSION, runtime: runtimeName(), socket: this.#opts.socketPath, state_dir: this.#opts.stateDir });
  }

  async stop(): Promise<void> {
    await this.#api.close();
    await this.#swarm.close();
    this.#opts.log.info('daemon stopped');
  }
}

export function versionInfo(): VersionInfo {
  return { Version: VERSION, ApiVersion: API_VERSION, Os: platform(), Arch: arch(), Runtime: runtimeName() };
}
