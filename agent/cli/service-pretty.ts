// `agent service inspect --pretty`: docker's human summary of a service
// (docker/cli serviceInspectPrettyTemplate). docker writes its labels with
// tabs that reach column 16; the same column is reached here with spaces, so
// the output looks alike and does not depend on tab stops. What this agent's
// services do not have (image, resources, rollback) is left out, as docker
// leaves out what a service does not set; the restart policy, which docker's
// summary lacks, is shown in the style of its UpdateConfig.
import type { ServiceInspect } from '../api/types.js';
import { quoteCommand } from './container-ref.js';
import { isGlobal, replicasOf } from './service-ref.js';

const VALUE_COLUMN = 16;

function line(label: string, value: string | number): string {
  return `${label.padEnd(VALUE_COLUMN)}${value}\n`;
}

/** Milliseconds as Go prints a time.Duration: 0s, 500ms, 1.5s, 1m30s, 1h0m0s. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${abs}ms`;
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const rest = abs % 60_000;
  const frac = String(rest % 1000).padStart(3, '0').replace(/0+$/, '');
  const s = `${Math.floor(rest / 1000)}${frac ? `.${frac}` : ''}s`;
  return `${sign}${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${s}`;
}

/** A list as Go's templates print a []string: [a b]. */
const goList = (xs: readonly string[]): string => `[${xs.join(' ')}]`;

/**
 * The summary of one service, after an empty line as docker's template
 * starts; `networkName` turns a network id into its name where known.
 */
export function prettyService(s: ServiceInspect, networkName: (target: string) => string = (t) => t): string {
  const spec = s.Spec;
  const task = spec.TaskTemplate;
  let out = '\n' + line('ID:', s.ID);
  out += line('Name:', spec.Name);
  const labels = Object.keys(spec.Labels ?? {}).sort();
  if (labels.length > 0) {
    out += 'Labels:\n';
    for (const k of labels) out += ` ${k}${spec.Labels[k] ? `=${spec.Labels[k]}` : ''}\n`;
  }
  if (isGlobal(spec.Mode)) out += line('Service Mode:', 'Global');
  else {
    out += line('Service Mode:', 'Replicated');
    out += line(' Replicas:', replicasOf(spec.Mode) ?? 0);
  }
  out += 'Placement:\n';
  const constraints = task.Placement?.Constraints ?? [];
  if (constraints.length > 0) out += line(' Constraints:', goList(constraints));
  out += 'UpdateConfig:\n';
  out += line(' Parallelism:', spec.UpdateConfig.Parallelism);
  out += ` Update order:      ${spec.UpdateConfig.Order}\n`;
  const r = task.RestartPolicy;
  out += 'RestartPolicy:\n';
  out += line(' Condition:', r.Condition);
  out += line(' Delay:', goDuration(r.DelayMs));
  out += line(' Max attempts:', r.MaxAttempts);
  out += line(' Window:', goDuration(r.WindowMs));
  out += 'ContainerSpec:\n';
  const args = task.ContainerSpec.Command;
  if (args.length > 0) out += line(' Args:', quoteCommand(args));
  const env = task.ContainerSpec.Env ?? [];
  if (env.length > 0) out += line(' Env:', env.join(' '));
  const networks = task.Networks ?? [];
  if (networks.length > 0) out += `Networks:${networks.map((n) => ` ${networkName(n.Target)}`).join('')}\n`;
  out += line('Endpoint Mode:', spec.EndpointSpec.Mode);
  const ports = s.Endpoint.Ports ?? [];
  if (ports.length > 0) {
    out += 'Ports:\n';
    for (const p of ports) {
      out += ` PublishedPort = ${p.PublishedPort ?? 0}\n  Protocol = ${p.Protocol}\n  TargetPort = ${p.TargetPort}\n  PublishMode = ${p.PublishMode}\n`;
      // Ours (issue 10), after docker's four lines.
      if (p.ProxyProtocol !== undefined) out += `  ProxyProtocol = ${p.ProxyProtocol}\n`;
    }
  }
  return out;
}
