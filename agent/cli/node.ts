import { commandGroup } from './group.js';
import { nodeDemote } from './node-demote.js';
import { nodeInspect } from './node-inspect.js';
import { nodeLs } from './node-ls.js';
import { nodePromote } from './node-promote.js';
import { nodeRm } from './node-rm.js';
import { nodeUpdate } from './node-update.js';

/** `agent node ...`: the swarm's nodes, seen and changed from a manager. */
export const node = commandGroup('node', 'Manage Swarm nodes', [nodeDemote, nodeInspect, nodeLs, nodePromote, nodeRm, nodeUpdate]);
