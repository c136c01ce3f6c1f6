// The `--format` option of commands that print one object: a table for
// people by default, `json` for scripts (stable: fields only added).
import type { Argv } from 'yargs';

export function withFormat(y: Argv): Argv {
  return y.option('format', { alias: 'f', type: 'string', describe: "Format the output: 'json'" });
}

/** true for json, false for the default table; anything else is an error. */
export function wantsJson(format: string | undefined): boolean {
  if (format === undefined) return false;
  if (format === 'json') return true;
  throw new Error(`--format: expected "json", got "${format}"`);
}
