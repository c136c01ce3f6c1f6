// The worker's task runner (agent/endpoint/task-runner.ts) against a fake
// host and a fake leader: tasks start and stop with the assignment, ended
// processes are reported once with docker's words, an ended task is never
// started again here, a refused start is `rejected`, reports are retried
// until delivered, and leaving the swarm ends every task unreported.
import { suite, is, ok, equal } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import { createLogger } from '../../../agent/daemon/log.js';
import { TaskStartError } from '../../../agent/endpoint/endpoint-manager.js';
import type { EndpointRecord } from '../../../agent/endpoint/endpoint-state.js';
import { endedReport, TaskRunner, type TaskHost, type TaskReport } from '../../../agent/endpoint/task-runner.js';
import type { AssignedTask } from '../../../agent/swarm/service-views.js';

const t = suite('endpoint/task-runner');
const quiet = createLogger({ level: 'error', format: 'text', write: () => {}, nowIso: () => '' });

function task(id: string, cmd = ['sleep', '600']): AssignedTask {
  return { id, name: `web.1.${id}`, serviceId: 'svc1', serviceName: 'web', slot: 1, command: cmd, env: [], networks: [], vips: {} };
}

class FakeHost implements TaskHost {
  records: EndpointRecord[] = [];
  readonly exits = new Map<string, number | null>();
  readonly started: string[] = [];
  readonly ended: { id: string; graceMs: number }[] = [];
  refuse = new Set<string>();

  status(r: EndpointRecord) {
    return this.exits.has(r.id) ? { running: false, exitCode: this.exits.get(r.id)! } : { running: true, exitCode: null };
  }
  async startTask(x: AssignedTask): Promise<void> {
    if (this.refuse.has(x.id)) throw new TaskStartError(`starting task failed: exec: "${x.command[0]}": executable file not found in $PATH`);
    this.started.push(x.id);
    this.records.push({ id: x.id, name: x.name, netns: `tq-e${x.id}`, command: x.command, createdAtMs: 0, networks: [], pid: 100 + this.records.length, task: { serviceId: x.serviceId, serviceName: x.serviceName } });
  }
  async endTask(id: string, graceMs: number) {
    const r = this.records.find((x) => x.id === id);
    if (!r) return undefined;
    this.ended.push({ id, graceMs });
    const was = this.exits.has(id);
    const exitCode = was ? this.exits.get(id)! : 143;
    this.records = this.records.filter((x) => x !== r);
    return { exitCode, stopped: !was };
  }
}

function bed() {
  const clock = new ManualClock();
  const host = new FakeHost();
  const reports: TaskReport[] = [];
  let down = false;
  const runner = new TaskRunner({
    host,
    clock,
    log: quiet,
    graceMs: 10_000,
    report: async (r) => {
      if (down) throw new Error('no session');
      reports.push(r);
    },
  });
  const settle = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  return { clock, host, reports, runner, settle, setDown: (v: boolean) => (down = v) };
}

const states = (rs: readonly TaskReport[], id: string) => rs.filter((r) => r.taskId === id).map((r) => r.state);

t('an assigned task is started and reported starting then running; an unassigned one is stopped with the grace and reported shutdown', async () => {
  const b = bed();
  await b.runner.apply([task('aaaaaaaaaaaa1')]);
  await b.settle();
  equal(b.host.started, ['aaaaaaaaaaaa1']);
  // Only the newest report of a task waits: starting may be superseded by running before it is sent.
  is(states(b.reports, 'aaaaaaaaaaaa1').at(-1), 'running');
  await b.runner.apply([]);
  await b.settle();
  equal(b.host.ended, [{ id: 'aaaaaaaaaaaa1', graceMs: 10_000 }]);
  const last = b.reports.at(-1)!;
  is(last.state, 'shutdown');
  is(last.exitCode, 143);
  b.runner.stop();
});

