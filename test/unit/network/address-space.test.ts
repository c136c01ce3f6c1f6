import { failure } from './fixtures.js';
import { suite, is, equal } from '../../harness.js';
import { seededRand, type Rand } from '../../../shared/rand.js';
import { formatCidr, formatIPv4, parseCidr } from '../../../agent/swarm/cidr.js';
import { AddressSpace, GATEWAY_OWNER, IpamError, type IpamErrorCode, type PoolInput } from '../../../agent/network/ipam.js';

const t = suite('network/address-space');


t('lowest free address in CIDR form, skipping network, gateway and broadcast; inUse has plain keys', () => {
  const s = new AddressSpace({ subnet: '10.0.1.0/24' });
  is(s.gateway, '10.0.1.1');
  is(s.allocate('vip:s1'), '10.0.1.2/24');
  is(s.allocate('task:t1'), '10.0.1.3/24');
  is(s.allocate('lb:n1', '10.0.1.200'), '10.0.1.200/24');
  is(s.allocate('task:t2', '10.0.1.4/24'), '10.0.1.4/24');
  is(s.allocate('task:t3'), '10.0.1.5/24');
  equal(s.release('10.0.1.3/24'), true);
  equal(s.release('10.0.1.3'), false);
  is(s.allocate('task:t4'), '10.0.1.3/24');
  equal(s.inUse(), {
    '10.0.1.1': 'gateway', '10.0.1.2': 'vip:s1', '10.0.1.3': 'task:t4', '10.0.1.4': 'task:t2', '10.0.1.5': 'task:t3', '10.0.1.200': 'lb:n1',
  });
  is(s.ownerOf('10.0.1.200/24'), 'lb:n1');
  is(s.ownerOf('10.0.1.201'), undefined);
});

t('a /30 holds the gateway and exactly one endpoint', () => {
  const s = new AddressSpace({ subnet: '10.0.0.0/30' });
  is(s.allocate('task:a'), '10.0.0.2/30');
  equal(failure(() => s.allocate('task:b')), ['ESUBNETFULL', 'subnet 10.0.0.0/30 has no free address left']);
  s.release('10.0.0.2');
  is(s.allocate('task:b'), '10.0.0.2/30');
});

t('a user gateway elsewhere frees .1; the ip range bounds automatic and preferred addresses', () => {
  const s = new AddressSpace({ subnet: '10.0.0.0/24', gateway: '10.0.0.254', ipRange: '10.0.0.0/30' });
  equal(s.config(), { subnet: '10.0.0.0/24', gateway: '10.0.0.254', ipRange: '10.0.0.0/30' });
  is(s.allocate('a'), '10.0.0.1/24');
  is(s.allocate('b'), '10.0.0.2/24');
  is(s.allocate('c'), '10.0.0.3/24');
  equal(failure(() => s.allocate('d')), ['ESUBNETFULL', 'ip range 10.0.0.0/30 of subnet 10.0.0.0/24 has no free address left']);
  const r = new AddressSpace({ subnet: '10.0.0.0/24', ipRange: '10.0.0.128/25' });
  is(r.allocate('a'), '10.0.0.128/24');
  is(r.allocate('z', '10.0.0.254'), '10.0.0.254/24');
});

t('restored from an IpamAllocation record: the gateway is added, entries in either form are accepted', () => {
  const s = new AddressSpace({ subnet: '10.0.2.0/24' }, { '10.0.2.2/24': 'task:a', '10.0.2.3': 'task:b' });
  equal(s.inUse(), { '10.0.2.1': GATEWAY_OWNER, '10.0.2.2': 'task:a', '10.0.2.3': 'task:b' });
  is(s.allocate('task:c'), '10.0.2.4/24');
  const again = new AddressSpace(s.config(), s.inUse());
  equal(again.inUse(), s.inUse());
});

