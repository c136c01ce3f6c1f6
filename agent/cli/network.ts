import { commandGroup } from './group.js';
import { networkConnect } from './network-connect.js';
import { networkCreate } from './network-create.js';
import { networkDisconnect } from './network-disconnect.js';
import { networkInspect } from './network-inspect.js';
import { networkLs } from './network-ls.js';
import { networkPrune } from './network-prune.js';
import { networkRm } from './network-rm.js';

/** `agent network ...`: the swarm's overlay networks (and local bridges), through the local API. */
export const network = commandGroup('network', 'Manage networks', [networkConnect, networkCreate, networkDisconnect, networkInspect, networkLs, networkPrune, networkRm]);
