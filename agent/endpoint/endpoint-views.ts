// Endpoint records as the local API shows them (docker's container summary
// and inspect, cut down to what an endpoint has).
import type { ContainerInspect, ContainerSummary } from '../api/types.js';
import type { EndpointRecord } from './endpoint-state.js';

export function summaryView(r: EndpointRecord, st: { running: boolean; exitCode: number | null }): ContainerSummary {
  return {
    Id: r.id,
    Name: r.name,
    Command: r.command,
    CreatedMs: r.createdAtMs,
    State: st.running ? 'running' : 'exited',
    ExitCode: st.exitCode,
    Networks: r.networks.map((n) => n.name),
    Ports: (r.ports ?? []).map((p) => ({ Protocol: p.protocol, TargetPort: p.target, PublishedPort: p.published })),
    ...(r.external !== undefined ? { NetNsPath: r.external } : {}),
  };
}

export function inspectView(r: EndpointRecord, st: { running: boolean; exitCode: number | null }): ContainerInspect {
  const split = (cidr: string): [string, number] => {
    const [a, p] = cidr.split('/');
    return [a!, Number(p)];
  };
  return {
    ...summaryView(r, st),
    Pid: r.pid ?? 0,
    Netns: r.netns,
    NetworkSettings: {
      Networks: Object.fromEntries(
        r.networks.map((n) => {
          const [ip, len] = split(n.address);
          return [n.name, { NetworkID: n.networkId, IPAddress: ip, IPPrefixLen: len, Gateway: n.gateway, MacAddress: n.mac, Interface: n.ifname, MTU: n.mtu }];
        }),
      ),
      ...(r.gw
        ? (() => {
            const [ip, len] = split(r.gw.address);
            return { Gateway: { IPAddress: ip, IPPrefixLen: len, Gateway: r.gw.gateway, Interface: 'eth-gw' } };
          })()
        : {}),
    },
  };
}
