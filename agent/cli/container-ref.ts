// What the endpoint commands share: naming an endpoint (docker: a container)
// in a path, and reading the command after `--`.
import { UsageError } from '../../shared/errors.js';

/** The API path of an endpoint: its name, id or unique id prefix, encoded as one segment. */
export function containerPath(ref: string, tail = ''): string {
  if (ref === '') throw new UsageError('CONTAINER: expected a name, id or id prefix, got ""');
  return `/containers/${encodeURIComponent(ref)}${tail}`;
}

/**
 * yargs' parser configuration for a command that takes CMD: what follows `--`
 * kept apart (populate--), and kept as typed. Without parse-positional-numbers
 * off, yargs turns "1e3" after `--` into 1000 and "1.50" into 1.5.
 */
export const CMD_PARSING = { 'populate--': true, 'parse-positional-numbers': false } as const;

/** The command: positionals, then whatever came after `--` (yargs' populate--, see CMD_PARSING). */
export function commandOf(args: { cmd?: (string | number)[]; '--'?: (string | number)[] }): string[] {
  return [...(args.cmd ?? []), ...(args['--'] ?? [])].map(String);
}

export function quoteCommand(cmd: readonly string[]): string {
  return cmd.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}
