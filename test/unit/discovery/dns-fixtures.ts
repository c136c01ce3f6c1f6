// A small in-memory DiscoveryView for the resolver's tests: three networks,
// a vip service on two of them, a dnsrr service, standalone endpoints, and a
// network the test askers are not on.
import type { Asker, DiscoveryView, ServiceRecord } from '../../../agent/discovery/records.js';
import { createLogger } from '../../../agent/daemon/log.js';

export const NETS: Record<string, { id: string; records: ServiceRecord[] }> = {
  front: {
    id: 'n-front',
    records: [
      { name: 'web.1.aaa', ip: '10.0.1.3', service: 'web', vip: '10.0.1.2' },
      { name: 'web.2.bbb', ip: '10.0.1.4', service: 'web', vip: '10.0.1.2' },
      { name: 'rr.1.ccc', ip: '10.0.1.5', service: 'rr' },
      { name: 'rr.2.ddd', ip: '10.0.1.6', service: 'rr' },
      { name: 'rr.3.eee', ip: '10.0.1.7', service: 'rr' },
      { name: 'box', ip: '10.0.1.8' },
    ],
  },
  back: {
    id: 'n-back',
    records: [
      { name: 'web.1.aaa', ip: '10.0.2.3', service: 'web', vip: '10.0.2.2' },
      { name: 'web.2.bbb', ip: '10.0.2.4', service: 'web', vip: '10.0.2.2' },
      { name: 'db.1.fff', ip: '10.0.2.11', service: 'db', vip: '10.0.2.10' },
    ],
  },
  other: {
    id: 'n-other',
    records: [
      { name: 'secret', ip: '10.0.3.5' },
      { name: 'hidden.1.ggg', ip: '10.0.3.3', service: 'hidden', vip: '10.0.3.2' },
    ],
  },
  'my.net': {
    id: 'n-dotted',
    records: [{ name: 'dotted', ip: '10.0.4.3', service: 'dots' }],
  },
};

/** A view over nets; networkId is case-sensitive, as a real name index may be. */
export function viewOf(nets: Record<string, { id: string; records: ServiceRecord[] }> = NETS): DiscoveryView {
  return {
    records: (nid) => Object.values(nets).find((n) => n.id === nid)?.records ?? [],
    networkId: (name) => nets[name]?.id,
  };
}

/** On front then back (and my.net). */
export const FRONT_FIRST: Asker = { name: 'client-a', networks: ['n-front', 'n-back', 'n-dotted'] };
/** On back then front. */
export const BACK_FIRST: Asker = { name: 'client-b', networks: ['n-back', 'n-front'] };

export const quietLog = createLogger({ level: 'error', format: 'text', write: () => {}, nowIso: () => '' });

/** A dnsrr service with n tasks on one network, for answers bigger than 512 bytes. */
export function bigRrView(n: number): DiscoveryView {
  const records: ServiceRecord[] = [];
  for (let i = 0; i < n; i++) records.push({ name: `big.${i + 1}.t${i}`, ip: `10.9.${Math.floor(i / 250)}.${(i % 250) + 2}`, service: 'big' });
  return viewOf({ ...NETS, front: { id: 'n-front', records: [...NETS.front!.records, ...records] } });
}
