// `-p, --publish` and `--publish-rm` values: golden cases of docker's short
// and long forms (docker/cli opts/swarmopts/port.go, go-connections'
// nat.ParsePortSpec), and docker's error text for each way a value is bad.
import { equal, is, ok } from '../../harness.js';
import { suite } from '../../harness.js';
import type { PortSpec, RunPort } from '../../../agent/api/types.js';
import { UsageError } from '../../../shared/errors.js';
import { parsePublish, parsePublishRm, parseRunPublish, type PortRemoval } from '../../../agent/cli/publish-spec.js';

const t = suite('publish spec');

const tcp = (target: number, published?: number): PortSpec => ({ Protocol: 'tcp', TargetPort: target, ...(published !== undefined ? { PublishedPort: published } : {}), PublishMode: 'ingress' });

/** The error message parse gives for value, or '' when it parsed. */
function refusal<V>(parse: (v: V) => unknown, value: V): string {
  try {
    parse(value);
    return '';
  } catch (e) {
    ok(e instanceof UsageError, `${value}: a UsageError`);
    return (e as Error).message;
  }
}

t('short form: published:target[/protocol], or the target alone (the leader picks the published port)', () => {
  const cases: [string, PortSpec][] = [
    ['8080:80', tcp(80, 8080)],
    ['8080:80/tcp', tcp(80, 8080)],
    ['8080:80/udp', { ...tcp(80, 8080), Protocol: 'udp' }],
    ['8080:80/UDP', { ...tcp(80, 8080), Protocol: 'udp' }],
    // nat.SplitProtoPort: an empty protocol is tcp.
    ['8080:80/', tcp(80, 8080)],
    ['80', tcp(80)],
    ['80/udp', { ...tcp(80), Protocol: 'udp' }],
    [':80', tcp(80)],
    ['1:65535', tcp(65535, 1)],
    ['0080:080', tcp(80, 80)],
  ];
  for (const [value, spec] of cases) equal(parsePublish(value), spec, value);
});

