// The real Plumbing: runs the steps of plumbing-plan.ts, in order, through
// agent/host/run.ts. The commands are all decided in the plan and judged in
// plumbing-verdict.ts; this file only sequences them, reads the probes, and
// takes back a half-made object when a create fails.
import { run, type RunOptions, type RunResult } from '../host/run.js';
import {
  addGwIfacePlan, addOverlayIfacePlan, adoptNetnsPlan, createEndpointPlan, defaultRoutePlan, setDefaultRoutePlan, createGwbridgePlan, createSandboxPlan, deleteEndpointPlan,
  deleteNetnsPlan, deleteSandboxPlan, endpointLinksPlan, existingGwbridgePlan, gwbridgeForwardingPlan, gwbridgeProbePlan, hasLinkPlan, listPlan,
  plannedGwbridge, releaseNetnsPlan, removeGwIfacePlan, removeGwbridgePlan, removeOverlayIfacePlan, sandboxLinksPlan, sandboxProbePlan, type Step,
} from './plumbing-plan.js';
import type {
  DefaultRouteSpec, GwIfaceRef, GwIfaceSpec, GwbridgeInfo, GwbridgeRemoval, GwbridgeSpec, Listing, ListSpec, OverlayIfaceRef, OverlayIfaceSpec, Plumbing,
  SandboxRef, SandboxSpec,
} from './plumbing-spec.js';
import { parseDefaultRoute, parseGwbridgeProbe, parseLinkNames, parseNetnsNames, sandboxLinksReady, stepError, txChecksumOff } from './plumbing-verdict.js';

/** run()'s shape, so tests can script the tools' answers. */
export type Runner = (argv: readonly string[], opts: RunOptions) => Promise<RunResult>;

export interface HostPlumbingOptions {
  run?: Runner;
  /** Per command; default run()'s 30 s. */
  timeoutMs?: number;
}

export class HostPlumbing implements Plumbing {
  readonly #run: Runner;
  readonly #timeoutMs: number | undefined;
  /** Processes started so far (`ip netns exec` execs its program: one process per step). */
  spawns = 0;

  constructor(opts: HostPlumbingOptions = {}) {
    this.#run = opts.run ?? run;
    this.#timeoutMs = opts.timeoutMs;
  }

