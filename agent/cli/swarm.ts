import { commandGroup } from './group.js';
import { swarmInit } from './swarm-init.js';
import { swarmInspect } from './swarm-inspect.js';
import { swarmJoin } from './swarm-join.js';
import { swarmJoinToken } from './swarm-join-token.js';
import { swarmLeave } from './swarm-leave.js';
import { swarmUpdate } from './swarm-update.js';

/** `agent swarm ...`: make, join, leave and tune the swarm. */
export const swarm = commandGroup('swarm', 'Manage Swarm', [swarmInit, swarmInspect, swarmJoin, swarmJoinToken, swarmLeave, swarmUpdate]);
