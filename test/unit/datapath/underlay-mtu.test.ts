import { suite, is } from '../../harness.js';
import { mtuOfAddress } from '../../../agent/datapath/underlay-mtu.js';

const t = suite('underlay-mtu');

const IP_J = JSON.stringify([
  { ifindex: 1, ifname: 'lo', mtu: 65536, addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
  { ifindex: 2, ifname: 'eth0', mtu: 1400, addr_info: [{ family: 'inet', local: '192.0.2.10', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] },
  { ifindex: 3, ifname: 'eth1', mtu: 9000, addr_info: [{ family: 'inet', local: '198.51.100.10', prefixlen: 24 }] },
  { ifindex: 4, ifname: 'down0', mtu: 1500 },
]);

t('the MTU of the link that holds the address', () => {
  is(mtuOfAddress(IP_J, '192.0.2.10'), 1400);
  is(mtuOfAddress(IP_J, '198.51.100.10'), 9000);
  is(mtuOfAddress(IP_J, '127.0.0.1'), 65536);
});

t('an address no link holds, or output that is not ip -j, gives undefined', () => {
  is(mtuOfAddress(IP_J, '203.0.113.1'), undefined);
  is(mtuOfAddress('not json', '192.0.2.10'), undefined);
  is(mtuOfAddress('{}', '192.0.2.10'), undefined);
});

t.run();
