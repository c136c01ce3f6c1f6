import { failure } from './fixtures.js';
import { suite, is, equal } from '../../harness.js';
import { seededRand, type Rand } from '../../../shared/rand.js';
import { formatCidr, parseCidr } from '../../../agent/swarm/cidr.js';
import {
  allocateSubnet, checkUserPool, defaultGateway, IpamError, POOL_EXHAUSTED_MESSAGE, POOL_OVERLAP_MESSAGE, type IpamErrorCode, type PoolInput,
} from '../../../agent/network/ipam.js';

const t = suite('network/ipam');


t('allocateSubnet: /24s from 10.0.0.0/8, lowest first, skipping taken and user-given overlapping subnets', () => {
  const pools = ['10.0.0.0/8'];
  const taken: string[] = [];
  const next = () => {
    const s = allocateSubnet(pools, 24, taken);
    taken.push(s);
    return s;
  };
  is(next(), '10.0.0.0/24');
  is(next(), '10.0.1.0/24');
  taken.push('10.0.2.0/23'); // user-given, covers 10.0.2.0/24 and 10.0.3.0/24
  taken.push('10.0.4.128/25'); // user-given, inside 10.0.4.0/24
  taken.push('10.0.6.0/24'); // another network, allocated earlier
  is(next(), '10.0.5.0/24');
  is(next(), '10.0.7.0/24');
  taken.push('10.0.0.0/16'); // a user network swallowing the rest of 10.0.x
  is(next(), '10.1.0.0/24');
});

