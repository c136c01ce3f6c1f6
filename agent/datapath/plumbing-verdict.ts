// Reading what the tools said: whether a Step failed (and in one line why),
// and the JSON of the probes. Pure, so every case is a unit test on text.
import { fullArgv, showArgv, type RunResult } from '../host/run.js';
import { PIPE_ADDR_PREFIX_LEN, PIPE_PORT, SANDBOX_IFS, checkIfAddr, pipeAddrs, subnetOf, type SandboxSpec } from './plumbing-spec.js';
import { pipeMtu, type Step } from './plumbing-plan.js';

/** iproute2's messages (link, addr, netns, -n, argument lookups) for something that is not there. */
const ABSENT_RE = /Cannot find device|does not exist|No such file or directory/;
const FAILED_LINE_RE = /^Command failed -:(\d+)$/;

export interface BatchFailure {
  /** 1-based line of the batch input. */
  line: number;
  message: string;
}

/**
 * The failed lines of an `ip -batch` run: each error text is followed by
 * "Command failed -:N". `rest` is error text after the last such marker: ip
 * exits at once, without a marker, on an argument it cannot resolve (a netns
 * or master that does not exist) or a netns it cannot enter.
 */
export function batchFailures(stderr: string): { failures: BatchFailure[]; rest: string[] } {
  const failures: BatchFailure[] = [];
  let pending: string[] = [];
  for (const raw of stderr.split('\n')) {
    const l = raw.trim();
    if (l === '') continue;
    const m = FAILED_LINE_RE.exec(l);
    if (m === null) pending.push(l);
    else {
      failures.push({ line: Number(m[1]), message: pending[0] ?? 'failed' });
      pending = [];
    }
  }
  return { failures, rest: pending };
}

function firstLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
}

/** Whether the step found what it looked at absent (a tolerated failure). */
export function wasAbsent(step: Step, r: RunResult): boolean {
  return r.code !== 0 && stepError(step, r) === undefined;
}

/** undefined when the step succeeded, or failed only on absent things it may; else one line: the command, the line, why. */
export function stepError(step: Step, r: RunResult): string | undefined {
  if (r.code === 0) return undefined;
  const shown = showArgv(fullArgv(step.argv, step.netns));
  const lines = step.input?.split('\n').filter((l) => l !== '') ?? [];
  const tolerated = Array.isArray(step.absentOk) ? (step.absentOk as readonly number[]) : [];
  const { failures, rest } = step.argv.includes('-batch') ? batchFailures(r.stderr) : { failures: [], rest: [] };
  const bad = failures.find((f) => !(tolerated.includes(f.line) && ABSENT_RE.test(f.message)));
  if (bad !== undefined) return `${shown}: line ${bad.line} (${lines[bad.line - 1] ?? '?'}): ${bad.message}`;
  if (failures.length > 0 && rest.length === 0) return undefined;
  // The command as a whole failed: not a batch, a batch that could not start
  // (its netns is gone), or one that stopped on an argument.
  const why = rest[0] ?? firstLine(r.stderr) ?? firstLine(r.stdout) ?? `exited with code ${r.code}`;
  const allTolerated = step.absentOk === true || (lines.length > 0 && lines.every((_, i) => tolerated.includes(i + 1)));
  return allTolerated && ABSENT_RE.test(why) ? undefined : `${shown}: ${why}`;
}

// --- probes ---

interface IpLink {
  ifname?: string;
  flags?: string[];
  mtu?: number;
  master?: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

function parseLinks(stdout: string): IpLink[] {
  return stdout.trim() === '' ? [] : (JSON.parse(stdout) as IpLink[]);
}

/** Link names from `ip -j link show` (or addr show). */
export function parseLinkNames(stdout: string): string[] {
  return parseLinks(stdout)
    .map((l) => l.ifname ?? '')
    .filter((n) => n !== '');
}

/** Names from `ip -j netns list`. */
/** The gateway of `ip -j route show default`'s first route, if any. */
export function parseDefaultRoute(stdout: string): string | undefined {
  const text = stdout.trim();
  if (text === '') return undefined;
  const routes = JSON.parse(text) as unknown;
  if (!Array.isArray(routes)) throw new Error(`ip -j route show default: expected a JSON array, got ${text.slice(0, 80)}`);
  const g = (routes[0] as { gateway?: unknown } | undefined)?.gateway;
  return typeof g === 'string' ? g : undefined;
}

export function parseNetnsNames(stdout: string): string[] {
  if (stdout.trim() === '') return [];
  return (JSON.parse(stdout) as { name?: string }[]).map((n) => n.name ?? '').filter((n) => n !== '');
}

export interface ExistingLink {
  kind: string;
  /** From its first IPv4 address, when it has one. */
  subnet?: string;
  gateway?: string;
}

const ipv4Of = (l: IpLink) => l.addr_info?.filter((a) => a.family === 'inet' && a.local !== undefined && a.prefixlen !== undefined) ?? [];

/** Reads gwbridgeProbePlan's output; undefined when there is no such link. */
export function parseGwbridgeProbe(stdout: string): ExistingLink | undefined {
  const link = parseLinks(stdout)[0];
  if (link === undefined) return undefined;
  const kind = link.linkinfo?.info_kind ?? 'device';
  const v4 = ipv4Of(link)[0];
  if (v4 === undefined) return { kind };
  return { kind, subnet: subnetOf(checkIfAddr('address', `${v4.local}/${v4.prefixlen}`)), gateway: v4.local ?? '' };
}

const isUp = (l: IpLink) => l.flags?.includes('UP') === true;
const hasAddr = (l: IpLink, a: string) => ipv4Of(l).some((x) => `${x.local}/${x.prefixlen}` === a);

/**
 * Whether sandboxProbePlan's two ip outputs show the links exactly as
 * createSandboxPlan(spec) makes them: any difference (a crash mid-way,
 * another VNI, MTU or pipe) means make the sandbox again.
 */
export function sandboxLinksReady(spec: SandboxSpec, hostOut: string, sandboxOut: string): boolean {
  const { host, sandbox } = pipeAddrs(spec.pipeIndex);
  const p = pipeMtu(spec.mtu);
  const hostEnd = parseLinks(hostOut)[0];
  if (hostEnd === undefined || !isUp(hostEnd) || hostEnd.mtu !== p || !hasAddr(hostEnd, `${host}/${PIPE_ADDR_PREFIX_LEN}`)) return false;
  const byName = new Map(parseLinks(sandboxOut).map((l) => [l.ifname, l]));
  const pipe = byName.get(SANDBOX_IFS.pipe);
  const br = byName.get(SANDBOX_IFS.bridge);
  const vx = byName.get(SANDBOX_IFS.vxlan);
  if (pipe === undefined || !isUp(pipe) || pipe.mtu !== p || !hasAddr(pipe, `${sandbox}/${PIPE_ADDR_PREFIX_LEN}`)) return false;
  if (br === undefined || !isUp(br) || br.mtu !== spec.mtu || br.linkinfo?.info_kind !== 'bridge') return false;
  const d = vx?.linkinfo?.info_data;
  if (vx === undefined || !isUp(vx) || vx.mtu !== spec.mtu || vx.master !== SANDBOX_IFS.bridge || vx.linkinfo?.info_kind !== 'vxlan' || d === undefined) return false;
  return d.id === spec.vni && d.local === sandbox && d.remote === host && d.port === PIPE_PORT && d.learning === false;
}

/** From `ethtool -k pipe` (sandboxProbePlan's third step). */
export function txChecksumOff(ethtoolOut: string): boolean {
  return /^tx-checksumming: off$/m.test(ethtoolOut);
}
