// agent/metrics/lb-counters.ts and agent/host/nft-backends.ts: the backend
// chains' counters read from nft's JSON (golden output of nft 1.0.6 on Linux
// 6.18, from the rules vip-rules.ts and mesh-rules.ts write), and totals that
// stay monotonic while tables are replaced, against a dumb twin.
import { suite, equal, is, throws } from '../../harness.js';
import { backendChain, parseBackendChain, portChainKey, spreadRule, vipChainKey } from '../../../agent/host/nft-backends.js';
import { FlowTotals, parseTableCounts, portOfKey, vipOfKey, type LabelledCount } from '../../../agent/metrics/lb-counters.js';
import { seededRand } from '../../../shared/rand.js';

const t = suite('metrics/lb-counters');

// `nft -j list table ip agent_lb` after 20 flows to 10.9.0.1 (two backends) and 2 to 10.9.0.3 (one).
const LB_JSON = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { table: { family: 'ip', name: 'agent_lb', handle: 5 } },
    { chain: { family: 'ip', table: 'agent_lb', name: 'vip_dnat', handle: 1, type: 'nat', hook: 'output', prio: -100, policy: 'accept' } },
    { chain: { family: 'ip', table: 'agent_lb', name: 'be_10_9_0_1_0', handle: 2 } },
    { rule: { family: 'ip', table: 'agent_lb', chain: 'vip_dnat', handle: 5, expr: [{ match: { op: 'in', left: { ct: { key: 'state' } }, right: 'new' } }, { counter: { packets: 22, bytes: 660 } }] } },
    {
      rule: {
        family: 'ip', table: 'agent_lb', chain: 'vip_dnat', handle: 7,
        expr: [
          { match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: '10.9.0.1' } },
          { vmap: { key: { numgen: { mode: 'random', mod: 2, offset: 0 } }, data: { set: [[0, { goto: { target: 'be_10_9_0_1_0' } }], [1, { goto: { target: 'be_10_9_0_1_1' } }]] } } },
        ],
      },
    },
    { rule: { family: 'ip', table: 'agent_lb', chain: 'be_10_9_0_1_0', handle: 9, expr: [{ counter: { packets: 11, bytes: 330 } }, { dnat: { addr: '10.9.0.5' } }] } },
    { rule: { family: 'ip', table: 'agent_lb', chain: 'be_10_9_0_1_1', handle: 10, expr: [{ counter: { packets: 9, bytes: 270 } }, { dnat: { addr: '10.9.0.6' } }] } },
    { rule: { family: 'ip', table: 'agent_lb', chain: 'be_10_9_0_3_0', handle: 11, expr: [{ counter: { packets: 2, bytes: 60 } }, { dnat: { addr: '10.9.0.7' } }] } },
  ],
});

// `nft -j list table ip agent_mesh` in an ingress sandbox: a backend rule repeats the port match.
const MESH_JSON = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6', json_schema_version: 1 } },
    { table: { family: 'ip', name: 'agent_mesh', handle: 6 } },
    {
      rule: {
        family: 'ip', table: 'agent_mesh', chain: 'be_tcp_8080_0', handle: 6,
        expr: [{ counter: { packets: 4, bytes: 240 } }, { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 8080 } }, { dnat: { addr: '10.9.0.9', port: 80 } }],
      },
    },
  ],
});

t('nft-backends: chain names, keys and the spreading rule', () => {
  is(vipChainKey('10.0.1.2'), '10_0_1_2');
  is(portChainKey('udp', 53), 'udp_53');
  is(backendChain('10_0_1_2', 3), 'be_10_0_1_2_3');
  equal(parseBackendChain('be_10_0_1_2_3'), { key: '10_0_1_2', index: 3 });
  equal(parseBackendChain('be_tcp_8080_0'), { key: 'tcp_8080', index: 0 });
  is(parseBackendChain('vip_dnat'), undefined);
  is(parseBackendChain('prerouting'), undefined);
  is(spreadRule('ip daddr 10.0.1.2', '10_0_1_2', 1), 'ip daddr 10.0.1.2 goto be_10_0_1_2_0');
  is(spreadRule('tcp dport 80', 'tcp_80', 2), 'tcp dport 80 numgen random mod 2 vmap { 0 : goto be_tcp_80_0, 1 : goto be_tcp_80_1 }');
  throws(() => spreadRule('x', 'k', 0), /expected at least one backend, got 0/);
  throws(() => vipChainKey('10.0.1.2 }'), /backend chain key: expected .* got "10_0_1_2 }"/);
});