t('allocate with a preferred address: errors, exact', () => {
  const pool = { subnet: '10.0.0.0/24', ipRange: '10.0.0.0/25' };
  const table: [PoolInput, string, IpamErrorCode, string][] = [
    [pool, 'ten', 'EINVAL', '--ip: "ten" is not an IPv4 address (expected A.B.C.D or A.B.C.D/24)'],
    [pool, '10.0.0.5/16', 'EINVAL', '--ip: 10.0.0.5/16 does not have the prefix length of the subnet 10.0.0.0/24'],
    [pool, '10.0.0.5/', 'EINVAL', '--ip: 10.0.0.5/ does not have the prefix length of the subnet 10.0.0.0/24'],
    [pool, '10.0.1.5', 'EINVAL', '--ip: 10.0.1.5 is outside the subnet 10.0.0.0/24'],
    [pool, '10.0.0.0', 'EINVAL', '--ip: 10.0.0.0 is the network address of 10.0.0.0/24'],
    [{ subnet: '10.0.0.0/24' }, '10.0.0.255', 'EINVAL', '--ip: 10.0.0.255 is the broadcast address of 10.0.0.0/24'],
    [pool, '10.0.0.200', 'EINVAL', '--ip: 10.0.0.200 is outside the ip range 10.0.0.0/25 of 10.0.0.0/24'],
    [pool, '10.0.0.1', 'EINVAL', '--ip: 10.0.0.1 is the gateway of 10.0.0.0/24'],
    [pool, '10.0.0.7/24', 'EADDRINUSE', '--ip: 10.0.0.7 is already in use by task:x in 10.0.0.0/24'],
  ];
  for (const [p, preferred, code, message] of table) {
    const s = new AddressSpace(p, { '10.0.0.7': 'task:x' });
    equal(failure(() => s.allocate('task:y', preferred)), [code, message], message);
    equal(s.inUse(), { '10.0.0.1': 'gateway', '10.0.0.7': 'task:x' }, `unchanged after: ${message}`);
  }
});

t('constructor, owner and release errors, exact', () => {
  const sub = { subnet: '10.0.0.0/24' };
  const table: [() => unknown, string][] = [
    [() => new AddressSpace({ subnet: '10.0.0.0/31' }), '--subnet: 10.0.0.0/31 is too small (its prefix length must be at most 30)'],
    [() => new AddressSpace({ subnet: '10.0.0.0/24', gateway: '10.0.1.1' }), '--gateway: 10.0.1.1 is outside the subnet 10.0.0.0/24'],
    [() => new AddressSpace({ subnet: '10.0.0.0/24', ipRange: '10.0.1.0/24' }), '--ip-range: 10.0.1.0/24 is not inside the subnet 10.0.0.0/24'],
    [() => new AddressSpace(sub, { '10.0.1.9': 'task:a' }), 'in-use address: 10.0.1.9 is outside the subnet 10.0.0.0/24'],
    [() => new AddressSpace(sub, { '10.0.0.255': 'task:a' }), 'in-use address: 10.0.0.255 is the broadcast address of 10.0.0.0/24'],
    [() => new AddressSpace(sub, { 'nope': 'task:a' }), 'in-use address: "nope" is not an IPv4 address (expected A.B.C.D or A.B.C.D/24)'],
    [() => new AddressSpace(sub, { '10.0.0.9': '' }), 'owner: expected a non-empty string, got ""'],
    [() => new AddressSpace(sub, { '10.0.0.9': 'a', '10.0.0.9/24': 'b' }), 'in-use address: 10.0.0.9 is recorded twice, for a and b'],
    [() => new AddressSpace(sub, { '10.0.0.1': 'task:a' }), 'address 10.0.0.1 is the gateway of 10.0.0.0/24 but is recorded as used by task:a'],
    [() => new AddressSpace(sub).allocate(''), 'owner: expected a non-empty string, got ""'],
    [() => new AddressSpace(sub).release('10.0.0.1'), 'release: 10.0.0.1 is the gateway of 10.0.0.0/24 and stays reserved'],
    [() => new AddressSpace(sub).release('10.0.1.1'), 'release: 10.0.1.1 is outside the subnet 10.0.0.0/24'],
    [() => new AddressSpace(sub).release('10.0.0.0/24'), 'release: 10.0.0.0 is the network address of 10.0.0.0/24'],
    [() => new AddressSpace(sub).release('10.0.0.9/25'), 'release: 10.0.0.9/25 does not have the prefix length of the subnet 10.0.0.0/24'],
  ];
  for (const [fn, message] of table) equal(failure(fn), ['EINVAL', message], message);
});

// --- the dumb twin (STYLE habit 5): a list of every address, filtered on each call.

