// Durations as docker's flags take them (--cert-expiry 2160h,
// --dispatcher-heartbeat 5s): Go's time.ParseDuration syntax, a signed
// sequence of decimal numbers, each with an optional fraction and a unit,
// such as 300ms, 1.5h or 2h45m. Units: ns, us (or µs), ms, s, m, h.
import { UsageError } from '../../shared/errors.js';

const NS_PER_UNIT: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // micro sign
  ['\u03bcs', 1_000n], // Greek small letter mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

// Go's time.Duration is an int64 of nanoseconds: about 2562047h.
const MAX_NS = (1n << 63n) - 1n;
const MIN_NS = -(1n << 63n);

const COMPONENT_RE = /^(\d*)(?:\.(\d*))?([^\d.]*)/;

/** Go duration text to nanoseconds, or undefined when it is not one (or overflows an int64). */
function parseNs(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;
  let total = 0n;
  while (s !== '') {
    const m = COMPONENT_RE.exec(s)!;
    const [all, int = '', frac, unit = ''] = m;
    if (int === '' && !frac) return undefined; // no digits at all: "", ".", "s"
    const perUnit = NS_PER_UNIT.get(unit);
    if (perUnit === undefined) return undefined; // missing or unknown unit
    let v = BigInt(int || '0') * perUnit;
    // Fractions are truncated to whole nanoseconds, as Go does.
    if (frac) v += (BigInt(frac) * perUnit) / 10n ** BigInt(frac.length);
    total += v;
    if (total > -MIN_NS) return undefined;
    s = s.slice(all.length);
  }
  if (neg) return -total;
  return total > MAX_NS ? undefined : total;
}

/**
 * The duration in milliseconds (fractional below 1 ms, negative when signed
 * so). Throws a UsageError naming `flag` when text is not a Go duration.
 */
export function parseDuration(text: string, flag: string): number {
  const ns = parseNs(text);
  if (ns === undefined) {
    throw new UsageError(`${flag}: expected a duration such as 500ms, 90s, 1h30m or 2160h (units ns, us, ms, s, m, h), got "${text}"`);
  }
  // Whole and fractional milliseconds apart: exact up to 2^53 ms, far past Go's limit.
  return Number(ns / 1_000_000n) + Number(ns % 1_000_000n) / 1e6;
}

/** A flag that sets a period: a duration above zero, in whole milliseconds (what the API carries). */
export function parsePeriodMs(text: string, flag: string): number {
  const ms = parseDuration(text, flag);
  if (ms <= 0) throw new UsageError(`${flag}: expected a duration greater than 0, got "${text}"`);
  if (!Number.isInteger(ms)) throw new UsageError(`${flag}: expected a whole number of milliseconds, got "${text}"`);
  return ms;
}
