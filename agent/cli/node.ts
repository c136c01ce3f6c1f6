import type { CommandGroup } from './index.js';
import { UsageError } from '../../shared/errors.js';
import { nodeDemote } from './node-demote.js';
import { nodeInspect } from './node-inspect.js';
import { nodeLs } from './node-ls.js';
import { nodePromote } from './node-promote.js';
import { nodeRm } from './node-rm.js';
import { nodeUpdate } from './node-update.js';

// docker's order: alphabetical.
const SUBCOMMANDS = [nodeDemote, nodeInspect, nodeLs, nodePromote, nodeRm, nodeUpdate];
const MISSING = `node: expected a subcommand (${SUBCOMMANDS.map((s) => s.command.split(' ')[0]).join(', ')})`;

/** `agent node ...`: the swarm's nodes, seen and changed from a manager. */
export const node: CommandGroup = {
  command: 'node',
  describe: 'Manage Swarm nodes',
  group: 'Management Commands',
  builder: (y) => y.demandCommand(1, MISSING),
  subcommands: SUBCOMMANDS as CommandGroup['subcommands'],
  async run() {
    throw new UsageError(MISSING);
  },
};
