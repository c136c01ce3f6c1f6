import type { CommandGroup } from './index.js';
import { UsageError } from '../../shared/errors.js';
import { swarmInit } from './swarm-init.js';
import { swarmInspect } from './swarm-inspect.js';
import { swarmJoin } from './swarm-join.js';
import { swarmJoinToken } from './swarm-join-token.js';
import { swarmLeave } from './swarm-leave.js';
import { swarmUpdate } from './swarm-update.js';

// docker's order: alphabetical.
const SUBCOMMANDS = [swarmInit, swarmInspect, swarmJoin, swarmJoinToken, swarmLeave, swarmUpdate];
const MISSING = `swarm: expected a subcommand (${SUBCOMMANDS.map((s) => s.command.split(' ')[0]).join(', ')})`;

/** `agent swarm ...`: make, join, leave and tune the swarm. */
export const swarm: CommandGroup = {
  command: 'swarm',
  describe: 'Manage Swarm',
  group: 'Management Commands',
  builder: (y) => y.demandCommand(1, MISSING),
  subcommands: SUBCOMMANDS as CommandGroup['subcommands'],
  async run() {
    throw new UsageError(MISSING);
  },
};
