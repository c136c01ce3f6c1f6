// "Never a silent black hole" (agent/swarm/datapath-report.ts, issue 7): a
// node's data path report read off a heartbeat (checked field by field, a bad
// one shown as an error rather than dropped or fatal to the session), kept by
// the dispatcher while the session lives, and shown by node inspect
// (DataPath) and network inspect (Peers).
import { suite, is, ok, equal } from '../../harness.js';
import type { DatapathReport } from '../../../agent/api/types.js';
import { MAX_REASON_CHARS, heartbeatReport, networkPeers, nodeDataPath, parseDatapathReport } from '../../../agent/swarm/datapath-report.js';
import { Dispatcher } from '../../../agent/swarm/dispatcher.js';
import { FieldError } from '../../../agent/cluster/store/validate.js';
import { FakeRpc } from './fake-rpc.js';
import { world, type World } from './data-fixture.js';

const t = suite('swarm/datapath-report');
const SEED = Number(process.env.TEST_SEED ?? 0x5ca7);
const WALL = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const ISO = '2026-01-01T00:00:00.000Z';

const peer = (nodeId: string, state: 'up' | 'handshaking' | 'failed' | 'no-key', over: Record<string, unknown> = {}) => ({
  nodeId,
  state,
  reason: state === 'up' ? '' : `${state} reason`,
  lastHandshakeWallMs: state === 'up' ? WALL : null,
  txBytes: 100,
  rxBytes: 200,
  ...over,
});

// ---- reading a report --------------------------------------------------------

t('parseDatapathReport: a report as the daemon sends it comes back equal', () => {
  const r: DatapathReport = { networks: [{ networkId: 'n1', peers: [peer('b', 'up'), peer('c', 'failed')] }], error: 'oops' };
  equal(parseDatapathReport(r), r);
  equal(parseDatapathReport({ networks: [] }), { networks: [] });
});

t('parseDatapathReport: unknown fields are ignored (a newer node may say more); a fractional handshake time is floored', () => {
  equal(parseDatapathReport({ networks: [{ networkId: 'n', peers: [{ ...peer('b', 'up'), lastHandshakeWallMs: WALL + 0.7, rttMs: 3 }], mtu: 1400 }], extra: true }), {
    networks: [{ networkId: 'n', peers: [peer('b', 'up')] }],
  });
});

t('parseDatapathReport: a bad field is named', () => {
  const cases: [unknown, string][] = [
    [null, 'datapath: expected a map'],
    [{}, 'datapath.networks: expected an array'],
    [{ networks: [{ networkId: '', peers: [] }] }, 'datapath.networks[0].networkId: expected a non-empty string, got string ""'],
    [{ networks: [{ networkId: 'n', peers: [peer('b', 'up', { state: 'down' })] }] }, 'datapath.networks[0].peers[0].state: expected one of up|handshaking|failed|no-key, got string "down"'],
    [{ networks: [{ networkId: 'n', peers: [peer('b', 'up', { txBytes: -1 })] }] }, 'datapath.networks[0].peers[0].txBytes: expected an integer >= 0, got number -1'],
    [{ networks: [{ networkId: 'n', peers: [peer('b', 'up', { lastHandshakeWallMs: 'x' })] }] }, 'datapath.networks[0].peers[0].lastHandshakeWallMs: expected an integer >= 0, got string "x"'],
    [{ networks: [], error: 3 }, 'datapath.error: expected a string, got number 3'],
    [{ networks: Array.from({ length: 4097 }, () => ({ networkId: 'n', peers: [] })) }, 'datapath.networks: expected at most 4096 entries, got 4097'],
  ];
  for (const [v, message] of cases) {
    let got = '';
    try {
      parseDatapathReport(v);
    } catch (e) {
      ok(e instanceof FieldError);
      got = (e as Error).message;
    }
    is(got, message);
  }
});

t('parseDatapathReport: reasons and errors are cut to MAX_REASON_CHARS', () => {
  const long = 'x'.repeat(MAX_REASON_CHARS + 100);
  const r = parseDatapathReport({ networks: [{ networkId: 'n', peers: [peer('b', 'failed', { reason: long })] }], error: long });
  is(r.networks[0]!.peers[0]!.reason.length, MAX_REASON_CHARS);
  ok(r.networks[0]!.peers[0]!.reason.endsWith('...'));
  is(r.error!.length, MAX_REASON_CHARS);
});

