// What every program a bench starts inside the test bed shares, whatever it
// measures (discovery-*.ts, mesh-load.ts): `--key value` flags checked
// against a spec with one-line errors, one JSON line on stdout, and
// nearest-rank percentiles. No dependencies: each program is its own bundle
// and inlines this file.
import { writeSync } from 'node:fs';

/** One line of JSON on stdout, written synchronously (the program may exit right after). */
export const line = (o: object): void => void writeSync(1, `${JSON.stringify(o)}\n`);

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** ipv4s: one or more IPv4 addresses, comma-separated. */
export type FlagKind = 'int' | 'ipv4' | 'ipv4s' | 'name' | 'bool';

/**
 * `--key value` pairs (a bool flag takes no value) against spec: every key
 * known, every value of its kind, every key without a default given. Throws
 * one line naming the flag, what was expected and what came.
 */
export function parseFlags<S extends Record<string, FlagKind>>(
  argv: readonly string[],
  spec: S,
  defaults: Partial<Record<keyof S, string | number | boolean>>,
): Record<keyof S, string | number | boolean> {
  const out: Partial<Record<keyof S, string | number | boolean>> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const key = flag.replace(/^--/, '');
    const kind = spec[key];
    if (!flag.startsWith('--') || kind === undefined) throw new Error(`unknown argument ${flag}; expected one of ${Object.keys(spec).map((k) => `--${k}`).join(', ')}`);
    if (kind === 'bool') {
      out[key as keyof S] = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${flag}: expected a value`);
    if (kind === 'int') {
      const n = Number(v);
      if (!Number.isSafeInteger(n)) throw new Error(`${flag}: expected an integer, got ${JSON.stringify(v)}`);
      out[key as keyof S] = n;
    } else if (kind === 'ipv4') {
      if (!IPV4.test(v)) throw new Error(`${flag}: expected an IPv4 address, got ${JSON.stringify(v)}`);
      out[key as keyof S] = v;
    } else if (kind === 'ipv4s') {
      if (!v.split(',').every((x) => IPV4.test(x))) throw new Error(`${flag}: expected comma-separated IPv4 addresses, got ${JSON.stringify(v)}`);
      out[key as keyof S] = v;
    } else {
      if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(v)) throw new Error(`${flag}: expected a DNS name, got ${JSON.stringify(v)}`);
      out[key as keyof S] = v;
    }
  }
  for (const key of Object.keys(spec)) if (out[key as keyof S] === undefined && spec[key] !== 'bool') throw new Error(`--${key}: required`);
  return out as Record<keyof S, string | number | boolean>;
}

/** Nearest-rank percentile of sorted values (q in 0..1); undefined for none. */
export function percentile(sorted: ArrayLike<number>, q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
