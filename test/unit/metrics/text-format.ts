// A strict reader of the Prometheus text format 0.0.4, for tests (the unit
// tests of agent/metrics/ and test/e2e/metrics.test.ts): every line must be a
// HELP, a TYPE or a sample; HELP and TYPE at most once per family and before
// its samples; a family's samples together; label values unescaped. Throws
// naming the line that breaks a rule. Written from prometheus.io's
// "Exposition formats" (text format details), not from the writer under test.

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  help?: string;
  type?: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const VALUE = '(?:[+-]?Inf|NaN|[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)';
const HELP_RE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_RE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (${VALUE})(?: (-?\\d+))?$`);
const PAIR_RE = new RegExp(`^(${LABEL})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`);

function unescape(v: string, help: boolean): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === '\\' ? '\\' : !help && c === '"' ? '"' : `\\${c}`));
}

function parseValue(v: string): number {
  if (/^[+]?Inf$/.test(v)) return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'NaN') return NaN;
  return Number(v);
}

function parseLabels(text: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = text;
  while (rest !== '') {
    const m = PAIR_RE.exec(rest);
    if (!m) throw new Error(`${where}: bad label pair at ${JSON.stringify(rest)}`);
    if (m[1]! in out) throw new Error(`${where}: label ${m[1]} twice`);
    out[m[1]!] = unescape(m[2]!, false);
    rest = rest.slice(m[0].length);
    if (rest.startsWith(',')) rest = rest.slice(1);
    else if (rest !== '') throw new Error(`${where}: expected , between labels at ${JSON.stringify(rest)}`);
  }
  return out;
}

/** Families by name, in the order they came. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the last line must end with a line feed');
  const fams = new Map<string, ParsedFamily>();
  let current: string | undefined;
  const closed = new Set<string>();
  const family = (name: string, where: string): ParsedFamily => {
    if (current !== name) {
      if (current !== undefined) closed.add(current);
      if (closed.has(name)) throw new Error(`${where}: family ${name} is split (its lines are not together)`);
      current = name;
    }
    let f = fams.get(name);
    if (!f) fams.set(name, (f = { name, samples: [] }));
    return f;
  };
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, i) => {
    const where = `line ${i + 1} ${JSON.stringify(line)}`;
    let m: RegExpExecArray | null;
    if ((m = HELP_RE.exec(line))) {
      const f = family(m[1]!, where);
      if (f.help !== undefined) throw new Error(`${where}: second HELP`);
      if (f.samples.length > 0) throw new Error(`${where}: HELP after samples`);
      f.help = unescape(m[2]!, true);
    } else if ((m = TYPE_RE.exec(line))) {
      const f = family(m[1]!, where);
      if (f.type !== undefined) throw new Error(`${where}: second TYPE`);
      if (f.samples.length > 0) throw new Error(`${where}: TYPE after samples`);
      f.type = m[2]!;
    } else if ((m = SAMPLE_RE.exec(line))) {
      const f = family(m[1]!, where);
      f.samples.push({ labels: parseLabels(m[2] ?? '', where), value: parseValue(m[3]!) });
    } else {
      throw new Error(`${where}: not a HELP, TYPE or sample line`);
    }
  });
  return fams;
}

/** The value of the one sample of name whose labels include these; undefined when there is none. */
export function valueOf(fams: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = (fams.get(name)?.samples ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${name}${JSON.stringify(labels)}: ${hits.length} samples match`);
  return hits[0]?.value;
}

/** The sum of the samples of name whose labels include these. */
export function sumOf(fams: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number {
  return (fams.get(name)?.samples ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}
