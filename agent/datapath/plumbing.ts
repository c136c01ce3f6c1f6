// The node's Linux plumbing for overlay networks (DESIGN §3): what the daemon
// imports. The seam and its specs live in plumbing-spec.ts, the exact
// commands in plumbing-plan.ts (pure), their verdicts in plumbing-verdict.ts,
// the real executor in plumbing-host.ts and its in-memory twin in
// plumbing-fake.ts; plumbing-contract.ts holds the cases both must pass.
export {
  GWBRIDGE_DEFAULTS, GW_IFNAME, MTU_MAX, MTU_MIN, PIPE_BLOCKS, PIPE_PORT, SANDBOX_IFS, VXLAN_OVERHEAD, macForIPv4, pipeAddrs,
  type GwIfaceRef, type GwIfaceSpec, type GwbridgeInfo, type GwbridgeRemoval, type GwbridgeSpec, type ListSpec, type Listing,
  type OverlayIfaceRef, type OverlayIfaceSpec, type Plumbing, type SandboxRef, type SandboxSpec,
} from './plumbing-spec.js';
export { pipeMtu } from './plumbing-plan.js';
export { HostPlumbing, type HostPlumbingOptions, type Runner } from './plumbing-host.js';
export { FakePlumbing, type FakeCall, type FakeHost, type FakeLink, type FakeLinkKind, type FakeNetns } from './plumbing-fake.js';
