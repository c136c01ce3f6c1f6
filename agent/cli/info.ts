import type { Command } from './command.js';
import type { SwarmInfo, SystemInfo } from '../api/types.js';
import { wantsJson, withFormat } from './format.js';

interface Args {
  format?: string;
}

/** `agent info`: what the local daemon is and what it runs. */
export const info: Command<Args> = {
  command: 'info',
  describe: 'Display system-wide information',
  group: 'Commands',
  builder: withFormat,
  async run(args, ctx) {
    const json = wantsJson(args.format);
    const i = await ctx.client().get<SystemInfo>('/info');
    if (json) return void ctx.out(JSON.stringify(i) + '\n');
    ctx.out(
      `Name:          ${i.Name}\nPid:           ${i.Pid}\nRuntime:       ${i.Runtime}\nState dir:     ${i.StateDir}\n` +
        `Name prefix:   ${i.NamePrefix}\n` +
        swarmSection(i.Swarm),
    );
  },
};

/**
 * docker info's swarm section, with the same lines under the same
 * conditions: the cluster's counts only on a healthy manager, the manager
 * addresses sorted. Fields an older daemon leaves out read as empty.
 */
export function swarmSection(sw: SwarmInfo): string {
  let s = `Swarm: ${sw.LocalNodeState}\n`;
  if (sw.LocalNodeState === 'inactive' || sw.LocalNodeState === 'locked') return s;
  s += ` NodeID: ${sw.NodeID ?? ''}\n`;
  if (sw.Error) s += ` Error: ${sw.Error}\n`;
  s += ` Is Manager: ${sw.ControlAvailable === true}\n`;
  if (sw.Cluster && sw.ControlAvailable && !sw.Error && sw.LocalNodeState !== 'error') {
    s += ` ClusterID: ${sw.Cluster.ID}\n Managers: ${sw.Managers ?? 0}\n Nodes: ${sw.Nodes ?? 0}\n`;
  }
  s += ` Node Address: ${sw.NodeAddr ?? ''}\n`;
  const managers = (sw.RemoteManagers ?? []).map((m) => m.Addr).sort();
  if (managers.length > 0) s += ` Manager Addresses:\n${managers.map((a) => `  ${a}\n`).join('')}`;
  return s;
}
