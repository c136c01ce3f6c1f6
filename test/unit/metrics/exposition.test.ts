// agent/metrics/exposition.ts: the Prometheus text format 0.0.4 as written,
// golden, and read back by an independent parser (text-format.ts).
import { suite, equal, is, throws } from '../../harness.js';
import { EXPOSITION_CONTENT_TYPE, MetricSet, escapeHelp, escapeLabelValue, formatValue } from '../../../agent/metrics/exposition.js';
import { seededRand } from '../../../shared/rand.js';
import { parseExposition, valueOf } from './text-format.js';

const t = suite('metrics/exposition');

t('golden: families sorted by name, HELP and TYPE once each, samples sorted by labels, a line feed after every line', () => {
  const m = new MetricSet();
  const drops = m.counter('agent_b_drops_total', 'Drops, by reason.', ['reason']);
  drops.add({ reason: 'spoofed' }, 2).add({ reason: 'malformed' }, 1);
  m.gauge('agent_a_up', 'Up.').add({}, 1);
  m.gauge('agent_c_empty', 'Declared, nothing added.', ['x']);
  is(
    m.render(),
    [
      '# HELP agent_a_up Up.',
      '# TYPE agent_a_up gauge',
      'agent_a_up 1',
      '# HELP agent_b_drops_total Drops, by reason.',
      '# TYPE agent_b_drops_total counter',
      'agent_b_drops_total{reason="malformed"} 1',
      'agent_b_drops_total{reason="spoofed"} 2',
      '# HELP agent_c_empty Declared, nothing added.',
      '# TYPE agent_c_empty gauge',
      '',
    ].join('\n'),
  );
  is(EXPOSITION_CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8');
  is(new MetricSet().render(), '');
});

t('escaping: label values escape backslash, double quote and line feed; HELP escapes backslash and line feed only', () => {
  is(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  is(escapeHelp('say "hi"\\\nbye'), 'say "hi"\\\\\\nbye');
  const m = new MetricSet();
  m.gauge('agent_x', 'Quotes "stay", a \\ doubles,\nline feeds become \\n.', ['name', 'other']).add({ name: 'we"ird\\\nname', other: 'é ✓' }, 3);
  const text = m.render();
  is(text.split('\n').length, 4, 'no raw line feed inside a line');
  const fams = parseExposition(text);
  equal(fams.get('agent_x')!.samples, [{ labels: { name: 'we"ird\\\nname', other: 'é ✓' }, value: 3 }]);
  is(fams.get('agent_x')!.help, 'Quotes "stay", a \\ doubles,\nline feeds become \\n.');
});

t('values: integers plainly, fractions, +Inf, -Inf, NaN; adding to the same labels sums', () => {
  equal([0, 42, 1.5, -2, 1e21, Infinity, -Infinity, NaN].map(formatValue), ['0', '42', '1.5', '-2', '1e+21', '+Inf', '-Inf', 'NaN']);
  const m = new MetricSet();
  m.counter('agent_n_total', 'N.', ['k']).add({ k: 'a' }, 1).add({ k: 'a' }, 2);
  m.gauge('agent_t', 'T.').add({}, 1_767_225_600.5);
  const fams = parseExposition(m.render());
  is(valueOf(fams, 'agent_n_total', { k: 'a' }), 3);
  is(valueOf(fams, 'agent_t'), 1_767_225_600.5);
  is(fams.get('agent_n_total')!.type, 'counter');
  is(fams.get('agent_t')!.type, 'gauge');
});

t('the same name again is the same family; declared differently, or a bad name or label set, throws naming it', () => {
  const m = new MetricSet();
  m.gauge('agent_g', 'G.', ['a']).add({ a: '1' }, 1);
  m.gauge('agent_g', 'G.', ['a']).add({ a: '1' }, 1);
  is(valueOf(parseExposition(m.render()), 'agent_g', { a: '1' }), 2);
  throws(() => m.counter('agent_g', 'G.', ['a']), /agent_g: declared twice, differently/);
  throws(() => m.gauge('agent_g', 'G.', ['b']), /agent_g: declared twice, differently/);
  throws(() => m.counter('agent_flows', 'F.'), /counter agent_flows: a counter's name ends in _total/);
  throws(() => m.gauge('agent-bad', 'B.'), /metric name: expected .*, got "agent-bad"/);
  throws(() => m.gauge('agent_l', 'L.', ['__reserved']), /label name: .* got "__reserved"/);
  throws(() => m.gauge('agent_d', 'D.', ['a', 'a']), /agent_d: a label name is declared twice/);
  const f = m.gauge('agent_s', 'S.', ['a', 'b']);
  throws(() => f.add({ a: 'x' } as never, 1), /agent_s: expected labels \{a,b\}, got \{a\}/);
  throws(() => f.add({ a: 'x', b: 'y', c: 'z' } as never, 1), /agent_s: expected labels \{a,b\}, got \{a,b,c\}/);
});

t('stable: the same samples added in any order render the same bytes, and always parse (seeded)', () => {
  const seed = 11;
  const rand = seededRand(seed);
  const samples = Array.from({ length: 40 }, (_, i) => ({ fam: `agent_f${i % 5}`, k: `v${rand.int(7)}`, v: rand.int(1000) }));
  const render = (order: typeof samples) => {
    const m = new MetricSet();
    for (const s of order) m.gauge(s.fam, `Family ${s.fam}.`, ['k']).add({ k: s.k }, s.v);
    return m.render();
  };
  const base = render(samples);
  for (let round = 0; round < 20; round++) {
    const shuffled = [...samples];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = rand.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    is(render(shuffled), base, `seed ${seed} round ${round}`);
  }
  const fams = parseExposition(base);
  equal([...fams.keys()], ['agent_f0', 'agent_f1', 'agent_f2', 'agent_f3', 'agent_f4']);
  for (const f of fams.values()) {
    const keys = f.samples.map((s) => s.labels['k']!);
    equal(keys, [...keys].sort(), `${f.name}: samples sorted`);
    is(new Set(keys).size, keys.length, `${f.name}: each label set once`);
  }
});

t('the test parser refuses what the format forbids (so the e2e check means something)', () => {
  throws(() => parseExposition('agent_x 1'), /line feed/);
  throws(() => parseExposition('agent_x one\n'), /not a HELP, TYPE or sample/);
  throws(() => parseExposition('agent_x{a="1} 1\n'), /bad label pair/);
  throws(() => parseExposition('# TYPE agent_x gauge\n# TYPE agent_x gauge\n'), /second TYPE/);
  throws(() => parseExposition('agent_x 1\n# TYPE agent_x gauge\n'), /TYPE after samples/);
  throws(() => parseExposition('agent_x 1\nagent_y 1\nagent_x 2\n'), /split/);
  throws(() => parseExposition('agent_x{a="1",a="2"} 1\n'), /label a twice/);
});

t.run();
