// The environment is read here and nowhere else (STYLE habit 12).

export const DEFAULT_HOST = 'unix:///run/agent/agent.sock';
export const DEFAULT_STATE_DIR = '/var/lib/agent';

export interface Env {
  /** AGENT_HOST: where the CLI finds the daemon's API socket. */
  host: string | undefined;
}

export function readEnv(env: Record<string, string | undefined> = process.env): Env {
  return { host: env['AGENT_HOST'] || undefined };
}