t('a process that ends is torn down and reported once: exit 0 complete, exit 3 failed with docker\'s error; the task is never started again', async () => {
  const b = bed();
  await b.runner.apply([task('aaaaaaaaaaaa1'), task('bbbbbbbbbbbb2')]);
  await b.settle();
  b.host.exits.set('aaaaaaaaaaaa1', 0);
  b.host.exits.set('bbbbbbbbbbbb2', 3);
  b.clock.advance(600);
  await b.settle();
  const a = b.reports.filter((r) => r.taskId === 'aaaaaaaaaaaa1').at(-1)!;
  const c = b.reports.filter((r) => r.taskId === 'bbbbbbbbbbbb2').at(-1)!;
  equal([a.state, a.message, a.exitCode], ['complete', 'finished', 0]);
  equal([c.state, c.err, c.exitCode], ['failed', 'task: non-zero exit (3)', 3]);
  is(b.host.records.length, 0, 'both torn down');
  const before = b.reports.length;
  // The leader has not yet taken them out of the assignment: still not started again.
  await b.runner.apply([task('aaaaaaaaaaaa1'), task('bbbbbbbbbbbb2')]);
  b.clock.advance(2_000);
  await b.settle();
  equal(b.host.started, ['aaaaaaaaaaaa1', 'bbbbbbbbbbbb2'], 'an ended task is the orchestrator\'s to replace');
  is(b.reports.length, before, 'reported once');
  b.runner.stop();
});

t('a task that cannot start is rejected with the reason and not tried again', async () => {
  const b = bed();
  b.host.refuse.add('ccccccccccccc');
  await b.runner.apply([task('ccccccccccccc', ['nope'])]);
  await b.settle();
  const r = b.reports.at(-1)!;
  is(r.state, 'rejected');
  is(r.err, 'starting task failed: exec: "nope": executable file not found in $PATH');
  await b.runner.apply([task('ccccccccccccc', ['nope'])]);
  await b.settle();
  is(b.reports.filter((x) => x.taskId === 'ccccccccccccc' && x.state === 'rejected').length, 1);
  b.runner.stop();
});

t('reports that cannot be delivered are retried, newest state only, until the leader has them', async () => {
  const b = bed();
  b.setDown(true);
  await b.runner.apply([task('aaaaaaaaaaaa1')]);
  await b.settle();
  b.host.exits.set('aaaaaaaaaaaa1', 1);
  b.clock.advance(600);
  await b.settle();
  is(b.reports.length, 0);
  b.setDown(false);
  b.clock.advance(1_000);
  await b.settle();
  equal(states(b.reports, 'aaaaaaaaaaaa1'), ['failed'], 'the newest state, once');
  b.runner.stop();
});

t('after a restart, tasks found running are kept and said running once; leaving the swarm ends every task without reports', async () => {
  const b = bed();
  b.host.records.push({ id: 'ddddddddddddd', name: 'web.2.ddddddddddddd', netns: 'tq-ed', command: ['sleep'], createdAtMs: 0, networks: [], pid: 7, task: { serviceId: 'svc1', serviceName: 'web' } });
  b.host.records.push({ id: 'eeeeeeeeeeeee', name: 'web.3.eeeeeeeeeeeee', netns: 'tq-ee', command: ['sleep'], createdAtMs: 0, networks: [], pid: 8, task: { serviceId: 'svc1', serviceName: 'web' } });
  await b.runner.apply([task('ddddddddddddd')]);
  await b.settle();
  equal(b.host.started, [], 'adopted, not started again');
  equal(states(b.reports, 'ddddddddddddd'), ['running']);
  equal(states(b.reports, 'eeeeeeeeeeeee'), ['shutdown'], 'no longer wanted: stopped');
  await b.runner.apply([task('ddddddddddddd')]);
  await b.settle();
  equal(states(b.reports, 'ddddddddddddd'), ['running'], 'said once');
  const n = b.reports.length;
  await b.runner.apply(undefined);
  await b.settle();
  is(b.host.records.length, 0, 'left the swarm: every task ended');
  is(b.reports.length, n, 'and nothing reported (no session)');
  b.runner.stop();
});

t('endedReport: docker\'s words for each ending', () => {
  equal(endedReport('x', 0, false, 5), { taskId: 'x', state: 'complete', message: 'finished', exitCode: 0, timestampMs: 5 });
  equal(endedReport('x', 2, false, 5), { taskId: 'x', state: 'failed', message: 'started', err: 'task: non-zero exit (2)', exitCode: 2, timestampMs: 5 });
  equal(endedReport('x', null, false, 5), { taskId: 'x', state: 'failed', message: 'started', err: 'task: killed (no exit code)', timestampMs: 5 });
  equal(endedReport('x', 137, true, 5), { taskId: 'x', state: 'shutdown', message: 'shutdown', exitCode: 137, timestampMs: 5 });
  ok(true);
});

t.run();
