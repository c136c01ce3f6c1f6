// The daemon's metrics (issue 11, docs/metrics.md): one function the metrics
// server calls per scrape, reading every plane at that moment into a fresh
// MetricSet. Nothing is counted here: the planes count as they work (a
// dropped packet is a counter, never a log line), and a scrape reads them.
// The only work a scrape causes outside the process is reading the
// load-balancer counters with nft, bounded by lb-reader.ts.
import { realClock } from '../../shared/clock.js';
import type { Logger } from '../daemon/log.js';
import { run } from '../host/run.js';
import { VERSION, runtimeName } from '../version.js';
import { dataMetrics, dnsMetrics } from './collect-data.js';
import { lbMetrics, type LbState } from './collect-lb.js';
import { swarmMetrics } from './collect-swarm.js';
import { MetricSet } from './exposition.js';
import { FlowTotals } from './lb-counters.js';
import { LbReader } from './lb-reader.js';
import { NetworkNames, type MetricsPlanes } from './planes.js';

export interface CollectorOptions {
  log: Logger;
  /** Reads the load-balancer counters (default: nft in each netns, lb-reader.ts's bounds). */
  lb?: LbReader;
}

/** The collect function of a MetricsServer: the exposition text of every plane now. */
export function metricsCollector(planes: MetricsPlanes, o: CollectorOptions): () => Promise<string> {
  const lb: LbState = { reader: o.lb ?? new LbReader({ run, clock: realClock() }), totals: new FlowTotals(), log: o.log, said: '' };
  return async () => {
    const m = new MetricSet();
    m.gauge('agent_build_info', "The agent's version and runtime (always 1).", ['version', 'runtime']).add({ version: VERSION, runtime: runtimeName() }, 1);
    const names = new NetworkNames(planes);
    swarmMetrics(m, planes.swarm, names);
    dataMetrics(m, planes.data, names);
    dnsMetrics(m, planes.dns());
    await lbMetrics(m, planes, names, lb);
    return m.render();
  };
}
