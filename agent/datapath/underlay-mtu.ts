// The MTU of the link that carries the data path (issue 6): overlays get that
// minus the VXLAN overhead unless their MTU option says otherwise. Docker
// assumes 1500 and never checks the NIC (REFERENCE); this fleet's links may
// be 1400 (this machine's NIC), and a wrong guess silently drops big frames.
import { run } from '../host/run.js';

interface IpAddrLink {
  ifname?: unknown;
  mtu?: unknown;
  addr_info?: { local?: unknown }[];
}

/** From `ip -j addr show` output: the MTU of the link holding address ip, or undefined. */
export function mtuOfAddress(ipJson: string, ip: string): number | undefined {
  let links: unknown;
  try {
    links = JSON.parse(ipJson);
  } catch {
    return undefined;
  }
  if (!Array.isArray(links)) return undefined;
  for (const l of links as IpAddrLink[]) {
    if (!Array.isArray(l.addr_info) || typeof l.mtu !== 'number') continue;
    if (l.addr_info.some((a) => a.local === ip)) return l.mtu;
  }
  return undefined;
}

/** The MTU of the link holding ip on this host; throws one line when no link has it. */
export async function underlayMtu(ip: string): Promise<number> {
  const r = await run(['ip', '-j', 'addr', 'show']);
  const mtu = mtuOfAddress(r.stdout, ip);
  if (mtu === undefined) throw new Error(`no interface of this host has the data path address ${ip}`);
  return mtu;
}
