// The routing mesh's rule generator (agent/mesh/mesh-rules.ts): golden nft
// scripts for the host netns and the ingress sandbox, deterministic whatever
// the input order, and bad input refused with one line.
import { suite, is, throws } from '../../harness.js';
import { hostScript, sandboxScript } from '../../../agent/mesh/mesh-rules.js';

const t = suite('mesh/mesh-rules');

t('host netns: ingress ports to the sandbox, host-mode ports to their task, from outside and from the node itself', () => {
  const s = hostScript({
    sandboxAddress: '172.18.0.2',
    ingress: [{ protocol: 'udp', published: 8080 }, { protocol: 'tcp', published: 8080 }],
    host: [{ protocol: 'tcp', published: 9000, target: 80, address: '172.18.0.7' }],
  });
  const rules = [
    'fib daddr type local ip daddr != 127.0.0.0/8 tcp dport 8080 dnat to 172.18.0.2:8080',
    'fib daddr type local ip daddr != 127.0.0.0/8 udp dport 8080 dnat to 172.18.0.2:8080',
    'fib daddr type local ip daddr != 127.0.0.0/8 tcp dport 9000 dnat to 172.18.0.7:80',
  ];
  const chain = (name: string) => [`\tchain ${name} {`, `\t\ttype nat hook ${name} priority -100; policy accept;`, ...rules.map((r) => `\t\t${r}`), '\t}'];
  is(s, ['table ip agent_mesh {}', 'delete table ip agent_mesh', 'table ip agent_mesh {', ...chain('prerouting'), ...chain('output'), '}', ''].join('\n'));
});

t('ingress sandbox: each port to its backend chains (a goto for one, a per-flow numgen vmap for several), each chain counting its flows and translating to the target port; masquerade on the ingress interface; a port without backends is left out', () => {
  const s = sandboxScript({
    ingressIf: 'eth0',
    ports: [
      { protocol: 'tcp', published: 8080, target: 80, backends: ['10.0.0.10', '10.0.0.9', '10.0.0.10'] },
      { protocol: 'udp', published: 53, target: 5353, backends: ['10.0.0.4'] },
      { protocol: 'tcp', published: 9999, target: 1, backends: [] },
    ],
  });
  is(
    s,
    [
      'table ip agent_mesh {}',
      'delete table ip agent_mesh',
      'table ip agent_mesh {',
      '\tchain prerouting {',
      '\t\ttype nat hook prerouting priority -100; policy accept;',
      '\t\tudp dport 53 goto be_udp_53_0',
      '\t\ttcp dport 8080 numgen random mod 2 vmap { 0 : goto be_tcp_8080_0, 1 : goto be_tcp_8080_1 }',
      '\t}',
      '\tchain postrouting {',
      '\t\ttype nat hook postrouting priority 100; policy accept;',
      '\t\toifname "eth0" ct status dnat masquerade',
      '\t}',
      '\tchain be_udp_53_0 {',
      '\t\tcounter udp dport 53 dnat to 10.0.0.4:5353',
      '\t}',
      '\tchain be_tcp_8080_0 {',
      '\t\tcounter tcp dport 8080 dnat to 10.0.0.9:80',
      '\t}',
      '\tchain be_tcp_8080_1 {',
      '\t\tcounter tcp dport 8080 dnat to 10.0.0.10:80',
      '\t}',
      '}',
      '',
    ].join('\n'),
  );
});

t('bad input: one clear line, nothing generated', () => {
  throws(() => hostScript({ sandboxAddress: 'x', ingress: [], host: [] }), /sandbox address: expected an IPv4 address, got "x"/);
  throws(() => hostScript({ sandboxAddress: '172.18.0.2', ingress: [{ protocol: 'tcp', published: 80 }], host: [{ protocol: 'tcp', published: 80, target: 1, address: '172.18.0.9' }] }), /tcp\/80 is published twice on this node/);
  throws(() => sandboxScript({ ingressIf: 'eth0', ports: [{ protocol: 'tcp', published: 0, target: 80, backends: ['10.0.0.1'] }] }), /published port: expected a port from 1 to 65535, got 0/);
  throws(() => sandboxScript({ ingressIf: 'eth0; drop', ports: [] }), /ingress interface: expected a Linux interface name/);
});

t.run();
