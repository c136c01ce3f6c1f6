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
  /**
   * AGENT_REKEY_MS: how often encrypted overlay sessions re-handshake
   * (default 120000, WireGuard's REKEY_AFTER_TIME; rejected after 1.5x). For
   * tests that must see many rekeys in a minute, not a knob for production.
   */
  rekeyMs: number | undefined;
  /**
   * AGENT_RESOLV_CONF: the file the daemon reads the host's resolvers and
   * search list from (default /etc/resolv.conf): names its DNS resolver does
   * not know are forwarded there.
   */
  resolvConf: string | undefined;
}

function intVar(env: Record<string, string | undefined>, name: string, min: number, max: number): number | undefined {
  const text = env[name];
  if (!text) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
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
  return { host: env['AGENT_HOST'] || undefined, raftTickMs, rekeyMs: intVar(env, 'AGENT_REKEY_MS', 500, 120_000), resolvConf: env['AGENT_RESOLV_CONF'] || undefined };
}
