// Published ports a node cannot serve (issue 10), from the node to `service
// inspect`: the data path report's portErrors read off a heartbeat
// (agent/swarm/datapath-report.ts: accepted, cut, bad shapes refused naming
// the field) and ServiceOps' inspect and list carrying them as PortErrors
// from the leader's latest reports (agent/swarm/service-ops.ts), against the
// LeaderStandIn with a real Store.
import { suite, equal, is, ok } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import { seededRand } from '../../../shared/rand.js';
import { batch, create } from '../../../agent/cluster/store/index.js';
import type { Node } from '../../../agent/cluster/store/types.js';
import { FieldError } from '../../../agent/cluster/store/validate.js';
import { MAX_REASON_CHARS, MAX_REPORT_PEERS, heartbeatReport, parseDatapathReport } from '../../../agent/swarm/datapath-report.js';
import { NetworkOps } from '../../../agent/swarm/network-ops.js';
import { ServiceOps } from '../../../agent/swarm/service-ops.js';
import { CLUSTER_ID_KEY } from '../../../agent/swarm/store-ids.js';
import { LeaderStandIn } from './leader-standin.js';

const t = suite('swarm/port-errors');
const SEED = Number(process.env.TEST_SEED ?? 0x9047);

// ---- the report ------------------------------------------------------------------

const pe = (serviceId: string, port: string, error = `port ${port} is in use on this node by another program: not published here`) => ({ serviceId, port, error });

t('portErrors are read as sent; none (absent, null or empty): no field', () => {
  const r = { networks: [], portErrors: [pe('svc1', '8080/tcp'), pe('svc2', '53/udp', 'x')] };
  equal(parseDatapathReport(r), r);
  equal(parseDatapathReport({ networks: [], error: 'down', portErrors: [pe('s', '1/tcp')] }), { networks: [], error: 'down', portErrors: [pe('s', '1/tcp')] });
  for (const portErrors of [undefined, null, []]) equal(parseDatapathReport({ networks: [], portErrors }), { networks: [] });
  equal(parseDatapathReport({ networks: [], portErrors: [{ ...pe('s', '1/tcp'), node: 'extra' }] }), { networks: [], portErrors: [pe('s', '1/tcp')] }, 'unknown fields ignored');
});

t('a long port error is cut to MAX_REASON_CHARS', () => {
  const r = parseDatapathReport({ networks: [], portErrors: [pe('s', '8080/tcp', 'y'.repeat(MAX_REASON_CHARS * 2))] });
  is(r.portErrors![0]!.error.length, MAX_REASON_CHARS);
  ok(r.portErrors![0]!.error.endsWith('...'));
});

t('a bad portErrors shape is refused naming the field', () => {
  const cases: [unknown, string][] = [
    ['no', 'datapath.portErrors: expected an array'],
    [[3], 'datapath.portErrors[0]: expected a map'],
    [[pe('s', '1/tcp'), { port: '1/tcp', error: 'e' }], 'datapath.portErrors[1].serviceId: expected a non-empty string, got nothing'],
    [[{ serviceId: 's', port: '', error: 'e' }], 'datapath.portErrors[0].port: expected a non-empty string, got string ""'],
    [[{ serviceId: 's', port: '1/tcp', error: 7 }], 'datapath.portErrors[0].error: expected a string, got number 7'],
    [Array.from({ length: MAX_REPORT_PEERS + 1 }, () => pe('s', '1/tcp')), `datapath.portErrors: expected at most ${MAX_REPORT_PEERS} entries, got ${MAX_REPORT_PEERS + 1}`],
  ];
  for (const [portErrors, message] of cases) {
    let got = '';
    try {
      parseDatapathReport({ networks: [], portErrors });
    } catch (e) {
      ok(e instanceof FieldError, String(e));
      got = (e as Error).message;
    }
    is(got, message);
  }
  // Off a heartbeat: shown as the node's error, never a throw.
  equal(heartbeatReport({ datapath: { networks: [], portErrors: 'no' } }), { networks: [], error: "the leader could not read this node's data path report: datapath.portErrors: expected an array" });
});

