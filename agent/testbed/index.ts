// The test bed's public surface (see test-bed.ts for the topology, naming.ts
// for the names).
export { TestBed, NEEDS_ROOT, type CreateOptions, type Host, type Netem } from './test-bed.js';
export { AgentProcess, type StartAgentOptions } from './agent-process.js';
export { BedProcess, type ExitStatus } from './bed-process.js';
export { listOurs, sweepStale, type Leftovers } from './leftovers.js';
export type { HttpAnswer } from '../api/client.js';
