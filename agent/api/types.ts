// Shapes of the local API (HTTP/1.1 + JSON over a Unix socket), modelled on
// the Docker Engine API. Fields are only ever added, never renamed.

export const API_VERSION = '1.0';

export interface VersionInfo {
  Version: string;
  ApiVersion: string;
  Os: string;
  Arch: string;
  Runtime: string;
}

export interface SystemInfo {
  Name: string;
  Pid: number;
  StateDir: string;
  NamePrefix: string;
  Runtime: string;
  Swarm: { LocalNodeState: 'inactive' | 'pending' | 'active' | 'error' };
}

/** The body of every error response. */
export interface ErrorBody {
  message: string;
}