t('long form: published, target, protocol and mode, keys and values in any case, the last of a key winning', () => {
  const cases: [string, PortSpec][] = [
    ['published=8080,target=80,protocol=udp,mode=host', { Protocol: 'udp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }],
    ['target=80', tcp(80)],
    ['target=80,mode=ingress,protocol=tcp', tcp(80)],
    ['Published=8080,TARGET=80,Mode=HOST', { ...tcp(80, 8080), PublishMode: 'host' }],
    ['target=80,target=81', tcp(81)],
  ];
  for (const [value, spec] of cases) equal(parsePublish(value), spec, value);
});

t('long form: proxy-protocol=v2 (ours, issue 10), its dash no bar to the long form, first or last', () => {
  const cases: [string, PortSpec][] = [
    ['published=8443,target=443,proxy-protocol=v2', { ...tcp(443, 8443), ProxyProtocol: 'v2' }],
    ['proxy-protocol=v2,target=443', { ...tcp(443), ProxyProtocol: 'v2' }],
    ['Proxy-Protocol=V2,target=443,mode=ingress,protocol=tcp', { ...tcp(443), ProxyProtocol: 'v2' }],
  ];
  for (const [value, spec] of cases) equal(parsePublish(value), spec, value);
  equal(parsePublish('target=443,proxy-protocol=v2', '--publish-add'), { ...tcp(443), ProxyProtocol: 'v2' });
});

t("bad -p values: docker's text, wrapped as pflag wraps a flag's error", () => {
  const cases: [string, string][] = [
    ['8080:abc', 'invalid containerPort: abc'],
    ['abc:80', 'invalid hostPort: abc'],
    ['8080:0', 'invalid containerPort: 0'],
    ['0:80', 'invalid hostPort: 0'],
    ['65536:80', 'invalid hostPort: 65536'],
    ['8080:-1', 'invalid containerPort: -1'],
    // Not docker: docker's seed says -p 8080:80/tcp -p 8080:80/udp for both.
    ['8080:80/tcp+udp', 'invalid proto: tcp+udp'],
    ['8080:80/sctp', 'invalid proto: sctp'],
    ['8080:', 'no port specified: 8080:<empty>'],
    ['', 'no port specified: <empty>'],
    ['8080-8081:80-81', 'port ranges are not supported, publish each port with its own flag'],
    ['1.2.3.4:8080:80', 'hostip is not supported'],
    ['[::1]:8080:80', 'hostip is not supported'],
    ['nohost:8080:80', 'invalid IP address: nohost'],
    ['published=8080', "missing mandatory field 'target'"],
    ['target=80,protocol=sctp', "invalid protocol value 'sctp'"],
    ['target=80,mode=bridge', "invalid publish mode value (bridge): must be either 'ingress' or 'host'"],
    ['target=abc', 'invalid target port (abc): value must be an integer: invalid syntax'],
    ['target=80/udp', 'invalid target port (80/udp): value must be an integer: invalid syntax'],
    ['target=70000', 'invalid target port (70000): value must be an integer: value out of range'],
    ['target=80,published=0', 'invalid published port (0): value must be an integer: value out of range'],
    ['target=80,published=x', 'invalid published port (x): value must be an integer: invalid syntax'],
    ['target=80,src=8080', 'invalid field key: src'],
    ['target=80,x', 'invalid field: x'],
    ['target=80,', 'invalid field: '],
    ['target=80,proxy-protocol=v1', "invalid proxy-protocol value (v1): must be 'v2'"],
    ['target=80,proxy-protocol=true', "invalid proxy-protocol value (true): must be 'v2'"],
    ['proxy-protocol=v2', "missing mandatory field 'target'"],
    ['target=53,protocol=udp,proxy-protocol=v2', 'proxy-protocol=v2 needs a tcp port published in ingress mode'],
    ['target=80,mode=host,proxy-protocol=v2', 'proxy-protocol=v2 needs a tcp port published in ingress mode'],
    ['target=80,proxy_protocol=v2', 'invalid field key: proxy_protocol'],
  ];
  for (const [value, reason] of cases) is(refusal(parsePublish, value), `invalid argument "${value}" for "-p, --publish" flag: ${reason}`, value);
  // The flag named is the one the value came with.
  is(refusal((v) => parsePublish(v, '--publish-add'), '8080:abc'), 'invalid argument "8080:abc" for "--publish-add" flag: invalid containerPort: abc');
});

t("--publish-rm: a lone number is the target port, as docker's; the published port and protocol only when written", () => {
  const cases: [string, PortRemoval][] = [
    ['80', { TargetPort: 80 }],
    ['80/udp', { TargetPort: 80, Protocol: 'udp' }],
    ['80/TCP', { TargetPort: 80, Protocol: 'tcp' }],
    ['8080:80', { TargetPort: 80, PublishedPort: 8080 }],
    ['8080:80/udp', { TargetPort: 80, PublishedPort: 8080, Protocol: 'udp' }],
    ['published=8080,protocol=udp', { PublishedPort: 8080, Protocol: 'udp' }],
    ['target=80', { TargetPort: 80 }],
  ];
  for (const [value, spec] of cases) equal(parsePublishRm(value), spec, value);
});

t("bad --publish-rm values: one line naming the flag", () => {
  const cases: [string, string][] = [
    ['abc', 'invalid containerPort: abc'],
    ['0', 'invalid containerPort: 0'],
    ['8080:x', 'invalid containerPort: x'],
    ['x:80', 'invalid hostPort: x'],
    ['8080/sctp', 'invalid proto: sctp'],
    ['protocol=udp', "missing mandatory field 'published' or 'target'"],
    ['published=8080,mode=host', 'invalid field key: mode'],
    ['published=8080,proxy-protocol=v2', 'invalid field key: proxy-protocol'],
    ['', 'no port specified: <empty>'],
  ];
  for (const [value, reason] of cases) is(refusal(parsePublishRm, value), `invalid argument "${value}" for "--publish-rm" flag: ${reason}`, value);
});

// ---- agent run -p -------------------------------------------------------------

const run = (published: number, target: number, Protocol: RunPort['Protocol'] = 'tcp'): RunPort => ({ Protocol, TargetPort: target, PublishedPort: published });

t('agent run -p: the seed\'s "Publish ports" rows, sctp included, in the order given', () => {
  const cases: [string[], RunPort[]][] = [
    [['8080:80'], [run(8080, 80)]],
    [['8080:80/udp'], [run(8080, 80, 'udp')]],
    [['8080:80/tcp', '8080:80/udp'], [run(8080, 80), run(8080, 80, 'udp')]],
    [['8080:80/sctp'], [run(8080, 80, 'sctp')]],
    [['8080:80/SCTP', '53:53/udp', '8080:80/'], [run(8080, 80, 'sctp'), run(53, 53, 'udp'), run(8080, 80)]],
    [['9090:80', '8080:80'], [run(9090, 80), run(8080, 80)]],
    [[], []],
  ];
  for (const [values, ports] of cases) equal(parseRunPublish(values), ports, values.join(' '));
});

t('agent run -p refusals: a published port required, no host IP, no long form, each published port+protocol once', () => {
  const cases: [string[], string, string][] = [
    [['80'], '80', 'a published port is required: PUBLISHED:TARGET'],
    [[':80'], ':80', 'a published port is required: PUBLISHED:TARGET'],
    [['80/udp'], '80/udp', 'a published port is required: PUBLISHED:TARGET'],
    [['192.168.1.100:8080:80'], '192.168.1.100:8080:80', 'a host IP is not supported: ports are published on all addresses'],
    [['[::1]:8080:80'], '[::1]:8080:80', 'a host IP is not supported: ports are published on all addresses'],
    [['nohost:8080:80'], 'nohost:8080:80', 'invalid IP address: nohost'],
    [['8080:abc'], '8080:abc', 'invalid containerPort: abc'],
    [['abc:80'], 'abc:80', 'invalid hostPort: abc'],
    [['0:80'], '0:80', 'invalid hostPort: 0'],
    [['8080:80/icmp'], '8080:80/icmp', 'invalid proto: icmp'],
    [['8080-8081:80-81'], '8080-8081:80-81', 'port ranges are not supported, publish each port with its own flag'],
    // docker run reads only the short form: a key=value is a bad port.
    [['published=8080,target=80'], 'published=8080,target=80', 'invalid containerPort: published=8080,target=80'],
    [['8080:'], '8080:', 'no port specified: 8080:<empty>'],
    [['8080:80', '8080:81'], '8080:81', 'published port 8080/tcp is given twice'],
    [['8080:80/udp', '8080:80/UDP'], '8080:80/UDP', 'published port 8080/udp is given twice'],
  ];
  for (const [values, bad, reason] of cases) is(refusal(parseRunPublish, values), `invalid argument "${bad}" for "-p, --publish" flag: ${reason}`, values.join(' '));
});

t.run();
