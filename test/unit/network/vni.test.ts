import { failure } from './fixtures.js';
import { suite, is, equal } from '../../harness.js';
import { seededRand } from '../../../shared/rand.js';
import { allocateVni, IpamError, VNI_MAX, VNI_MIN } from '../../../agent/network/ipam.js';

const t = suite('network/vni');


t('VNIs start at 4096 and stop at 2^24-1 (RFC 7348 §5: a 24-bit field)', () => {
  is(VNI_MIN, 4096);
  is(VNI_MAX, 2 ** 24 - 1);
  is(allocateVni([]), 4096);
  is(allocateVni([4096, 4097, 4099]), 4098);
  is(allocateVni(new Set([1, 2, 4095, 4096, 2 ** 24])), 4097);
  is(allocateVni([], { min: VNI_MAX, max: VNI_MAX }), VNI_MAX);
});

t('exhaustion and bad ranges, exact', () => {
  equal(failure(() => allocateVni([10, 11, 12], { min: 10, max: 12 })), ['EVNIEXHAUSTED', 'no free VXLAN network identifier in 10-12']);
  equal(failure(() => allocateVni([VNI_MAX], { min: VNI_MAX, max: VNI_MAX })), ['EVNIEXHAUSTED', 'no free VXLAN network identifier in 16777215-16777215']);
  equal(failure(() => allocateVni([], { min: 0, max: 5 })), ['EINVAL', 'vni range: expected integers min <= max in 1-16777215, got 0-5']);
  equal(failure(() => allocateVni([], { min: 6, max: 5 })), ['EINVAL', 'vni range: expected integers min <= max in 1-16777215, got 6-5']);
  equal(failure(() => allocateVni([], { min: 1, max: 2 ** 24 })), ['EINVAL', 'vni range: expected integers min <= max in 1-16777215, got 1-16777216']);
});

t('allocateVni agrees with a dumb twin (sort and scan) on random taken sets', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const r = seededRand(seed);
    const range = { min: 1 + r.int(20), max: 20 + r.int(20) };
    const taken = Array.from({ length: r.int(45) }, () => r.int(45));
    const sorted = [...new Set(taken)].sort((a, b) => a - b);
    let want: number | undefined;
    for (let v = range.min; v <= range.max && want === undefined; v++) if (!sorted.includes(v)) want = v;
    const got = (() => {
      try {
        return allocateVni(taken, range);
      } catch (e) {
        return (e as IpamError).code;
      }
    })();
    is(got, want ?? 'EVNIEXHAUSTED', `seed ${seed}`);
  }
});

t.run();
