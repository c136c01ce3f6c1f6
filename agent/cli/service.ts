import { commandGroup } from './group.js';
import { serviceCreate } from './service-create.js';
import { serviceInspect } from './service-inspect.js';
import { serviceLogs } from './service-logs.js';
import { serviceLs } from './service-ls.js';
import { servicePs } from './service-ps.js';
import { serviceRm } from './service-rm.js';
import { serviceScale } from './service-scale.js';
import { serviceUpdate } from './service-update.js';

/** `agent service ...`: the swarm's services and their tasks, through the local API. */
export const service = commandGroup('service', 'Manage Swarm services', [serviceCreate, serviceInspect, serviceLogs, serviceLs, servicePs, serviceRm, serviceScale, serviceUpdate]);
