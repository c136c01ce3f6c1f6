// `-p, --publish` and `--publish-rm` values, read as docker reads them
// (docker/cli opts/swarmopts/port.go over go-connections' nat.ParsePortSpec):
//
//   short  [published:]target[/protocol]         8080:80, 8080:80/udp, 80
//   long   key=value[,key=value...]              published=8080,target=80,protocol=udp,mode=host
//
// A value with a key=value pair anywhere in it is the long form, as docker's
// unanchored match decides. Errors are docker's own text, wrapped as pflag
// wraps them: invalid argument "8080:abc" for "-p, --publish" flag: invalid containerPort: abc.
// Not taken here, and said so: port ranges (8080-8081:80-81), a host IP
// (docker refuses it too) and sctp (PortSpec has tcp and udp).
// Ours, not docker's: the long form's `proxy-protocol=v2` (issue 10), a PROXY
// protocol v2 header in front of each connection the routing mesh relays.
//
// `agent run -p` (parseRunPublish) takes the short form as `docker run` does,
// with sctp too, but always with a published port, and no host IP: an
// endpoint's ports are published on all of the node's addresses.
import { isIP } from 'node:net';
import type { PortSpec, RunPort, ServiceUpdateRequest } from '../api/types.js';
import { UsageError } from '../../shared/errors.js';

export type PortRemoval = NonNullable<ServiceUpdateRequest['PortsRm']>[number];
type Protocol = PortSpec['Protocol'];

export const PUBLISH_FLAG = '-p, --publish';
export const PUBLISH_RM_FLAG = '--publish-rm';

const MAX_PORT = 65535;
// docker's /\w+=\w+(,\w+=\w+)*/, with '-' in keys for proxy-protocol.
const LONG_FORM_RE = /[\w-]+=\w+(,[\w-]+=\w+)*/;
const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp'];
const RUN_PROTOCOLS: readonly RunPort['Protocol'][] = ['tcp', 'udp', 'sctp'];
const HOSTIP_SERVICE = 'hostip is not supported';
const HOSTIP_RUN = 'a host IP is not supported: ports are published on all addresses';
/** The long form's key for the PROXY protocol opt-in, and the one version it takes. */
const PROXY_KEY = 'proxy-protocol';
const PROXY_NEEDS = 'proxy-protocol=v2 needs a tcp port published in ingress mode';

function invalid(value: string, flag: string, reason: string): UsageError {
  return new UsageError(`invalid argument "${value}" for "${flag}" flag: ${reason}`);
}

/** A port number 1-65535 written in decimal digits, or undefined. */
function port(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= MAX_PORT ? n : undefined;
}

/**
 * Go's strconv.ParseUint(text, 10, 16) failure, as docker words it for the
 * long form ("invalid syntax", "value out of range"), or undefined for a
 * port 1-65535. 0 is out of range here: a port must be named.
 */
function longFormPort(text: string): { port: number } | { err: string } {
  if (!/^\d+$/.test(text)) return { err: 'invalid syntax' };
  const n = port(text);
  return n === undefined ? { err: 'value out of range' } : { port: n };
}

/** nat.SplitProtoPort: "80/udp" → ["udp", "80"], "80" and "80/" → tcp; "" → no port at all. */
function splitProtoPort(raw: string): [proto: string, port: string] {
  const parts = raw.split('/');
  if (raw === '' || parts[0] === '') return ['', ''];
  if (parts.length === 1 || parts[1] === '') return ['tcp', parts[0]!];
  return [parts[1]!, parts[0]!];
}

function protocolOf(proto: string): Protocol | undefined {
  const p = proto.toLowerCase();
  return (PROTOCOLS as readonly string[]).includes(p) ? (p as Protocol) : undefined;
}

/** The short form's parts: published ('' when absent), target and protocol; host IPs refused with hostIpReason. */
function shortForm(value: string, flag: string, hostIpReason = HOSTIP_SERVICE): { published: string; target: string; proto: string } {
  const parts = value.split(':');
  if (parts.length > 2) {
    // nat's ip:published:target: docker reads the address, then refuses it for services.
    const ip = parts.slice(0, -2).join(':');
    throw invalid(value, flag, isIP(ip.replace(/^\[(.*)\]$/, '$1')) ? hostIpReason : `invalid IP address: ${ip}`);
  }
  const published = parts.length === 2 ? parts[0]! : '';
  const [proto, target] = splitProtoPort(parts[parts.length - 1]!);
  if (target === '') throw invalid(value, flag, `no port specified: ${value}<empty>`);
  if (/^\d+-\d+$/.test(target) || /^\d+-\d+$/.test(published)) throw invalid(value, flag, 'port ranges are not supported, publish each port with its own flag');
  return { published, target, proto };
}

/** The long form's fields, keys and values lowercased as docker does; the last of a key wins. */
function longForm(value: string, flag: string, keys: readonly string[]): Map<string, string> {
  const fields = new Map<string, string>();
  for (const field of value.split(',')) {
    const lower = field.toLowerCase();
    const eq = lower.indexOf('=');
    if (eq <= 0) throw invalid(value, flag, `invalid field: ${field}`);
    const key = lower.slice(0, eq);
    if (!keys.includes(key)) throw invalid(value, flag, `invalid field key: ${key}`);
    fields.set(key, lower.slice(eq + 1));
  }
  return fields;
}

/**
 * One `-p` value as a PortSpec: ingress mode and tcp unless said otherwise; no
 * PublishedPort when only the target is given. `proxy-protocol=v2` only on a
 * tcp port in ingress mode (the leader says so too).
 */
