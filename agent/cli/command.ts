// What every CLI command file exports. The CLI is a thin client (STYLE habit
// 13): a command reaches the daemon only through ctx.client(), never by
// importing daemon internals; `daemon` and `demo` are the two commands that
// start processes themselves, and they load that code lazily.
import type { Argv } from 'yargs';
import type { ApiClient } from '../api/client.js';

/** Where a command is listed in `agent --help`, as docker groups its own. */
export type Group = 'Common Commands' | 'Management Commands' | 'Swarm Commands' | 'Commands';
export const GROUPS: readonly Group[] = ['Common Commands', 'Management Commands', 'Swarm Commands', 'Commands'];

export interface Ctx {
  /** The --host value (unix:///path). */
  host: string;
  client(): ApiClient;
  /** stdout: the answer, and only the answer. */
  out(text: string): void;
  /** stderr: everything else. */
  err(text: string): void;
  /**
   * Ask: the question on stderr, then one line of stdin, without its line
   * ending ('' at the end of input). Absent where nothing can answer.
   */
  prompt?(question: string): Promise<string>;
}

/**
 * docker's prompt.Confirm: the warning and " [y/N] ", yes only for y or Y
 * (spaces around it ignored). No prompt to ask with is a no.
 */
export async function confirm(ctx: Ctx, warning: string): Promise<boolean> {
  if (!ctx.prompt) return false;
  const answer = await ctx.prompt(`${warning} [y/N] `);
  return answer.trim().toLowerCase() === 'y';
}

export interface Command<A = Record<string, unknown>> {
  /** yargs command string, e.g. 'version' or 'rm <name>'. */
  command: string;
  describe: string;
  group: Group;
  builder?: (y: Argv) => Argv;
  run(args: A, ctx: Ctx): Promise<number | void>;
}
