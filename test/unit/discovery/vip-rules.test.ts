// vip-rules.ts: which backends each VIP has for an endpoint, and the golden
// nft scripts (issue 9, DESIGN §5). test/e2e/vip-rules.test.ts loads the same
// scripts into real namespaces.
import { suite, equal, is, throws, not } from '../../harness.js';
import { nftScript, vipKey, vipTable, VIP_TABLE, type VipMap } from '../../../agent/discovery/vip-rules.js';
import { seededRand } from '../../../shared/rand.js';
import type { DiscoveryView, ServiceRecord } from '../../../agent/discovery/records.js';

const t = suite('vip-rules');

function view(byNet: Record<string, ServiceRecord[]>): DiscoveryView {
  return { records: (nid) => byNet[nid] ?? [], networkId: () => undefined };
}

const task = (service: string, n: number, ip: string, vip?: string): ServiceRecord => ({
  name: `${service}.${n}.x${n}`,
  ip,
  service,
  ...(vip === undefined ? {} : { vip }),
});

const asObject = (m: VipMap) => Object.fromEntries(m);

t('vipTable: each VIP of the endpoint networks -> its tasks there, numerically sorted and unique', () => {
  const v = view({
    front: [
      task('web', 1, '10.0.1.10', '10.0.1.2'),
      task('web', 2, '10.0.1.9', '10.0.1.2'),
      task('web', 3, '10.0.1.9', '10.0.1.2'), // the same IP twice (two endpoint keys): one backend
      task('api', 1, '10.0.1.20', '10.0.1.3'),
      task('dns', 1, '10.0.1.30'), // dnsrr: no VIP, no rule
      { name: 'standalone', ip: '10.0.1.40' },
    ],
    back: [task('db', 1, '10.0.2.5', '10.0.2.2'), task('web', 4, '10.0.2.7', '10.0.2.4')],
    other: [task('secret', 1, '10.0.3.5', '10.0.3.2')],
  });
  equal(asObject(vipTable(['front', 'back'], v)), {
    '10.0.1.2': ['10.0.1.9', '10.0.1.10'],
    '10.0.1.3': ['10.0.1.20'],
    '10.0.2.2': ['10.0.2.5'],
    '10.0.2.4': ['10.0.2.7'], // web's VIP on back has only back's task
  });
  equal([...vipTable(['front', 'back'], v).keys()], ['10.0.1.2', '10.0.1.3', '10.0.2.2', '10.0.2.4']);
  equal(asObject(vipTable([], v)), {});
  equal(asObject(vipTable(['gone'], v)), {});
});

t('vipTable: records that are not dotted quads are skipped, never written into a rule', () => {
  const v = view({
    n: [
      task('web', 1, '10.0.0.5', '10.0.0.2'),
      task('web', 2, '10.0.0.6 } ; flush ruleset', '10.0.0.2'),
      task('web', 3, '10.0.0.7', '010.0.0.2'),
      task('x', 1, '10.0.0.8', 'vip'),
    ],
  });
  equal(asObject(vipTable(['n'], v)), { '10.0.0.2': ['10.0.0.5'] });
});

t('vipTable: a VIP on two of the endpoint networks keeps the first network backends', () => {
  const v = view({ a: [task('s', 1, '10.5.0.5', '10.5.0.2')], b: [task('t', 1, '10.5.0.6', '10.5.0.2')] });
  equal(asObject(vipTable(['b', 'a'], v)), { '10.5.0.2': ['10.5.0.6'] });
  equal(asObject(vipTable(['a', 'b', 'a'], v)), { '10.5.0.2': ['10.5.0.5'] });
});

t('nftScript: golden, random choice among several backend chains, a goto for one, reject for none; each backend chain counts its flows', () => {
  const m: VipMap = new Map([
    ['10.0.1.3', ['10.0.1.20']],
    ['10.0.1.2', ['10.0.1.10', '10.0.1.9', '10.0.1.11']],
    ['10.0.1.5', []],
    ['10.0.1.4', []],
  ]);
  is(
    nftScript(m),
    [
      'table ip agent_lb {}',
      'delete table ip agent_lb',
      'table ip agent_lb {',
      '\tchain vip_dnat {',
      '\t\ttype nat hook output priority -100; policy accept;',
      '\t\tct state new counter',
      '\t\tip daddr 10.0.1.2 numgen random mod 3 vmap { 0 : goto be_10_0_1_2_0, 1 : goto be_10_0_1_2_1, 2 : goto be_10_0_1_2_2 }',
      '\t\tip daddr 10.0.1.3 goto be_10_0_1_3_0',
      '\t}',
      '\tchain be_10_0_1_2_0 {',
      '\t\tcounter dnat to 10.0.1.9',
      '\t}',
      '\tchain be_10_0_1_2_1 {',
      '\t\tcounter dnat to 10.0.1.10',
      '\t}',
      '\tchain be_10_0_1_2_2 {',
      '\t\tcounter dnat to 10.0.1.11',
      '\t}',
      '\tchain be_10_0_1_3_0 {',
      '\t\tcounter dnat to 10.0.1.20',
      '\t}',
      '\tchain vip_reject {',
      '\t\ttype filter hook output priority 0; policy accept;',
      '\t\tip daddr { 10.0.1.4, 10.0.1.5 } meta l4proto tcp reject with tcp reset',
      '\t\tip daddr { 10.0.1.4, 10.0.1.5 } reject with icmp type port-unreachable',
      '\t}',
      '}',
      '',
    ].join('\n'),
  );
  is(VIP_TABLE, 'agent_lb');
});

