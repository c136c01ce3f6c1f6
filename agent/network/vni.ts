// VXLAN network identifiers for overlay networks. RFC 7348 §5 gives the VNI
// 24 bits; managers hand them out from 4096 up (libnetwork ovmanager), which
// leaves 1-4095 clear of the 802.1Q VLAN ids that some setups map to VNIs
// one-to-one. Lowest free first, so allocation is deterministic.
import { IpamError, invalid } from './ipam-errors.js';

export const VNI_MIN = 4096;
/** 2^24 - 1, the largest 24-bit VNI (RFC 7348 §5). */
export const VNI_MAX = 0xff_ffff;

/** An inclusive range of VNIs; tests narrow it to reach exhaustion. */
export interface VniRange {
  min: number;
  max: number;
}

function checkRange(r: VniRange): void {
  const ok = (n: number) => Number.isInteger(n) && n >= 1 && n <= VNI_MAX;
  if (!ok(r.min) || !ok(r.max) || r.min > r.max) {
    throw invalid(`vni range: expected integers min <= max in 1-${VNI_MAX}, got ${r.min}-${r.max}`);
  }
}

/**
 * The lowest VNI of the range not in `taken` (every overlay's VNI; values
 * outside the range are ignored). Throws IpamError EVNIEXHAUSTED when all are
 * taken. Cost is bounded by the number taken, not the range size.
 */
export function allocateVni(taken: Iterable<number>, range: VniRange = { min: VNI_MIN, max: VNI_MAX }): number {
  checkRange(range);
  const used = new Set(taken);
  for (let v = range.min; v <= range.max; v++) if (!used.has(v)) return v;
  throw new IpamError('EVNIEXHAUSTED', `no free VXLAN network identifier in ${range.min}-${range.max}`);
}
