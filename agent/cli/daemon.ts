import { setFlagsFromString } from 'node:v8';
import type { Command } from './command.js';
import { DEFAULT_STATE_DIR, readEnv } from '../env.js';
import { socketPathOf } from '../api/host.js';
import { UsageError } from '../../shared/errors.js';
import { parseMetricsAddr } from '../metrics/metrics-addr.js';

interface Args {
  host: string;
  'state-dir': string;
  'name-prefix': string;
  'log-level': string;
  'log-format': string;
  hostname?: string;
  socket?: string;
  'metrics-addr'?: string;
}

// Network namespace names are global on a machine, so every agent's carry its
// prefix; the test bed gives each agent `<bed prefix>-h<i>`.
const NAME_PREFIX_RE = /^[a-z][a-z0-9-]{0,11}$/;

/** `agent daemon`: run the agent on this node (as root, usually under systemd). */
export const daemon: Command<Args> = {
  command: 'daemon',
  describe: 'Run the agent daemon on this node',
  group: 'Commands',
  builder: (y) =>
    y
      .option('state-dir', { type: 'string', default: DEFAULT_STATE_DIR, describe: 'Where keys, certificates and the Raft log live (mode 0700)' })
      .option('name-prefix', { type: 'string', default: 'ag', describe: 'Prefix of the netns and links this daemon creates (1-12 of [a-z0-9-], a letter first)' })
      .option('log-level', { type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'], describe: 'Least severe level logged' })
      .option('log-format', { type: 'string', default: 'text', choices: ['text', 'json'], describe: 'Log line format' })
      .option('hostname', { type: 'string', describe: "This node's name in `node ls` (default: the host name)" })
      .option('socket', { type: 'string', describe: 'Path of the API socket (default: the path of -H/--host, /run/agent/agent.sock)' })
      .option('metrics-addr', { type: 'string', describe: 'Serve Prometheus metrics at http://HOST:PORT/metrics (docker uses 127.0.0.1:9323)' }),
  async run(args, ctx) {
    if (!NAME_PREFIX_RE.test(args['name-prefix'])) {
      throw new UsageError(`--name-prefix: expected 1-12 characters of [a-z0-9-] starting with a letter, got "${args['name-prefix']}"`);
    }
    if (args.socket !== undefined && !args.socket.startsWith('/')) throw new UsageError(`--socket: expected an absolute path, got "${args.socket}"`);
    const socketPath = args.socket ?? socketPathOf(args.host);
    const metricsAddr = args['metrics-addr'] === undefined ? undefined : parseMetricsAddr(args['metrics-addr']);
    leanRuntime();
    const { Daemon } = await import('../daemon/daemon.js');
    const { createLogger } = await import('../daemon/log.js');
    const log = createLogger({
      level: args['log-level'] as 'info',
      format: args['log-format'] as 'text',
      write: (l) => ctx.err(l),
      nowIso: () => new Date().toISOString(),
    });
    if (args.hostname !== undefined && !/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(args.hostname)) {
      throw new UsageError(`--hostname: expected 1-63 characters of [A-Za-z0-9.-] starting with a letter or digit, got "${args.hostname}"`);
    }
    const { defaultRaftConfig } = await import('../cluster/raft/config.js');
    const env = readEnv();
    const tickMs = env.raftTickMs;
    const raftConfig = { ...defaultRaftConfig(), ...(tickMs ? { tickMs } : {}) };
    const d = new Daemon({
      socketPath,
      stateDir: args['state-dir'],
      namePrefix: args['name-prefix'],
      log,
      raftConfig,
      ...(args.hostname ? { hostname: args.hostname } : {}),
      ...(env.rekeyMs ? { rekeyMs: env.rekeyMs } : {}),
      ...(env.resolvConf ? { resolvConfPath: env.resolvConf } : {}),
      ...(metricsAddr ? { metricsAddr } : {}),
    });
    // Handlers first: a signal that arrives while the daemon starts still stops it cleanly.
    const stopped = new Promise<void>((resolve) => {
      const stop = (sig: string) => {
        log.info('signal received, stopping', { signal: sig });
        resolve();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    await d.start();
    await stopped;
    await d.stop();
    return 0;
  },
};

/**
 * An agent on an edge device idles under 64 MiB (issue 11): V8 favours
 * memory over speed where it can choose (smaller optimized code and inline
 * caches; the hot path's cost is the sendmsg, not the JS), and libuv's
 * thread pool, which the daemon barely uses, keeps 2 threads instead of 4.
 * AGENT_V8_FLAGS replaces the V8 flags ("" for none).
 */
function leanRuntime(): void {
  const flags = process.env['AGENT_V8_FLAGS'] ?? '--optimize-for-size';
  if (flags.trim() !== '') setFlagsFromString(flags);
  process.env['UV_THREADPOOL_SIZE'] ??= '2';
}
