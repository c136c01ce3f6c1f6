// Checkers for values decoded from the log (STYLE habit 9: validate at the
// boundary, name the field, say what was expected and what came). A checker
// returns a fresh value built only from what it checked, so nothing decoded
// (Buffers, prototypes, shared arrays) leaks into the store.

/** Thrown by checkers; the store turns it into an InvalidCommandError. */
export class FieldError extends Error {
  override name = 'FieldError';
}

export type Check<T> = (v: unknown, path: string) => T;

/** What came, for messages: `number 3`, `string "x"`, `array`, `map`. */
function what(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return 'byte string';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${v}`;
  if (typeof v === 'object') return Object.getPrototypeOf(v) === Object.prototype ? 'map' : `object ${v.constructor?.name ?? ''}`.trim();
  return typeof v;
}

function fail(path: string, expected: string, v: unknown): never {
  throw new FieldError(`${path}: expected ${expected}, got ${what(v)}`);
}

export const str: Check<string> = (v, path) => (typeof v === 'string' ? v : fail(path, 'a string', v));

export const nonEmpty: Check<string> = (v, path) => (typeof v === 'string' && v.length > 0 ? v : fail(path, 'a non-empty string', v));

export const bool: Check<boolean> = (v, path) => (typeof v === 'boolean' ? v : fail(path, 'a boolean', v));

/** A safe integer >= min. */
export function int(min = 0): Check<number> {
  return (v, path) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= min ? v : fail(path, `an integer >= ${min}`, v));
}

export const bytes: Check<Uint8Array> = (v, path) => (v instanceof Uint8Array ? new Uint8Array(v) : fail(path, 'a byte string', v));

export function exactly<T extends string | number | boolean>(value: T): Check<T> {
  return (v, path) => (v === value ? value : fail(path, JSON.stringify(value), v));
}

export function oneOf<T extends string>(...values: T[]): Check<T> {
  const allowed = new Set<string>(values);
  return (v, path) => (typeof v === 'string' && allowed.has(v) ? (v as T) : fail(path, `one of ${values.join('|')}`, v));
}

export function arrayOf<T>(item: Check<T>): Check<T[]> {
  return (v, path) => (Array.isArray(v) ? v.map((x, i) => item(x, `${path}[${i}]`)) : fail(path, 'an array', v));
}

function plainMap(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) fail(path, 'a map', v);
  return v as Record<string, unknown>;
}

/** A map from non-empty strings to values, e.g. labels or network id -> address. */
export function recordOf<T>(value: Check<T>): Check<Record<string, T>> {
  return (v, path) => {
    const m = plainMap(v, path);
    const out: Record<string, T> = {};
    for (const k of Object.keys(m)) {
      if (k.length === 0) throw new FieldError(`${path}: keys must be non-empty strings`);
      out[k] = value(m[k], `${path}.${k}`);
    }
    return out;
  };
}

const OPTIONAL = Symbol('optional');
type Optional<T> = Check<T | undefined> & { [OPTIONAL]: true };

/** A field that may be absent. */
export function opt<T>(c: Check<T>): Optional<T> {
  const f = ((v: unknown, path: string) => (v === undefined ? undefined : c(v, path))) as Optional<T>;
  f[OPTIONAL] = true;
  return f;
}

type Shape = Record<string, Check<unknown>>;
type Out<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> };

/** A map with exactly these fields: unknown fields are refused so a typo never goes unnoticed. */
export function obj<S extends Shape>(shape: S): Check<Out<S>> {
  const keys = Object.keys(shape);
  return (v, path) => {
    const m = plainMap(v, path);
    for (const k of Object.keys(m)) {
      if (!Object.hasOwn(shape, k)) throw new FieldError(`${path}: unknown field ${JSON.stringify(k)}`);
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const c = shape[k]!;
      if (!(k in m) && !(OPTIONAL in c)) throw new FieldError(`${path}.${k}: missing`);
      const x = c(m[k], `${path}.${k}`);
      if (x !== undefined) out[k] = x;
    }
    return out as Out<S>;
  };
}
