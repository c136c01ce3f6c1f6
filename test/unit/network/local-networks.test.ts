// Node-local bridge networks (agent/network/local-networks.ts) on FakePlumbing
// and in-memory files: what a bridge refuses because only an overlay can do
// it (naming -d overlay, since a bare `network create` makes a bridge, as
// docker's), and the seed's gwbridge command made as given.
import { suite, is, equal, match } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import { seededRand } from '../../../shared/rand.js';
import { memorySecretFiles } from '../../../agent/cluster/ca/secret-file.js';
import { FakePlumbing } from '../../../agent/datapath/plumbing-fake.js';
import { LocalNetworks } from '../../../agent/network/local-networks.js';

const t = suite('network/local-networks');

function bridges(): LocalNetworks {
  return new LocalNetworks({ stateDir: '/state', io: memorySecretFiles(), plumbing: new FakePlumbing(), rand: seededRand(7), clock: new ManualClock() });
}

async function refusal(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'created',
    (e: Error) => e.message,
  );
}

t('what only an overlay can do is refused on a bridge, naming -d overlay; nothing is made', async () => {
  const b = bridges();
  is(await refusal(b.create({ Name: 'x', Driver: 'bridge', Attachable: true })), '--attachable: only for overlay networks (add -d overlay)');
  is(await refusal(b.create({ Name: 'x', Driver: 'bridge', Ingress: true })), '--ingress: only for overlay networks (add -d overlay)');
  is(await refusal(b.create({ Name: 'x', Driver: 'bridge', Internal: true })), '--internal: only for overlay networks (add -d overlay)');
  is(await refusal(b.create({ Name: 'x', Driver: 'bridge', Options: { encrypted: '' } })), '--opt encrypted: only for overlay networks (add -d overlay)');
  equal(b.list(), []);
});

t("the seed's gwbridge command makes the bridge with its subnet, icc off and masquerade on", async () => {
  const b = bridges();
  const r = await b.create({
    Name: 'agent_gwbridge',
    Driver: 'bridge',
    IPAM: { Config: [{ Subnet: '10.11.0.0/16' }] },
    Options: { 'com.docker.network.bridge.name': 'agent_gwbridge', 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.bridge.enable_ip_masquerade': 'true' },
  });
  match(r.Id, /^[0-9a-z]{25}$/);
  const [made] = b.list();
  equal([made!.device, made!.network.ipam.subnet, made!.network.ipam.gateway], ['agent_gwbridge', '10.11.0.0/16', '10.11.0.1']);
  equal(b.byName('agent_gwbridge')?.network.id, r.Id);
});

t.run();
