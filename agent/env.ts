// The environment is read here and nowhere else (STYLE habit 12).

export const DEFAULT_HOST = 'unix:///run/agent/agent.sock';
export const DEFAULT_STATE_DIR = '/var/lib/agent';

export interface Env {
  /** AGENT_HOST: where the CLI finds the daemon's API socket. */
  host: string | undefined;
  /**
   * AGENT_RAFT_TICK_MS: the Raft tick of a daemon's manager (default 1000,
   * election after 10-20 ticks). For test beds that must see fail-overs in
   * seconds, not a knob for production.
   */
  raftTickMs: number | undefined;
}

export function readEnv(env: Record<string, string | undefined> = process.env): Env {
  const tick = env['AGENT_RAFT_TICK_MS'];
  let raftTickMs: number | undefined;
  if (tick) {
    raftTickMs = Number(tick);
    if (!Number.isSafeInteger(raftTickMs) || raftTickMs < 10 || raftTickMs > 10_000) {
      throw new Error(`AGENT_RAFT_TICK_MS: expected an integer from 10 to 10000, got ${JSON.stringify(tick)}`);
    }
  }
  return { host: env['AGENT_HOST'] || undefined, raftTickMs };
}
