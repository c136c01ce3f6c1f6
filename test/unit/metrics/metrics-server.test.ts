// agent/metrics/metrics-server.ts on a real loopback socket, and
// --metrics-addr's parsing: GET /metrics and nothing else; a failing collect
// is a 500 said once in the log; close() ends keep-alive connections too.
import { request, Agent } from 'node:http';
import { suite, equal, is, ok, throws } from '../../harness.js';
import { MetricsServer } from '../../../agent/metrics/metrics-server.js';
import { parseMetricsAddr } from '../../../agent/metrics/metrics-addr.js';
import type { Fields, Logger } from '../../../agent/daemon/log.js';

const t = suite('metrics/server');

function memLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string, f?: Fields) => void lines.push(`${level} ${msg}${f?.['error'] !== undefined ? `: ${String(f['error'])}` : ''}`);
  const log = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), with: () => log };
  return log;
}

function get(port: number, path: string, o: { method?: string; agent?: Agent } = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', agent: o.agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

t('--metrics-addr: HOST:PORT with an IP address, IPv6 in brackets; anything else refused in one line', () => {
  equal(parseMetricsAddr('127.0.0.1:9323'), { host: '127.0.0.1', port: 9323 });
  equal(parseMetricsAddr('0.0.0.0:1'), { host: '0.0.0.0', port: 1 });
  equal(parseMetricsAddr('[::1]:9323'), { host: '::1', port: 9323 });
  for (const bad of ['x', '127.0.0.1', ':9323', '127.0.0.1:0', '127.0.0.1:65536', 'localhost:9323', '::1:9323', '[127.0.0.1]:9323', '10.0.0.256:80', '127.0.0.1:93a']) {
    throws(() => parseMetricsAddr(bad), (e: Error) => e.message === `--metrics-addr: expected HOST:PORT, got ${JSON.stringify(bad)}` && e.name === 'UsageError', bad);
  }
});

t('GET /metrics answers the exposition as text/plain version 0.0.4; any other path or method is 404; no log line per request', async () => {
  const log = memLog();
  let scrapes = 0;
  const s = new MetricsServer({ addr: { host: '127.0.0.1', port: 0 }, log, collect: async () => `# HELP agent_up Up.\n# TYPE agent_up gauge\nagent_up ${++scrapes}\n` });
  await s.listen();
  try {
    const r = await get(s.port, '/metrics');
    equal(r, { status: 200, type: 'text/plain; version=0.0.4; charset=utf-8', body: '# HELP agent_up Up.\n# TYPE agent_up gauge\nagent_up 1\n' });
    is((await get(s.port, '/metrics?x=1')).body.endsWith('agent_up 2\n'), true);
    is((await get(s.port, '/')).status, 404);
    is((await get(s.port, '/metrics/')).status, 404);
    is((await get(s.port, '/metrics', { method: 'POST' })).status, 404);
    is(scrapes, 2);
    equal(log.lines, ['info metrics listening']);
  } finally {
    await s.close();
  }
});

t('a failing collect is a 500 with its line, logged once until it changes or recovers', async () => {
  const log = memLog();
  let fail: string | undefined = 'store gone\nmore';
  const s = new MetricsServer({ addr: { host: '127.0.0.1', port: 0 }, log, collect: async () => {
    if (fail) throw new Error(fail);
    return '';
  } });
  await s.listen();
  try {
    equal(await get(s.port, '/metrics'), { status: 500, type: 'text/plain; charset=utf-8', body: 'store gone\n' });
    await get(s.port, '/metrics');
    fail = undefined;
    is((await get(s.port, '/metrics')).status, 200);
    fail = 'store gone';
    await get(s.port, '/metrics');
    equal(log.lines.slice(1), ['error metrics not collected: store gone', 'error metrics not collected: store gone']);
  } finally {
    await s.close();
  }
});

t('close() ends keep-alive connections and is idempotent; an address in use fails listen in one line', async () => {
  const log = memLog();
  const s = new MetricsServer({ addr: { host: '127.0.0.1', port: 0 }, log, collect: async () => '' });
  await s.listen();
  const agent = new Agent({ keepAlive: true });
  is((await get(s.port, '/metrics', { agent })).status, 200);
  const other = new MetricsServer({ addr: { host: '127.0.0.1', port: s.port }, log, collect: async () => '' });
  let err = '';
  await other.listen().catch((e: Error) => (err = e.message));
  is(err, `--metrics-addr 127.0.0.1:${s.port}: EADDRINUSE`);
  await other.close();
  await s.close();
  await s.close();
  agent.destroy();
  const after = await get(s.port, '/metrics').then(() => 'answered', (e: NodeJS.ErrnoException) => e.code);
  ok(after === 'ECONNREFUSED', `closed: ${after}`);
});

t.run();
