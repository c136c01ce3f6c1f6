// Service specs on the leader (issue 8): what `service create` and `service
// update` ask for, checked and turned into the store's ServiceSpec, with
// docker's messages. Pure: the store is read by the caller, nothing here
// writes. Published ports left blank get one from docker's dynamic range.
import type { PortSpec, RestartPolicySpec, ServiceCreateRequest, ServiceUpdateRequest } from '../api/types.js';
import type { Network, PortConfig, RestartPolicy, Service, ServiceMode, ServiceSpec } from '../cluster/store/types.js';
import { conflict, invalid, notFound } from './errors.js';
import { parseConstraint } from './constraints.js';
import { resolveNetworkRef } from './views.js';

/** docker: a service name is a DNS label (swarmkit validateServiceSpec's name check). */
const NAME_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const ENV_NAME_RE = /^[^=\s]+$/;
/** swarmkit's dynamic port range for published ports left blank (manager/allocator/portallocator.go). */
export const DYNAMIC_PORT_FIRST = 30000;
export const DYNAMIC_PORT_LAST = 32767;
export const MAX_REPLICAS = 10_000;
export const DEFAULT_RESTART: RestartPolicy = { condition: 'any', delayMs: 5_000, maxAttempts: 0, windowMs: 0 };

export function checkServiceName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw invalid(`invalid service name ${JSON.stringify(name)}: it must be valid as a DNS name component (letters, digits and '-', at most 63)`);
  }
  return name;
}

export function modeOf(req: ServiceCreateRequest['Mode']): ServiceMode {
  if (req === undefined) return { replicated: 1 };
  if ('Global' in req) return { global: true };
  return { replicated: replicas(req.Replicated.Replicas) };
}

export function replicas(n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_REPLICAS) throw invalid(`replicas: expected an integer from 0 to ${MAX_REPLICAS}, got ${JSON.stringify(n)}`);
  return n;
}

function command(cmd: unknown): string[] {
  if (!Array.isArray(cmd) || cmd.length === 0 || typeof cmd[0] !== 'string' || cmd[0] === '' || !cmd.every((a) => typeof a === 'string')) {
    throw invalid('a command is required: agent service create --name NAME [OPTIONS] -- CMD [ARGS...]');
  }
  return [...(cmd as string[])];
}

function env(list: readonly string[]): string[] {
  for (const e of list) {
    const i = e.indexOf('=');
    if (i <= 0 || !ENV_NAME_RE.test(e.slice(0, i))) throw invalid(`invalid environment variable ${JSON.stringify(e)}: expected KEY=VALUE`);
  }
  return [...list];
}

