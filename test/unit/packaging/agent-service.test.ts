// The systemd unit (packaging/agent.service) says what issue 11 asks of the
// service, and names the paths install.sh writes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, is, ok } from '../../harness.js';
import { DEFAULT_STATE_DIR } from '../../../agent/env.js';

const root = process.cwd();
const unitText = readFileSync(join(root, 'packaging/agent.service'), 'utf8');
const installer = readFileSync(join(root, 'scripts/install.sh'), 'utf8');

/** section -> key -> values, in order (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(\w+)\]$/.exec(line);
    if (head) {
      current = new Map();
      sections.set(head[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    ok(current && eq > 0, `a key=value inside a section: ${line}`);
    const key = line.slice(0, eq);
    current!.set(key, [...(current!.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

/** A NAME=/path assignment at the top of install.sh. */
function installerPath(name: string): string {
  const m = new RegExp(`^${name}=(\\S+)$`, 'm').exec(installer);
  ok(m, `install.sh sets ${name}`);
  return m![1]!;
}

const unit = parseUnit(unitText);
const service = (key: string) => unit.get('Service')?.get(key)?.join(' ');

const t = suite('agent.service');

t('runs the installed binary as a simple service that restarts on failure', () => {
  is(service('Type'), 'simple');
  is(service('ExecStart'), `${installerPath('BIN')} daemon $AGENT_OPTS`);
  is(service('EnvironmentFile'), '-/etc/default/agent');
  is(service('Restart'), 'on-failure');
  is(service('RestartSec'), '2');
  is(unit.get('Install')?.get('WantedBy')?.join(' '), 'multi-user.target');
  is(installerPath('WANTS'), `${installerPath('UNIT').replace(/\/[^/]+$/, '')}/multi-user.target.wants/agent.service`);
});

t('a stop sends SIGTERM to the daemon alone: tasks keep running (live-restore)', () => {
  is(service('KillMode'), 'process');
  is(service('KillSignal'), 'SIGTERM');
  ok(Number(service('TimeoutStopSec')) > 0);
  is(service('TasksMax'), 'infinity', 'the tasks share the unit cgroup');
});

t('logs go to the journal, and the state dir is the daemon default', () => {
  is(service('StandardOutput'), undefined);
  is(service('StandardError'), undefined);
  ok(!/--state-dir|--log-file/.test(unitText));
  is(installerPath('STATE_DIR'), DEFAULT_STATE_DIR);
});

t.run();