t('allocateSubnet: pools in order, then exhaustion with docker wording', () => {
  const pools = ['192.168.0.0/29', '10.0.0.0/30'];
  equal(allocateSubnet(pools, 30, []), '192.168.0.0/30');
  equal(allocateSubnet(pools, 30, ['192.168.0.0/30']), '192.168.0.4/30');
  equal(allocateSubnet(pools, 30, ['192.168.0.0/30', '192.168.0.4/30']), '10.0.0.0/30');
  equal(allocateSubnet(pools, 30, ['192.168.0.0/16']), '10.0.0.0/30');
  equal(failure(() => allocateSubnet(pools, 30, ['192.168.0.0/16', '10.0.0.2/31'])), ['EPOOLEXHAUSTED', POOL_EXHAUSTED_MESSAGE]);
  is(POOL_EXHAUSTED_MESSAGE, 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
  equal(failure(() => allocateSubnet([], 24, [])), ['EPOOLEXHAUSTED', POOL_EXHAUSTED_MESSAGE]);
});

t('allocateSubnet: 10.0.0.0/8 with 65,536 /24s all taken but the last is found quickly', () => {
  const taken: string[] = [];
  for (let i = 0; i < 65_535; i++) taken.push(`10.${i >> 8}.${i & 255}.0/24`);
  is(allocateSubnet(['10.0.0.0/8'], 24, taken), '10.255.255.0/24');
});

t('allocateSubnet errors, exact', () => {
  const table: [string[], number, string[], string][] = [
    [['10.0.0.0'], 24, [], '--default-addr-pool: "10.0.0.0" is not an IPv4 CIDR (expected A.B.C.D/N)'],
    [['10.0.0.1/8'], 24, [], '--default-addr-pool: 10.0.0.1/8 has host bits set (did you mean 10.0.0.0/8?)'],
    [['10.0.0.0/8'], 31, [], '--default-addr-pool-mask-length: expected an integer in 0-30, got 31'],
    [['10.0.0.0/8'], 24.5, [], '--default-addr-pool-mask-length: expected an integer in 0-30, got 24.5'],
    [['10.0.0.0/8'], -1, [], '--default-addr-pool-mask-length: expected an integer in 0-30, got -1'],
    [['10.0.0.0/8', '192.168.0.0/16'], 12, [], '--default-addr-pool-mask-length: 12 is shorter than the /16 of pool 192.168.0.0/16; subnets must fit inside every pool'],
    [['10.0.0.0/8'], 24, ['10.0.0.0/24', 'x'], 'existing network subnet: "x" is not an IPv4 CIDR (expected A.B.C.D/N)'],
  ];
  for (const [pools, n, taken, message] of table) equal(failure(() => allocateSubnet(pools, n, taken)), ['EINVAL', message], message);
});

t('checkUserPool: defaults the gateway, keeps ip range, accepts empty strings as absent', () => {
  equal(checkUserPool({ subnet: '10.0.9.0/24' }, ['10.0.0.0/24']), { subnet: '10.0.9.0/24', gateway: '10.0.9.1' });
  equal(checkUserPool({ subnet: '172.20.0.0/16', gateway: '172.20.255.254', ipRange: '172.20.5.0/24' }, []), {
    subnet: '172.20.0.0/16', gateway: '172.20.255.254', ipRange: '172.20.5.0/24',
  });
  equal(checkUserPool({ subnet: '10.9.0.0/30', gateway: '', ipRange: '' }, []), { subnet: '10.9.0.0/30', gateway: '10.9.0.1' });
  equal(checkUserPool({ subnet: '10.9.0.0/24', ipRange: '10.9.0.0/24' }, []), { subnet: '10.9.0.0/24', gateway: '10.9.0.1', ipRange: '10.9.0.0/24' });
  is(defaultGateway('10.0.1.0/24'), '10.0.1.1');
  is(defaultGateway('10.0.0.8/29'), '10.0.0.9');
});

t('checkUserPool errors, exact', () => {
  const table: [PoolInput, string[], IpamErrorCode, string][] = [
    [{ subnet: '10.0.0.0' }, [], 'EINVAL', '--subnet: "10.0.0.0" is not an IPv4 CIDR (expected A.B.C.D/N)'],
    [{ subnet: '10.0.0.1/24' }, [], 'EINVAL', '--subnet: 10.0.0.1/24 has host bits set (did you mean 10.0.0.0/24?)'],
    [{ subnet: '10.0.0.0/33' }, [], 'EINVAL', '--subnet: "10.0.0.0/33" has prefix length 33 (expected 0-32)'],
    [{ subnet: '10.0.0.0/31' }, [], 'EINVAL', '--subnet: 10.0.0.0/31 is too small (its prefix length must be at most 30)'],
    [{ subnet: '10.0.0.0/24', gateway: '10.0.0' }, [], 'EINVAL', '--gateway: "10.0.0" is not an IPv4 address (expected A.B.C.D)'],
    [{ subnet: '10.0.0.0/24', gateway: '10.0.0.1/24' }, [], 'EINVAL', '--gateway: "10.0.0.1/24" is not an IPv4 address (expected A.B.C.D)'],
    [{ subnet: '10.0.0.0/24', gateway: '10.0.1.1' }, [], 'EINVAL', '--gateway: 10.0.1.1 is outside the subnet 10.0.0.0/24'],
    [{ subnet: '10.0.0.0/24', gateway: '10.0.0.0' }, [], 'EINVAL', '--gateway: 10.0.0.0 is the network address of 10.0.0.0/24'],
    [{ subnet: '10.0.0.0/24', gateway: '10.0.0.255' }, [], 'EINVAL', '--gateway: 10.0.0.255 is the broadcast address of 10.0.0.0/24'],
    [{ subnet: '10.0.0.0/24', ipRange: '10.0.0.5/25' }, [], 'EINVAL', '--ip-range: 10.0.0.5/25 has host bits set (did you mean 10.0.0.0/25?)'],
    [{ subnet: '10.0.0.0/24', ipRange: '10.0.1.0/25' }, [], 'EINVAL', '--ip-range: 10.0.1.0/25 is not inside the subnet 10.0.0.0/24'],
    [{ subnet: '10.0.0.0/24', ipRange: '10.0.0.0/23' }, [], 'EINVAL', '--ip-range: 10.0.0.0/23 is not inside the subnet 10.0.0.0/24'],
    [{ subnet: '10.0.0.0/24', ipRange: 'all' }, [], 'EINVAL', '--ip-range: "all" is not an IPv4 CIDR (expected A.B.C.D/N)'],
    // format errors win over an overlap
    [{ subnet: '10.0.0.0/24', gateway: '10.0.0.0' }, ['10.0.0.0/8'], 'EINVAL', '--gateway: 10.0.0.0 is the network address of 10.0.0.0/24'],
    [{ subnet: '10.0.0.0/24' }, ['10.0.0.0/24'], 'EOVERLAP', 'Pool overlaps with other one on this address space'],
    [{ subnet: '10.0.0.0/16' }, ['10.0.200.0/24'], 'EOVERLAP', POOL_OVERLAP_MESSAGE],
    [{ subnet: '10.0.3.0/24' }, ['192.168.0.0/16', '10.0.0.0/8'], 'EOVERLAP', POOL_OVERLAP_MESSAGE],
    [{ subnet: '10.0.3.0/24' }, ['10.0.3.0/x'], 'EINVAL', 'existing network subnet: "10.0.3.0/x" is not an IPv4 CIDR (expected A.B.C.D/N)'],
  ];
  for (const [input, taken, code, message] of table) equal(failure(() => checkUserPool(input, taken)), [code, message], message);
});

// --- the dumb twin (STYLE habit 5): enumerate every candidate, compare address intervals.

function interval(text: string): [number, number] {
  const c = parseCidr(text);
  return [c.base, c.base + 2 ** (32 - c.prefix) - 1];
}

function twinAllocateSubnet(pools: string[], n: number, taken: string[]): string | 'EPOOLEXHAUSTED' {
  const blocks = taken.map(interval);
  const step = 2 ** (32 - n);
  for (const p of pools) {
    const [lo, hi] = interval(p);
    for (let start = lo; start + step - 1 <= hi; start += step) {
      const end = start + step - 1;
      if (blocks.every(([a, b]) => end < a || b < start)) return formatCidr({ base: start, prefix: n });
    }
  }
  return 'EPOOLEXHAUSTED';
}

/** A random aligned block of prefix in [minPrefix, maxPrefix] inside 10.0.0.0/20. */
function randomBlock(r: Rand, minPrefix: number, maxPrefix: number): string {
  const prefix = minPrefix + r.int(maxPrefix - minPrefix + 1);
  const count = 2 ** (prefix - 20);
  return formatCidr({ base: 0x0a000000 + r.int(count) * 2 ** (32 - prefix), prefix });
}

function actualSubnet(pools: string[], n: number, taken: string[]): string {
  try {
    return allocateSubnet(pools, n, taken);
  } catch (e) {
    if (e instanceof IpamError && e.code === 'EPOOLEXHAUSTED') return e.code;
    throw e;
  }
}

t('allocateSubnet agrees with the dumb twin on random pools and taken sets, one-off and allocated to exhaustion', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const r = seededRand(seed);
    try {
      const pools = Array.from({ length: 1 + r.int(3) }, () => randomBlock(r, 23, 28));
      const maxPoolPrefix = Math.max(...pools.map((p) => parseCidr(p).prefix));
      const n = maxPoolPrefix + r.int(30 - maxPoolPrefix + 1);
      const taken = Array.from({ length: r.int(10) }, () => randomBlock(r, 20, 32));
      for (let step = 0; step < 300; step++) {
        const want = twinAllocateSubnet(pools, n, taken);
        is(actualSubnet(pools, n, taken), want, `step ${step}`);
        if (want === 'EPOOLEXHAUSTED') break;
        taken.push(want);
        if (r.int(4) === 0) taken.splice(r.int(taken.length), 1); // a network removed
      }
    } catch (e) {
      throw new Error(`seed ${seed}: ${(e as Error).message}`);
    }
  }
});

t.run();
