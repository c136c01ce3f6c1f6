// A management command that only groups subcommands (`agent node`,
// `agent swarm`): alone, or with no subcommand yargs knows, it is a usage
// error that names the subcommands.
import type { CommandGroup, Subcommand } from './index.js';
import { UsageError } from '../../shared/errors.js';

/** `agent <name> ...` over subcommands, listed in the order given (docker's: alphabetical). */
export function commandGroup(name: string, describe: string, subcommands: readonly Subcommand<never>[]): CommandGroup {
  const missing = `${name}: expected a subcommand (${subcommands.map((s) => s.command.split(' ')[0]).join(', ')})`;
  return {
    command: name,
    describe,
    group: 'Management Commands',
    builder: (y) => y.demandCommand(1, missing),
    subcommands,
    async run() {
      throw new UsageError(missing);
    },
  };
}