export function parsePublish(value: string, flag = PUBLISH_FLAG): PortSpec {
  if (LONG_FORM_RE.test(value)) {
    const f = longForm(value, flag, ['published', 'target', 'protocol', 'mode', PROXY_KEY]);
    const spec: PortSpec = { Protocol: 'tcp', TargetPort: 0, PublishMode: 'ingress' };
    const proto = f.get('protocol');
    if (proto !== undefined) {
      const p = protocolOf(proto);
      if (!p) throw invalid(value, flag, `invalid protocol value '${proto}'`);
      spec.Protocol = p;
    }
    const mode = f.get('mode');
    if (mode !== undefined) {
      if (mode !== 'ingress' && mode !== 'host') throw invalid(value, flag, `invalid publish mode value (${mode}): must be either 'ingress' or 'host'`);
      spec.PublishMode = mode;
    }
    const target = f.get('target');
    if (target === undefined) throw invalid(value, flag, "missing mandatory field 'target'");
    const t = longFormPort(target);
    if ('err' in t) throw invalid(value, flag, `invalid target port (${target}): value must be an integer: ${t.err}`);
    spec.TargetPort = t.port;
    const published = f.get('published');
    if (published !== undefined) {
      const p = longFormPort(published);
      if ('err' in p) throw invalid(value, flag, `invalid published port (${published}): value must be an integer: ${p.err}`);
      spec.PublishedPort = p.port;
    }
    const proxy = f.get(PROXY_KEY);
    if (proxy !== undefined) {
      if (proxy !== 'v2') throw invalid(value, flag, `invalid ${PROXY_KEY} value (${proxy}): must be 'v2'`);
      if (spec.Protocol !== 'tcp' || spec.PublishMode !== 'ingress') throw invalid(value, flag, PROXY_NEEDS);
      spec.ProxyProtocol = proxy;
    }
    return spec;
  }
  const { published, target, proto } = shortForm(value, flag);
  const t = port(target);
  if (t === undefined) throw invalid(value, flag, `invalid containerPort: ${target}`);
  const p = published === '' ? undefined : port(published);
  if (published !== '' && p === undefined) throw invalid(value, flag, `invalid hostPort: ${published}`);
  const protocol = protocolOf(proto);
  if (!protocol) throw invalid(value, flag, `invalid proto: ${proto}`);
  return { Protocol: protocol, TargetPort: t, ...(p !== undefined ? { PublishedPort: p } : {}), PublishMode: 'ingress' };
}

/**
 * One `--publish-rm` value, as docker reads it ("remove a published port by
 * its target port"): a lone number is the target port (`80`, `80/udp`), two
 * are published:target (`8080:80`, `8080:80/udp`), or the long form's
 * published, target and protocol keys. A removal matches every port with
 * what it names; the protocol only when written.
 */
export function parsePublishRm(value: string, flag = PUBLISH_RM_FLAG): PortRemoval {
  if (LONG_FORM_RE.test(value)) {
    const f = longForm(value, flag, ['published', 'target', 'protocol']);
    const out: PortRemoval = {};
    for (const key of ['published', 'target'] as const) {
      const text = f.get(key);
      if (text === undefined) continue;
      const p = longFormPort(text);
      if ('err' in p) throw invalid(value, flag, `invalid ${key} port (${text}): value must be an integer: ${p.err}`);
      if (key === 'published') out.PublishedPort = p.port;
      else out.TargetPort = p.port;
    }
    const proto = f.get('protocol');
    if (proto !== undefined) {
      const p = protocolOf(proto);
      if (!p) throw invalid(value, flag, `invalid protocol value '${proto}'`);
      out.Protocol = p;
    }
    if (out.PublishedPort === undefined && out.TargetPort === undefined) throw invalid(value, flag, "missing mandatory field 'published' or 'target'");
    return out;
  }
  const { published, target, proto } = shortForm(value, flag);
  // With one number it is the target port; with two, published:target.
  const t = port(target);
  if (t === undefined) throw invalid(value, flag, `invalid containerPort: ${target}`);
  const out: PortRemoval = { TargetPort: t };
  if (published !== '') {
    const p = port(published);
    if (p === undefined) throw invalid(value, flag, `invalid hostPort: ${published}`);
    out.PublishedPort = p;
  }
  // The protocol only when written: without it, a removal matches either.
  if (/\/./.test(value)) {
    const protocol = protocolOf(proto);
    if (!protocol) throw invalid(value, flag, `invalid proto: ${proto}`);
    out.Protocol = protocol;
  }
  return out;
}

/**
 * `agent run -p` values (docker run's short form, `published:target[/tcp|udp|sctp]`)
 * as the ports of a standalone endpoint: a published port is required, a host
 * IP refused, and a published port+protocol may come once.
 */
export function parseRunPublish(values: readonly string[], flag = PUBLISH_FLAG): RunPort[] {
  const out: RunPort[] = [];
  for (const value of values) {
    const { published, target, proto } = shortForm(value, flag, HOSTIP_RUN);
    const t = port(target);
    if (t === undefined) throw invalid(value, flag, `invalid containerPort: ${target}`);
    if (published === '') throw invalid(value, flag, 'a published port is required: PUBLISHED:TARGET');
    const p = port(published);
    if (p === undefined) throw invalid(value, flag, `invalid hostPort: ${published}`);
    const protocol = proto.toLowerCase();
    if (!(RUN_PROTOCOLS as readonly string[]).includes(protocol)) throw invalid(value, flag, `invalid proto: ${proto}`);
    const spec: RunPort = { Protocol: protocol as RunPort['Protocol'], TargetPort: t, PublishedPort: p };
    if (out.some((o) => o.PublishedPort === p && o.Protocol === spec.Protocol)) throw invalid(value, flag, `published port ${p}/${spec.Protocol} is given twice`);
    out.push(spec);
  }
  return out;
}