function restart(p: Partial<RestartPolicySpec> | undefined, base: RestartPolicy): RestartPolicy {
  const r: RestartPolicy = {
    condition: p?.Condition ?? base.condition,
    delayMs: p?.DelayMs ?? base.delayMs,
    maxAttempts: p?.MaxAttempts ?? base.maxAttempts,
    windowMs: p?.WindowMs ?? base.windowMs,
  };
  if (!['none', 'on-failure', 'any'].includes(r.condition)) throw invalid(`invalid restart condition ${JSON.stringify(r.condition)}: expected none, on-failure or any`);
  for (const [k, v] of [['restart delay', r.delayMs], ['restart max attempts', r.maxAttempts], ['restart window', r.windowMs]] as const) {
    if (!Number.isInteger(v) || v < 0) throw invalid(`${k}: expected a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return r;
}

function constraints(list: readonly string[]): string[] {
  for (const c of list) {
    try {
      parseConstraint(c);
    } catch (e) {
      throw invalid((e as Error).message);
    }
  }
  return [...list];
}

function port(p: PortSpec): PortConfig {
  const ok = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
  if (!ok(p.TargetPort)) throw invalid(`invalid target port ${JSON.stringify(p.TargetPort)}: expected 1-65535`);
  if (p.PublishedPort !== undefined && !ok(p.PublishedPort)) throw invalid(`invalid published port ${JSON.stringify(p.PublishedPort)}: expected 1-65535`);
  if (p.Protocol !== 'tcp' && p.Protocol !== 'udp') throw invalid(`invalid protocol ${JSON.stringify(p.Protocol)}: expected tcp or udp`);
  if (p.PublishMode !== 'ingress' && p.PublishMode !== 'host') throw invalid(`invalid publish mode ${JSON.stringify(p.PublishMode)}: expected ingress or host`);
  if (p.ProxyProtocol !== undefined) {
    if (p.ProxyProtocol !== 'v2') throw invalid(`invalid proxy protocol ${JSON.stringify(p.ProxyProtocol)}: expected v2`);
    // The mesh's relay speaks it (issue 10); host mode goes straight to the task, and udp has no connection to put a header on.
    if (p.Protocol !== 'tcp' || p.PublishMode !== 'ingress') throw invalid('proxy-protocol=v2 needs a tcp port published in ingress mode');
  }
  return {
    protocol: p.Protocol,
    targetPort: p.TargetPort,
    ...(p.PublishedPort !== undefined ? { publishedPort: p.PublishedPort } : {}),
    publishMode: p.PublishMode,
    ...(p.ProxyProtocol !== undefined ? { proxyProtocol: p.ProxyProtocol } : {}),
  };
}

/**
 * The ports of a spec, checked against each other and against every other
 * service's ingress ports; blank ingress ports get the lowest free port of
 * the dynamic range (docker's allocator).
 */
export function allocatePorts(ports: readonly PortConfig[], others: readonly Service[], self: string | undefined): PortConfig[] {
  const taken = new Map<string, Service>();
  for (const s of others) {
    if (s.id === self) continue;
    for (const p of s.spec.ports) if (p.publishMode === 'ingress' && p.publishedPort !== undefined) taken.set(`${p.protocol}/${p.publishedPort}`, s);
  }
  const mine = new Set<string>();
  const out: PortConfig[] = [];
  for (const p of ports) {
    if (p.publishMode !== 'ingress' || p.publishedPort === undefined) continue;
    const k = `${p.protocol}/${p.publishedPort}`;
    const owner = taken.get(k);
    if (owner) throw conflict(`port '${p.publishedPort}' is already in use by service '${owner.name}' (${owner.id}) as an ingress port`);
    if (mine.has(k)) throw invalid(`duplicate published port ${p.publishedPort}/${p.protocol}`);
    mine.add(k);
  }
  for (const p of ports) {
    if (p.publishMode !== 'ingress' || p.publishedPort !== undefined) {
      out.push(p);
      continue;
    }
    let n = DYNAMIC_PORT_FIRST;
    while (n <= DYNAMIC_PORT_LAST && (taken.has(`${p.protocol}/${n}`) || mine.has(`${p.protocol}/${n}`))) n++;
    if (n > DYNAMIC_PORT_LAST) throw conflict(`no free port left in ${DYNAMIC_PORT_FIRST}-${DYNAMIC_PORT_LAST} for ${p.protocol}`);
    mine.add(`${p.protocol}/${n}`);
    out.push({ ...p, publishedPort: n });
  }
  return out;
}

/** Network references to the overlay ids a service may use (not ingress, not twice). */
export function resolveServiceNetworks(all: readonly Network[], refs: readonly string[]): string[] {
  const ids: string[] = [];
  for (const ref of refs) {
    const r = resolveNetworkRef(all, ref);
    if ('error' in r) throw r.error === 'not-found' ? notFound(r.message) : invalid(r.message);
    if (r.ingress) throw invalid(`service cannot be explicitly attached to the ingress network "${r.name}"`);
    if (r.driver !== 'overlay') throw invalid(`network ${r.name} is not eligible for services: only overlay networks are`);
    if (ids.includes(r.id)) throw invalid(`network ${r.name} is given twice`);
    ids.push(r.id);
  }
  return ids;
}

function checkEndpoint(mode: 'vip' | 'dnsrr', ports: readonly PortConfig[]): void {
  if (mode !== 'vip' && mode !== 'dnsrr') throw invalid(`invalid endpoint mode ${JSON.stringify(mode)}: expected vip or dnsrr`);
  if (mode === 'dnsrr' && ports.some((p) => p.publishMode === 'ingress')) throw invalid('port published with ingress mode can\'t be used with dnsrr mode');
}

/** A create request as a spec (ports not yet allocated: allocatePorts). */
export function specOf(req: ServiceCreateRequest, networks: readonly Network[]): ServiceSpec {
  const ports = (req.Ports ?? []).map(port);
  const endpointMode = req.EndpointMode ?? 'vip';
  checkEndpoint(endpointMode, ports);
  return {
    command: command(req.Command),
    env: env(req.Env ?? []),
    networks: resolveServiceNetworks(networks, req.Networks ?? []).map((target) => ({ target, aliases: [] })),
    ports,
    endpointMode,
    constraints: constraints(req.Constraints ?? []),
    restart: restart(req.RestartPolicy, DEFAULT_RESTART),
    ...(req.UpdateOrder !== undefined ? { updateOrder: order(req.UpdateOrder) } : {}),
  };
}

function order(o: unknown): 'stop-first' | 'start-first' {
  if (o !== 'stop-first' && o !== 'start-first') throw invalid(`invalid update order ${JSON.stringify(o)}: expected stop-first or start-first`);
  return o;
}

/** The spec an update asks for (ports not yet allocated). */
export function updatedSpec(old: ServiceSpec, req: ServiceUpdateRequest, networks: readonly Network[]): ServiceSpec {
  const rmNets = resolveServiceNetworks(networks, req.NetworksRm ?? []);
  let nets = old.networks.filter((n) => !rmNets.includes(n.target));
  for (const id of rmNets) if (!old.networks.some((n) => n.target === id)) throw invalid(`network ${networks.find((n) => n.id === id)?.name ?? id} is not attached to the service`);
  for (const id of resolveServiceNetworks(networks, req.NetworksAdd ?? [])) {
    if (nets.some((n) => n.target === id)) throw invalid(`service is already attached to network ${networks.find((n) => n.id === id)?.name ?? id}`);
    nets = [...nets, { target: id, aliases: [] }];
  }
  let ports = old.ports.filter((p) => !(req.PortsRm ?? []).some((r) => portMatches(p, r)));
  for (const p of (req.PortsAdd ?? []).map(port)) {
    ports = ports.filter((q) => !(q.protocol === p.protocol && q.publishedPort !== undefined && q.publishedPort === p.publishedPort));
    ports = [...ports, p];
  }
  const rmEnv = new Set(req.EnvRm ?? []);
  let envs = old.env.filter((e) => !rmEnv.has(e.slice(0, e.indexOf('='))));
  for (const e of env(req.EnvAdd ?? [])) {
    const k = e.slice(0, e.indexOf('='));
    envs = [...envs.filter((x) => x.slice(0, x.indexOf('=')) !== k), e];
  }
  const rmCons = new Set(req.ConstraintsRm ?? []);
  const cons = [...old.constraints.filter((c) => !rmCons.has(c)), ...constraints(req.ConstraintsAdd ?? []).filter((c) => !old.constraints.includes(c))];
  const endpointMode = old.endpointMode;
  checkEndpoint(endpointMode, ports);
  const next: ServiceSpec = {
    command: req.Command !== undefined ? command(req.Command) : old.command,
    env: envs,
    networks: nets,
    ports,
    endpointMode,
    constraints: cons,
    restart: restart(req.RestartPolicy, old.restart),
  };
  const o = req.UpdateOrder !== undefined ? order(req.UpdateOrder) : old.updateOrder;
  if (o !== undefined) next.updateOrder = o;
  return next;
}

function portMatches(p: PortConfig, r: NonNullable<ServiceUpdateRequest['PortsRm']>[number]): boolean {
  if (r.Protocol !== undefined && r.Protocol !== p.protocol) return false;
  if (r.PublishedPort !== undefined && r.PublishedPort !== p.publishedPort) return false;
  if (r.TargetPort !== undefined && r.TargetPort !== p.targetPort) return false;
  return r.PublishedPort !== undefined || r.TargetPort !== undefined;
}

/**
 * Refuse a spec that publishes in ingress mode while there is no ingress
 * network (swarmkit controlapi's Create/UpdateService check, docker's words).
 * Host-mode ports and services without ports need none.
 */
export function checkIngress(spec: ServiceSpec, networks: readonly Network[]): void {
  if (spec.ports.some((p) => p.publishMode === 'ingress') && !networks.some((n) => n.ingress)) {
    throw invalid('service needs ingress network, but no ingress network is present');
  }
}

/** The networks a service's tasks and VIPs sit on: its own, and ingress when it publishes through the mesh. */
export function serviceNetworkIds(spec: ServiceSpec, networks: readonly Network[]): string[] {
  const ids = spec.networks.map((n) => n.target);
  const ingress = networks.find((n) => n.ingress);
  if (ingress && spec.ports.some((p) => p.publishMode === 'ingress') && !ids.includes(ingress.id)) ids.push(ingress.id);
  return ids;
}