t('heartbeatReport: nothing from a null body or one without datapath; an unreadable one becomes an error report, never a throw', () => {
  is(heartbeatReport(null), undefined);
  is(heartbeatReport(undefined), undefined);
  is(heartbeatReport({}), undefined);
  is(heartbeatReport({ datapath: null }), undefined);
  equal(heartbeatReport({ datapath: { networks: [] } }), { networks: [] });
  equal(heartbeatReport({ datapath: { networks: 'no' } }), {
    networks: [],
    error: "the leader could not read this node's data path report: datapath.networks: expected an array",
  });
});

// ---- the dispatcher keeps the latest report per node ----------------------------

function dispatcher(w: World): Dispatcher {
  return new Dispatcher({
    clock: w.clock,
    nodes: () => w.store.list('node'),
    periodMs: () => 1000,
    assignment: () => ({}),
    setStatus: () => {},
  });
}

t('dispatcher: the latest report per node; a heartbeat without one clears it; dropped when the session ends, the node is removed or marked down', async () => {
  const w = await world(SEED);
  w.node('a');
  w.node('b');
  w.node('c');
  const d = dispatcher(w);
  const [ra, rb, rc] = [new FakeRpc('a'), new FakeRpc('b'), new FakeRpc('c')];
  d.open('a', ra.rpc);
  d.open('b', rb.rpc);
  d.open('c', rc.rpc);
  const r1: DatapathReport = { networks: [{ networkId: 'n', peers: [peer('b', 'up')] }] };
  const r2: DatapathReport = { networks: [], error: 'no datapath' };
  d.heartbeat('a', ra.rpc, { datapath: r1 });
  d.heartbeat('b', rb.rpc, { datapath: r1 });
  d.heartbeat('c', rc.rpc, { datapath: r1 });
  equal(d.reports().get('a'), r1);
  d.heartbeat('a', ra.rpc, { datapath: r2 });
  equal(d.reports().get('a'), r2, 'the latest');
  d.heartbeat('a', ra.rpc, null);
  is(d.reports().has('a'), false, 'nothing said: nothing kept');
  d.heartbeat('a', ra.rpc, { datapath: r1 });
  // An old node's heartbeat (no args) still works.
  equal(d.heartbeat('a', ra.rpc), { periodMs: 1000 });
  is(d.reports().has('a'), false);
  // Session closed: gone.
  rb.close();
  is(d.reports().has('b'), false);
  // Evicted (node rm): gone.
  d.evict('c');
  is(d.reports().has('c'), false);
  // Silent for 3 periods: marked down, report dropped.
  d.heartbeat('a', ra.rpc, { datapath: r1 });
  w.clock.advance(3_000);
  is(d.reports().has('a'), false);
  d.stop();
});

// ---- views ------------------------------------------------------------------------

async function netWorld(): Promise<World & { sec: string }> {
  const w = await world(SEED);
  w.node('a', { hostname: 'alpha' });
  w.node('b', { hostname: 'bravo' });
  w.node('c', { hostname: 'charlie' });
  const sec = await w.net({ Name: 'sec', Options: { encrypted: '' } });
  return { ...w, sec };
}

t('nodeDataPath: networks by id with their names, peers by hostname, times as RFC 3339, the error kept', async () => {
  const w = await netWorld();
  const r: DatapathReport = {
    networks: [
      { networkId: 'zz-gone', peers: [] },
      { networkId: w.sec, peers: [peer('c', 'failed', { reason: 'handshake timed out' }), peer('b', 'up', { txBytes: 5, rxBytes: 6 })] },
    ],
    error: 'half broken',
  };
  const nets = [w.sec, 'zz-gone'].sort();
  const v = nodeDataPath(w.store, r);
  equal(v.Networks.map((n) => [n.NetworkID, n.Name]), nets.map((id) => [id, id === w.sec ? 'sec' : '']));
  equal(v.Networks.find((n) => n.NetworkID === w.sec)!.Peers, [
    { NodeID: 'b', Hostname: 'bravo', State: 'up', Reason: '', LastHandshake: ISO, TxBytes: 5, RxBytes: 6 },
    { NodeID: 'c', Hostname: 'charlie', State: 'failed', Reason: 'handshake timed out', LastHandshake: null, TxBytes: 100, RxBytes: 200 },
  ]);
  is(v.Error, 'half broken');
  ok(!('Error' in nodeDataPath(w.store, { networks: [] })));
});

