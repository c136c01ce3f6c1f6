// Shared by the IPAM tests: the code and message of the IpamError fn throws.
import { ok } from '../../harness.js';
import { IpamError, type IpamErrorCode } from '../../../agent/network/ipam.js';

/** Run fn and return its IpamError's code and message (fails on success or on any other error). */
export function failure(fn: () => unknown): [IpamErrorCode, string] {
  try {
    fn();
  } catch (e) {
    ok(e instanceof IpamError, `expected an IpamError, got ${String(e)}`);
    return [(e as IpamError).code, (e as IpamError).message];
  }
  throw new Error('expected an IpamError, got a result');
}