  async ensureGwbridge(spec: GwbridgeSpec): Promise<GwbridgeInfo> {
    const what = `ensureGwbridge ${spec.name}`;
    const existing = parseGwbridgeProbe((await this.#step(what, gwbridgeProbePlan(spec))).stdout);
    if (existing === undefined) {
      const { subnet, gateway } = plannedGwbridge(spec);
      const steps = [...createGwbridgePlan(spec), ...gwbridgeForwardingPlan(spec, subnet)];
      await this.#attempt(what, steps, removeGwbridgePlan({ ...host(spec), bridge: spec.name }));
      return { subnet, gateway, created: true };
    }
    if (existing.kind !== 'bridge') throw new Error(`${what}: ${spec.name} exists and is a ${existing.kind}, not a bridge`);
    if (existing.subnet === undefined || existing.gateway === undefined) throw new Error(`${what}: bridge ${spec.name} exists without an IPv4 address; give it one or delete it`);
    await this.#steps(what, [...existingGwbridgePlan(spec), ...gwbridgeForwardingPlan(spec, existing.subnet)]);
    return { subnet: existing.subnet, gateway: existing.gateway, created: false };
  }

  async removeGwbridge(spec: GwbridgeRemoval): Promise<void> {
    await this.#steps(`removeGwbridge ${spec.bridge ?? spec.natTable ?? ''}`.trimEnd(), removeGwbridgePlan(spec));
  }

  async createSandbox(spec: SandboxSpec): Promise<void> {
    const steps = createSandboxPlan(spec);
    await this.#attempt(`createSandbox ${spec.netns}`, steps, [...deleteSandboxPlan(spec), ...deleteNetnsPlan(spec.netns, [])]);
  }

  async sandboxReady(spec: SandboxSpec): Promise<boolean> {
    const what = `sandboxReady ${spec.netns}`;
    const [hostProbe, sandboxProbe, ethtoolProbe] = sandboxProbePlan(spec);
    const hostEnd = await this.#step(what, hostProbe);
    if (hostEnd.code !== 0) return false;
    const links = await this.#step(what, sandboxProbe);
    if (links.code !== 0 || !sandboxLinksReady(spec, hostEnd.stdout, links.stdout)) return false;
    return txChecksumOff((await this.#step(what, ethtoolProbe)).stdout);
  }

  async deleteSandbox(ref: SandboxRef | SandboxSpec): Promise<void> {
    const what = `deleteSandbox ${ref.netns}`;
    await this.#steps(what, deleteSandboxPlan(ref));
    const links = parseLinkNames((await this.#step(what, sandboxLinksPlan(ref))).stdout);
    await this.#steps(what, deleteNetnsPlan(ref.netns, links));
  }

  async createEndpoint(netns: string, opts: { forwarding?: boolean } = {}): Promise<void> {
    const steps = createEndpointPlan(netns, opts);
    await this.#attempt(`createEndpoint ${netns}`, steps, deleteEndpointPlan(netns, []));
  }

  async deleteEndpoint(netns: string): Promise<void> {
    const what = `deleteEndpoint ${netns}`;
    const links = parseLinkNames((await this.#step(what, endpointLinksPlan(netns))).stdout);
    await this.#steps(what, deleteEndpointPlan(netns, links));
  }

  async adoptNetns(path: string, netns: string): Promise<void> {
    const steps = adoptNetnsPlan(path, netns);
    await this.#attempt(`adoptNetns ${path}`, steps, releaseNetnsPlan(netns));
  }

  async releaseNetns(netns: string): Promise<void> {
    await this.#steps(`releaseNetns ${netns}`, releaseNetnsPlan(netns));
  }

  async addOverlayIface(spec: OverlayIfaceSpec): Promise<void> {
    const steps = addOverlayIfacePlan(spec);
    await this.#attempt(`addOverlayIface ${spec.endpointNetns} ${spec.ifname}`, steps, removeOverlayIfacePlan(spec));
  }

  async removeOverlayIface(ref: OverlayIfaceRef): Promise<void> {
    await this.#steps(`removeOverlayIface ${ref.sandboxNetns} ${ref.sandboxLink}`, removeOverlayIfacePlan(ref));
  }

  async addGwIface(spec: GwIfaceSpec): Promise<void> {
    const steps = addGwIfacePlan(spec);
    await this.#attempt(`addGwIface ${spec.endpointNetns} ${spec.hostLink}`, steps, removeGwIfacePlan(spec));
  }

  async removeGwIface(ref: GwIfaceRef): Promise<void> {
    await this.#steps(`removeGwIface ${ref.hostLink}`, removeGwIfacePlan(ref));
  }

  async setDefaultRoute(spec: DefaultRouteSpec): Promise<void> {
    await this.#steps(`setDefaultRoute ${spec.endpointNetns}`, setDefaultRoutePlan(spec));
  }

  async defaultRoute(netns: string): Promise<string | undefined> {
    return parseDefaultRoute((await this.#step(`defaultRoute ${netns}`, defaultRoutePlan(netns))).stdout);
  }

  async hasLink(netns: string, link: string): Promise<boolean> {
    return (await this.#step(`hasLink ${netns} ${link}`, hasLinkPlan(netns, link))).code === 0;
  }

  async list(spec: ListSpec): Promise<Listing> {
    const [netnsStep, linkStep] = listPlan(spec);
    const [nss, links] = await Promise.all([this.#step('list', netnsStep), this.#step('list', linkStep)]);
    return {
      netns: parseNetnsNames(nss.stdout).filter((n) => n.startsWith(spec.netnsPrefix)).sort(),
      links: parseLinkNames(links.stdout).filter((n) => n.startsWith(spec.linkPrefix)).sort(),
    };
  }

  /** Runs one step; resolves with its result when it succeeded or only found things absent, else rejects with one line. */
  async #step(what: string, step: Step): Promise<RunResult> {
    this.spawns++;
    let r: RunResult;
    try {
      r = await this.#run(step.argv, {
        allowFail: true,
        ...(step.input === undefined ? {} : { input: step.input }),
        ...(step.netns === undefined ? {} : { netns: step.netns }),
        ...(this.#timeoutMs === undefined ? {} : { timeoutMs: this.#timeoutMs }),
      });
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message}`);
    }
    const err = stepError(step, r);
    if (err !== undefined) throw new Error(`${what}: ${err}`);
    return r;
  }

  async #steps(what: string, steps: readonly Step[]): Promise<void> {
    for (const s of steps) await this.#step(what, s);
  }

  /** Runs steps; when one fails, runs undo (ignoring its failures) and rethrows the first. */
  async #attempt(what: string, steps: readonly Step[], undo: readonly Step[]): Promise<void> {
    try {
      await this.#steps(what, steps);
    } catch (e) {
      for (const s of undo) await this.#step(what, s).catch(() => {});
      throw e;
    }
  }
}

const host = (spec: { hostNetns?: string }): { hostNetns?: string } => (spec.hostNetns === undefined ? {} : { hostNetns: spec.hostNetns });
