// `agent daemon`: the long-running process on every node. For now it owns the
// state dir and serves the local API; the planes (control, gossip, data) are
// added to it as they are built.
import { mkdirSync, chmodSync } from 'node:fs';
import { hostname, platform, arch } from 'node:os';
import { ApiServer, Text } from '../api/server.js';
import { API_VERSION, type SystemInfo, type VersionInfo } from '../api/types.js';
import { VERSION, runtimeName } from '../version.js';
import type { Logger } from './log.js';

export interface DaemonOptions {
  socketPath: string;
  stateDir: string;
  /** Prefix of every netns and link this daemon creates, so several agents can share a machine. */
  namePrefix: string;
  log: Logger;
}

export class Daemon {
  readonly #opts: DaemonOptions;
  readonly #api = new ApiServer();

  constructor(opts: DaemonOptions) {
    this.#opts = opts;
    this.#api
      .route('GET', '/_ping', () => new Text('OK'))
      .route('GET', '/version', (): VersionInfo => versionInfo())
      .route('GET', '/info', (): SystemInfo => ({
        Name: hostname(),
        Pid: process.pid,
        StateDir: opts.stateDir,
        NamePrefix: opts.namePrefix,
        Runtime: runtimeName(),
        Swarm: { LocalNodeState: 'inactive' },
      }));
  }

  async start(): Promise<void> {
    // The state dir will hold keys and the Raft log: only root may read it.
    mkdirSync(this.#opts.stateDir, { recursive: true, mode: 0o700 });
    chmodSync(this.#opts.stateDir, 0o700);
    await this.#api.listen(this.#opts.socketPath);
    this.#opts.log.info('daemon started', { version: VERSION, runtime: runtimeName(), socket: this.#opts.socketPath, state_dir: this.#opts.stateDir });
  }

  async stop(): Promise<void> {
    await this.#api.close();
    this.#opts.log.info('daemon stopped');
  }
}

export function versionInfo(): VersionInfo {
  return { Version: VERSION, ApiVersion: API_VERSION, Os: platform(), Arch: arch(), Runtime: runtimeName() };
}