class TwinSpace {
  readonly used = new Map<number, string>();
  constructor(readonly lo: number, readonly hi: number, readonly gw: number, readonly rlo: number, readonly rhi: number) {
    this.used.set(gw, 'gateway');
  }
  allocate(owner: string, preferred?: number): number | IpamErrorCode {
    if (preferred !== undefined) {
      if (preferred < this.lo || preferred > this.hi || preferred === this.lo || preferred === this.hi) return 'EINVAL';
      if (preferred < this.rlo || preferred > this.rhi || preferred === this.gw) return 'EINVAL';
      if (this.used.has(preferred)) return 'EADDRINUSE';
      this.used.set(preferred, owner);
      return preferred;
    }
    const all: number[] = [];
    for (let a = this.lo; a <= this.hi; a++) all.push(a);
    const free = all.filter((a) => a !== this.lo && a !== this.hi && a >= this.rlo && a <= this.rhi && !this.used.has(a));
    if (free.length === 0) return 'ESUBNETFULL';
    this.used.set(free[0]!, owner);
    return free[0]!;
  }
  release(a: number): boolean | IpamErrorCode {
    if (a <= this.lo || a >= this.hi || a === this.gw) return 'EINVAL';
    return this.used.delete(a);
  }
  inUse(): Record<string, string> {
    return Object.fromEntries([...this.used].sort((x, y) => x[0] - y[0]).map(([a, o]) => [formatIPv4(a), o]));
  }
}

function attempt<T>(fn: () => T): T | IpamErrorCode {
  try {
    return fn();
  } catch (e) {
    if (e instanceof IpamError) return e.code;
    throw e;
  }
}

function randomPool(r: Rand): { input: PoolInput; twin: TwinSpace } {
  const prefix = 26 + r.int(5);
  const subnet = { base: 0x0a000000 + r.int(4) * 2 ** (32 - prefix), prefix };
  const n = 2 ** (32 - prefix);
  const lo = subnet.base, hi = subnet.base + n - 1;
  const gw = r.int(2) === 0 ? lo + 1 : lo + 1 + r.int(n - 2);
  const rangePrefix = r.int(2) === 0 ? undefined : prefix + r.int(33 - prefix);
  const range = rangePrefix === undefined ? undefined : { base: lo + r.int(2 ** (rangePrefix - prefix)) * 2 ** (32 - rangePrefix), prefix: rangePrefix };
  const input: PoolInput = { subnet: formatCidr(subnet), gateway: formatIPv4(gw) };
  if (range !== undefined) input.ipRange = formatCidr(range);
  const [rlo, rhi] = range === undefined ? [lo, hi] : [range.base, range.base + 2 ** (32 - range.prefix) - 1];
  return { input, twin: new TwinSpace(lo, hi, gw, rlo, rhi) };
}

t('AddressSpace agrees with the dumb twin over random allocate / release / restore sequences', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const r = seededRand(seed);
    try {
      const { input, twin } = randomPool(r);
      let space = new AddressSpace(input);
      const prefix = parseCidr(input.subnet).prefix;
      // Addresses near the subnet, a few outside it on either side.
      const pick = () => twin.lo - 2 + r.int(twin.hi - twin.lo + 5);
      const shown = (a: number | IpamErrorCode) => (typeof a === 'number' ? `${formatIPv4(a)}/${prefix}` : a);
      for (let step = 0; step < 200; step++) {
        const op = r.int(10);
        const owner = `task:${step}`;
        if (op < 5) {
          is(attempt(() => space.allocate(owner)), shown(twin.allocate(owner)), `step ${step} allocate`);
        } else if (op < 7) {
          const a = pick();
          is(attempt(() => space.allocate(owner, formatIPv4(a))), shown(twin.allocate(owner, a)), `step ${step} allocate ${formatIPv4(a)}`);
        } else if (op < 9) {
          const a = pick();
          is(attempt(() => space.release(formatIPv4(a))), twin.release(a), `step ${step} release ${formatIPv4(a)}`);
        } else {
          space = new AddressSpace(space.config(), space.inUse()); // persisted and restored by a new leader
        }
        equal(space.inUse(), twin.inUse(), `step ${step} inUse`);
      }
    } catch (e) {
      throw new Error(`seed ${seed}: ${(e as Error).message}`);
    }
  }
});

t.run();
