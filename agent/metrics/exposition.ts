// The Prometheus text exposition format, version 0.0.4 (issue 11), written
// by hand: the format is a few lines of rules and a client library would be
// the agent's first runtime dependency for it. REFERENCE: prometheus.io,
// "Exposition formats", text format details:
//
//   # HELP <name> <text>          text escapes \ as \\ and a line feed as \n
//   # TYPE <name> counter|gauge   once per family, before its samples
//   <name>{<label>="<value>",...} <value>
//                                 values escape \ as \\, " as \" and a line feed as \n
//
// A MetricSet is made afresh for every scrape: the collector adds each
// sample (adding to the same labels twice sums them), and render() writes
// the families sorted by name, each family's samples sorted by their label
// text, so equal inputs give equal bytes whatever order they were added in.
// Every line ends with a line feed, the last one too.

export type MetricType = 'counter' | 'gauge';

/** The Content-Type of the output (the version names the format, the charset its bytes). */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
// Names beginning with __ are reserved for Prometheus's own use.
const LABEL_NAME_RE = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value as the format writes it between double quotes. */
export function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** HELP text as the format writes it (a double quote stays as it is there). */
export function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** A sample value: integers as integers, +Inf, -Inf and NaN as the format spells them (Go's ParseFloat). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** One family's samples, added under its declared label names. */
export class Family<L extends string = string> {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly labelNames: readonly L[];
  /** Label text (`a="x",b="y"`, in declared order) -> value. */
  readonly #samples = new Map<string, number>();

  constructor(name: string, help: string, type: MetricType, labelNames: readonly L[]) {
    if (!METRIC_NAME_RE.test(name)) throw new RangeError(`metric name: expected [a-zA-Z_:][a-zA-Z0-9_:]*, got ${JSON.stringify(name)}`);
    if (type === 'counter' && !name.endsWith('_total')) throw new RangeError(`counter ${name}: a counter's name ends in _total`);
    for (const l of labelNames) {
      if (!LABEL_NAME_RE.test(l)) throw new RangeError(`${name}: label name: expected [a-zA-Z_][a-zA-Z0-9_]* not starting with __, got ${JSON.stringify(l)}`);
    }
    if (new Set(labelNames).size !== labelNames.length) throw new RangeError(`${name}: a label name is declared twice`);
    this.name = name;
    this.help = help;
    this.type = type;
    this.labelNames = labelNames;
  }

  /** Adds value to the sample with these labels (every declared label, no other). */
  add(labels: Readonly<Record<L, string>>, value: number): this {
    const given = Object.keys(labels);
    if (given.length !== this.labelNames.length || given.some((k) => !this.labelNames.includes(k as L))) {
      throw new RangeError(`${this.name}: expected labels {${this.labelNames.join(',')}}, got {${given.join(',')}}`);
    }
    if (typeof value !== 'number') throw new RangeError(`${this.name}: expected a number, got ${typeof value}`);
    const key = this.labelNames.map((l) => `${l}="${escapeLabelValue(labels[l])}"`).join(',');
    this.#samples.set(key, (this.#samples.get(key) ?? 0) + value);
    return this;
  }

  /** The family's lines, samples sorted by label text. */
  lines(): string[] {
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    const keys = [...this.#samples.keys()].sort();
    for (const k of keys) out.push(`${this.name}${k === '' ? '' : `{${k}}`} ${formatValue(this.#samples.get(k)!)}`);
    return out;
  }
}

/** The families of one scrape. */
export class MetricSet {
  readonly #families = new Map<string, Family>();

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Family<L> {
    return this.#family(name, help, 'counter', labelNames);
  }

  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Family<L> {
    return this.#family(name, help, 'gauge', labelNames);
  }

  /** The same name again returns the same family, if declared the same way. */
  #family<L extends string>(name: string, help: string, type: MetricType, labelNames: readonly L[]): Family<L> {
    const have = this.#families.get(name);
    if (have) {
      if (have.type !== type || have.help !== help || have.labelNames.join() !== labelNames.join()) throw new RangeError(`${name}: declared twice, differently`);
      return have as unknown as Family<L>;
    }
    const f = new Family<L>(name, help, type, labelNames);
    this.#families.set(name, f as unknown as Family);
    return f;
  }

  /** The whole exposition: families sorted by name, each HELP and TYPE once, a line feed after every line. */
  render(): string {
    const names = [...this.#families.keys()].sort();
    return names.flatMap((n) => this.#families.get(n)!.lines()).map((l) => `${l}\n`).join('');
  }
}