// ---- service inspect and ls ----------------------------------------------------------

function nodeDraft(id: string, hostname: string): Omit<Node, 'meta'> {
  return { id, role: 'worker', availability: 'active', hostname, addr: `${hostname}:2377`, dataAddr: '', publicKey: new Uint8Array(32), labels: {}, status: { state: 'ready', message: '' } };
}

const NODE_A = 'nodea0000000000000000000a';
const NODE_B = 'nodeb0000000000000000000b';
const GONE = 'nodez0000000000000000000z';

async function world() {
  const clock = new ManualClock();
  const rand = seededRand(SEED);
  const leader = new LeaderStandIn();
  await leader.commit(
    batch(
      create('cluster', { id: CLUSTER_ID_KEY, name: 'default', defaultAddrPool: ['10.0.0.0/8'], subnetSize: 24, keyRotationMs: 43_200_000, heartbeatMs: 5000, dataPathPort: 4789 }),
      create('node', nodeDraft(NODE_A, 'zulu')),
      create('node', nodeDraft(NODE_B, 'alpha')),
    ),
  );
  const nets = new NetworkOps(leader.ops, rand, clock);
  const ops = new ServiceOps({ leader: leader.ops, rand, clock, callNode: async () => [] });
  await nets.create({ Name: 'ingress', Ingress: true });
  return { leader, ops };
}

t("inspect and ls: each node's port errors for the service as PortErrors, by hostname then port; none: no field", async () => {
  const w = await world();
  const web = (await w.ops.create({ Name: 'web', Command: ['x'], Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }, { Protocol: 'udp', TargetPort: 53, PublishedPort: 5353, PublishMode: 'ingress' }] })).ID;
  const api = (await w.ops.create({ Name: 'api', Command: ['x'], Ports: [{ Protocol: 'tcp', TargetPort: 90, PublishedPort: 9090, PublishMode: 'ingress' }] })).ID;
  await w.ops.create({ Name: 'quiet', Command: ['x'] });
  ok(!('PortErrors' in (await w.ops.inspect('web'))), 'no reports: no field');

  w.leader.reports.set(NODE_A, { networks: [], portErrors: [pe(web, '8080/tcp'), pe(api, '9090/tcp', 'port 9090/tcp is already published on this node by endpoint1')] });
  w.leader.reports.set(NODE_B, { networks: [], portErrors: [pe(web, '8080/tcp'), pe(web, '5353/udp')] });
  w.leader.reports.set(GONE, { networks: [], portErrors: [pe(web, '8080/tcp', 'from a node the store no longer has')] });
  const inspected = await w.ops.inspect('web');
  equal(inspected.PortErrors, [
    { NodeID: GONE, Hostname: '', Port: '8080/tcp', Error: 'from a node the store no longer has' },
    { NodeID: NODE_B, Hostname: 'alpha', Port: '5353/udp', Error: 'port 5353/udp is in use on this node by another program: not published here' },
    { NodeID: NODE_B, Hostname: 'alpha', Port: '8080/tcp', Error: 'port 8080/tcp is in use on this node by another program: not published here' },
    { NodeID: NODE_A, Hostname: 'zulu', Port: '8080/tcp', Error: 'port 8080/tcp is in use on this node by another program: not published here' },
  ]);
  equal((await w.ops.inspect(api)).PortErrors, [{ NodeID: NODE_A, Hostname: 'zulu', Port: '9090/tcp', Error: 'port 9090/tcp is already published on this node by endpoint1' }]);
  const listed = await w.ops.list();
  equal(listed.map((s) => [s.Spec.Name, s.PortErrors?.length ?? 0]), [['api', 1], ['quiet', 0], ['web', 4]]);
  ok(!('PortErrors' in listed[1]!));
  equal(listed[2]!.PortErrors, inspected.PortErrors);

  // The nodes' next word replaces the last: a cleared report clears the service's errors.
  w.leader.reports.set(NODE_A, { networks: [] });
  w.leader.reports.delete(NODE_B);
  w.leader.reports.delete(GONE);
  ok(!('PortErrors' in (await w.ops.inspect('web'))));
});

t.run();
