// Durations in Go's time.ParseDuration syntax, as docker's flags take them.
import { suite, is, throws } from '../../harness.js';
import { parseDuration, parsePeriodMs } from '../../../agent/cli/duration.js';
import { UsageError } from '../../../shared/errors.js';

const t = suite('duration');

t('Go durations become milliseconds', () => {
  const cases: [string, number][] = [
    ['5s', 5_000],
    ['500ms', 500],
    ['90m', 5_400_000],
    ['2160h', 7_776_000_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['2h45m30.5s', 9_930_500],
    ['.5s', 500],
    ['1.s', 1_000],
    ['1500us', 1.5],
    ['1500\u00b5s', 1.5],
    ['1500\u03bcs', 1.5],
    ['2000000ns', 2],
    ['0', 0],
    ['0s', 0],
    ['+5s', 5_000],
    ['-5s', -5_000],
    ['2562047h', 9_223_369_200_000], // near Go's limit, 2^63 - 1 ns
  ];
  for (const [text, ms] of cases) is(parseDuration(text, '--x'), ms, text);
});

t('what Go refuses is a UsageError naming the flag and what came', () => {
  for (const bad of ['', '5', '5d', 's', '.s', '.', '1h 30m', '--5s', '1e3s', 'h1', '5S', '2562048h', '9223372036854775808ns']) {
    throws(
      () => parseDuration(bad, '--cert-expiry'),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message === `--cert-expiry: expected a duration such as 500ms, 90s, 1h30m or 2160h (units ns, us, ms, s, m, h), got "${bad}"`,
      bad,
    );
  }
});

t('a period is above zero and in whole milliseconds', () => {
  is(parsePeriodMs('1h', '--key-rotation'), 3_600_000);
  throws(() => parsePeriodMs('0s', '--key-rotation'), /^--key-rotation: expected a duration greater than 0, got "0s"$/);
  throws(() => parsePeriodMs('-1m', '--key-rotation'), /^--key-rotation: expected a duration greater than 0, got "-1m"$/);
  throws(() => parsePeriodMs('1500us', '--key-rotation'), /^--key-rotation: expected a whole number of milliseconds, got "1500us"$/);
});

t.run();