t('parseTableCounts: each backend chain by its key and its dnat address; other rules ignored', () => {
  equal(parseTableCounts(LB_JSON, 'agent_lb'), {
    handle: 5,
    counts: [
      { key: '10_9_0_1', backend: '10.9.0.5', flows: 11 },
      { key: '10_9_0_1', backend: '10.9.0.6', flows: 9 },
      { key: '10_9_0_3', backend: '10.9.0.7', flows: 2 },
    ],
  });
  equal(parseTableCounts(MESH_JSON, 'agent_mesh'), { handle: 6, counts: [{ key: 'tcp_8080', backend: '10.9.0.9', flows: 4 }] });
  is(vipOfKey('10_9_0_1'), '10.9.0.1');
  is(vipOfKey('tcp_8080'), undefined);
  equal(portOfKey('tcp_8080'), { protocol: 'tcp', published: 8080 });
  is(portOfKey('10_9_0_1'), undefined);
  equal(parseTableCounts('{"nftables":[]}', 'agent_lb'), { handle: -1, counts: [] });
  throws(() => parseTableCounts('{}', 'agent_lb'), /no "nftables" array/);
  throws(() => parseTableCounts('Error: nope', 'agent_lb'));
});

const labelled = (key: string, backend: string, flows: number, service = 'web'): LabelledCount => ({ key, backend, flows, labels: { service, network: 'front', backend } });
const totals = (f: FlowTotals) => Object.fromEntries(f.totals().map((t) => [`${t.labels.service} ${t.labels.backend}`, t.flows]));

t('FlowTotals: growth added per read; a new table handle counts all of it again; summed over namespaces; a gone backend stops showing', () => {
  const f = new FlowTotals();
  f.update('ns1 agent_lb', 5, [labelled('k', '10.0.0.5', 3), labelled('k', '10.0.0.6', 1)]);
  equal(totals(f), { 'web 10.0.0.5': 3, 'web 10.0.0.6': 1 });
  f.update('ns1 agent_lb', 5, [labelled('k', '10.0.0.5', 7), labelled('k', '10.0.0.6', 1)]);
  equal(totals(f), { 'web 10.0.0.5': 7, 'web 10.0.0.6': 1 });
  // Reloaded (scaled): a new handle, counters from 0; what they show now is new.
  f.update('ns1 agent_lb', 9, [labelled('k', '10.0.0.5', 2), labelled('k', '10.0.0.6', 4)]);
  equal(totals(f), { 'web 10.0.0.5': 9, 'web 10.0.0.6': 5 });
  // Another client's netns adds to the same series.
  f.update('ns2 agent_lb', 3, [labelled('k', '10.0.0.5', 10)]);
  equal(totals(f), { 'web 10.0.0.5': 19, 'web 10.0.0.6': 5 });
  // ns1 goes: its counts stay in the series ns2 still has; 10.0.0.6 is in no rule any more.
  f.forget('ns1 agent_lb');
  equal(totals(f), { 'web 10.0.0.5': 19 });
  equal(f.sources, ['ns2 agent_lb']);
  f.update('ns2 agent_lb', 3, [labelled('k', '10.0.0.5', 12)]);
  equal(totals(f), { 'web 10.0.0.5': 21 });
  // Two ports of one service to the same backend (the ingress sandbox): one series, both counted.
  f.update('sb agent_mesh', 1, [labelled('tcp_80', '10.0.0.5', 1), labelled('tcp_443', '10.0.0.5', 2)]);
  equal(totals(f), { 'web 10.0.0.5': 24 });
  f.update('sb agent_mesh', 1, [labelled('tcp_80', '10.0.0.5', 2), labelled('tcp_443', '10.0.0.5', 4)]);
  equal(totals(f), { 'web 10.0.0.5': 27 });
});

t('FlowTotals against a dumb twin: never decreasing, exact when every reload is read (seeded)', () => {
  const seed = 5;
  const rand = seededRand(seed);
  const f = new FlowTotals();
  const twin = new Map<string, number>();
  // One netns, backends 10.0.0.0-3; the table is reloaded now and then (handle up, counters 0), and read after every step.
  let handle = 1;
  let counters = new Map<string, number>();
  let last = new Map<string, number>();
  for (let step = 0; step < 500; step++) {
    if (rand.int(10) === 0) {
      handle++;
      counters = new Map();
    }
    const b = `10.0.0.${rand.int(4)}`;
    const n = rand.int(3);
    counters.set(b, (counters.get(b) ?? 0) + n);
    twin.set(b, (twin.get(b) ?? 0) + n);
    f.update('ns', handle, [...counters].map(([ip, v]) => labelled('k', ip, v)));
    // The twin: a backend absent from the rules is not shown, and starts again from 0.
    for (const ip of [...twin.keys()]) if (!counters.has(ip)) twin.delete(ip);
    const now = new Map(f.totals().map((t) => [t.labels.backend, t.flows]));
    equal(now, twin, `seed ${seed} step ${step}`);
    for (const [ip, v] of now) is(v >= (last.get(ip) ?? 0), true, `seed ${seed} step ${step}: ${ip} went down`);
    last = now;
  }
});

t.run();
