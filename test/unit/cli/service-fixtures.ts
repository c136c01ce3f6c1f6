// Services and tasks as the daemon answers them, for the `agent service ...`
// tests (service.test.ts, service-ps-ports.test.ts): docker's defaults unless
// told otherwise, their times counted back from a pinned now.
import type { ServiceInspect, TaskInspect } from '../../../agent/api/types.js';

// `service ps` reads the wall clock to say how long ago a task changed: its
// tests pin Date.now() at NOW_MS, so every age is exact.
export const NOW_MS = Date.parse('2025-03-04T05:06:07.890Z');
export const iso = (msBeforeNow: number): string => new Date(NOW_MS - msBeforeNow).toISOString();

export type SpecOver = Partial<Omit<ServiceInspect['Spec'], 'TaskTemplate'>> & { TaskTemplate?: Partial<ServiceInspect['Spec']['TaskTemplate']> };

/** A service as the daemon answers it: docker's defaults unless `over` says otherwise. */
export function mkService(
  name: string,
  id: string,
  over: { Spec?: SpecOver; ports?: ServiceInspect['Endpoint']['Ports']; status?: [number, number]; UpdatedAt?: string; PortErrors?: ServiceInspect['PortErrors'] } = {},
): ServiceInspect {
  const ports = over.ports ?? [];
  const spec = over.Spec ?? {};
  return {
    ID: id,
    Version: { Index: 10 },
    CreatedAt: iso(3_600_000),
    UpdatedAt: over.UpdatedAt ?? iso(3_600_000),
    Spec: {
      Name: name,
      Labels: {},
      Mode: { Replicated: { Replicas: 1 } },
      UpdateConfig: { Parallelism: 1, Order: 'stop-first' },
      EndpointSpec: { Mode: 'vip', Ports: ports },
      ...spec,
      TaskTemplate: {
        ContainerSpec: { Command: ['sleep', '600'], Env: [] },
        RestartPolicy: { Condition: 'any', DelayMs: 5000, MaxAttempts: 0, WindowMs: 0 },
        Placement: { Constraints: [] },
        Networks: [],
        ForceUpdate: 0,
        ...spec.TaskTemplate,
      },
    },
    Endpoint: { Spec: { Mode: 'vip', Ports: ports }, Ports: ports, VirtualIPs: [] },
    ServiceStatus: { RunningTasks: over.status?.[0] ?? 1, DesiredTasks: over.status?.[1] ?? 1 },
    ...(over.PortErrors ? { PortErrors: over.PortErrors } : {}),
  };
}

/** A task of service as the daemon answers it (slot from its name, web.3: 3): running on edge-1 unless `over` says otherwise. */
export function mkTask(service: ServiceInspect, name: string, id: string, over: Partial<TaskInspect> & { state?: string; err?: string; atMs?: number } = {}): TaskInspect {
  const { state, err, atMs, ...rest } = over;
  const slot = /\.(\d+)$/.exec(name)?.[1];
  return {
    ID: id,
    Name: name,
    ContainerName: `${name}.${id}`,
    ServiceID: service.ID,
    ServiceName: service.Spec.Name,
    ...(slot ? { Slot: Number(slot) } : {}),
    NodeID: 'n0d31d000000000000000000a',
    NodeHostname: 'edge-1',
    DesiredState: 'running',
    Status: { State: state ?? 'running', Message: state ?? 'started', ...(err ? { Err: err } : {}), Timestamp: iso(atMs ?? 5_000) },
    CreatedAt: iso(60_000),
    NetworksAttachments: [],
    ...rest,
  };
}