t('nftScript: no VIP still replaces the table and keeps conntrack on (established flows stay translated)', () => {
  is(
    nftScript(new Map()),
    [
      'table ip agent_lb {}',
      'delete table ip agent_lb',
      'table ip agent_lb {',
      '\tchain vip_dnat {',
      '\t\ttype nat hook output priority -100; policy accept;',
      '\t\tct state new counter',
      '\t}',
      '}',
      '',
    ].join('\n'),
  );
});

t('nftScript and vipKey: deterministic whatever the order or duplicates of the input', () => {
  const a: VipMap = new Map([
    ['10.0.0.2', ['10.0.0.9', '10.0.0.10']],
    ['10.0.0.3', []],
  ]);
  const b: VipMap = new Map([
    ['10.0.0.3', []],
    ['10.0.0.2', ['10.0.0.10', '10.0.0.9', '10.0.0.10']],
  ]);
  is(nftScript(a), nftScript(b));
  is(vipKey(a), vipKey(b));
  is(vipKey(a), '10.0.0.2>10.0.0.9,10.0.0.10;10.0.0.3>');
  is(vipKey(new Map()), '');
  not.equal(vipKey(a), vipKey(new Map([['10.0.0.2', ['10.0.0.9', '10.0.0.10']]])));
  // A VIP with no backend differs from no VIP at all: one refuses, the other is not ours.
  not.equal(vipKey(new Map([['10.0.0.3', []]])), vipKey(new Map()));
});

t('nftScript and vipKey: a bad address throws, naming it', () => {
  throws(() => nftScript(new Map([['10.0.0.256', ['10.0.0.5']]])), /^nftScript: VIP "10\.0\.0\.256" is not an IPv4 address \(expected A\.B\.C\.D\)$/);
  throws(() => nftScript(new Map([['10.0.0.2', ['10.0.0.5', '10.0.0.6 }']]])), /^nftScript: backend "10\.0\.0\.6 }" of VIP 10\.0\.0\.2 is not an IPv4 address \(expected A\.B\.C\.D\)$/);
  throws(() => vipKey(new Map([['', []]])), /^vipKey: VIP "" is not an IPv4 address/);
});

t('vipTable against a dumb twin on seeded random records; its output always renders', () => {
  const seed = 7;
  const rand = seededRand(seed);
  const next = (n: number): number => rand.int(n);
  for (let round = 0; round < 200; round++) {
    const recs: ServiceRecord[] = [];
    for (let i = 0; i < next(12); i++) {
      const s = next(4);
      recs.push(task(`s${s}`, i, `10.1.${next(3)}.${next(256)}`, next(5) === 0 ? undefined : `10.1.9.${s}`));
    }
    const m = vipTable(['n'], view({ n: recs }));
    // The dumb twin: VIP -> the set of its records' IPs.
    const twin = new Map<string, Set<string>>();
    for (const r of recs) if (r.vip) twin.set(r.vip, (twin.get(r.vip) ?? new Set()).add(r.ip));
    equal(
      Object.fromEntries([...m].map(([k, v]) => [k, [...v].sort()])),
      Object.fromEntries([...twin].map(([k, v]) => [k, [...v].sort()])),
      `seed ${seed} round ${round}`,
    );
    for (const [, b] of m) is(b.length > 0, true);
    const script = nftScript(m);
    is(script.includes('vip_reject'), false);
    is(script.split('\n').filter((l) => l.includes('dnat to')).length, [...m.values()].reduce((n, b) => n + b.length, 0), 'one counted dnat per backend');
    is(script.split('\n').filter((l) => /^\t\tip daddr \S+ (goto|numgen)/.test(l)).length, m.size, 'one spreading rule per VIP');
  }
});

t.run();