t('networkPeers: a row per node with endpoints or a report, the worst session state summed up', async () => {
  const w = await netWorld();
  w.task('ta', 'a', { [w.sec]: '10.0.0.2/24' });
  w.task('tb', 'b', { [w.sec]: '10.0.0.3/24' });
  w.task('tc', 'c', { [w.sec]: '10.0.0.4/24' });
  const net = w.store.get('network', w.sec)!;
  // Nobody reported: every node with endpoints is 'unknown', none is left out.
  equal(networkPeers(w.store, net, new Map()).map((r) => [r.Hostname, r.State, r.Reason]), [
    ['alpha', 'unknown', 'no data path report from this node'],
    ['bravo', 'unknown', 'no data path report from this node'],
    ['charlie', 'unknown', 'no data path report from this node'],
  ]);
  const reports = new Map<string, DatapathReport>([
    ['a', { networks: [{ networkId: w.sec, peers: [peer('b', 'up', { lastHandshakeWallMs: WALL + 1000 }), peer('c', 'up')] }] }],
    ['b', { networks: [{ networkId: w.sec, peers: [peer('a', 'up'), peer('c', 'handshaking'), peer('x', 'no-key')] }] }],
    ['c', { networks: [{ networkId: w.sec, peers: [peer('a', 'failed', { reason: 'no answer' }), peer('b', 'failed', { reason: 'bad psk' })] }] }],
  ]);
  const rows = networkPeers(w.store, net, reports);
  equal(rows.map((r) => [r.NodeID, r.Hostname, r.State, r.Reason, r.LastHandshake, r.TxBytes, r.RxBytes]), [
    ['a', 'alpha', 'up', '', ISO, 200, 400], // the older of the two handshakes
    ['b', 'bravo', 'no-key', 'x: no-key reason', null, 300, 600],
    ['c', 'charlie', 'failed', 'alpha: no answer (and 1 more)', null, 200, 400],
  ]);
  equal(rows[0]!.Sessions.map((s) => [s.NodeID, s.Hostname, s.State]), [['b', 'bravo', 'up'], ['c', 'charlie', 'up']]);
  // An error of the data path as a whole fails the row; a report silent on this network is 'unknown'.
  reports.set('a', { networks: [], error: 'could not open 4789/udp' });
  reports.set('b', { networks: [{ networkId: 'other', peers: [] }] });
  const again = networkPeers(w.store, net, reports);
  equal(again.slice(0, 2).map((r) => [r.NodeID, r.State, r.Reason]), [
    ['a', 'failed', 'could not open 4789/udp'],
    ['b', 'unknown', 'its data path report does not name this network (yet)'],
  ]);
  // Alone on the network: up, and said so.
  w.removeTask('tb');
  w.removeTask('tc');
  const alone = networkPeers(w.store, net, new Map([['a', { networks: [{ networkId: w.sec, peers: [] }] }]]));
  equal(alone.map((r) => [r.NodeID, r.State, r.Reason, r.LastHandshake]), [['a', 'up', 'no other node on this network', null]]);
});

t('network inspect: Peers only on encrypted networks, from the reports NetworkOps is given', async () => {
  const w = await netWorld();
  const plain = await w.net({ Name: 'plain' });
  w.task('ta', 'a', { [w.sec]: '10.0.0.2/24', [plain]: '10.0.1.2/24' });
  w.reports.set('a', { networks: [{ networkId: w.sec, peers: [] }] });
  const sec = await w.networks.inspect('sec');
  equal(sec.Peers!.map((r) => [r.NodeID, r.State]), [['a', 'up']]);
  ok(!('Peers' in (await w.networks.inspect('plain'))));
  // Listing does not carry them (as docker's GET /networks).
  ok((await w.networks.list()).every((n) => !('Peers' in n)));
});

t.run();
