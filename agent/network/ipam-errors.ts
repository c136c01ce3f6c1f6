// The one error class of IPAM (STYLE habit 9): every failure of the subnet,
// address and VNI allocators is an IpamError whose `code` callers branch on
// (the API maps EINVAL to 400, EOVERLAP and EADDRINUSE to 409, the
// exhaustion codes to 503) and whose message is one line for the CLI.

export type IpamErrorCode =
  /** A malformed or contradictory argument: bad CIDR, gateway or ip range outside the subnet, bad --ip. */
  | 'EINVAL'
  /** A user-given subnet overlaps another network's subnet. */
  | 'EOVERLAP'
  /** Every subnet of the default address pools overlaps an existing network. */
  | 'EPOOLEXHAUSTED'
  /** No free address left in the subnet (or its ip range). */
  | 'ESUBNETFULL'
  /** The requested address (--ip) belongs to another endpoint. */
  | 'EADDRINUSE'
  /** Every VXLAN network identifier of the range is taken. */
  | 'EVNIEXHAUSTED';

export class IpamError extends Error {
  override name = 'IpamError';
  constructor(
    readonly code: IpamErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function invalid(message: string): IpamError {
  return new IpamError('EINVAL', message);
}
