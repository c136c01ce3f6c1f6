// Flags shared by the swarm subcommands, with docker's names, and their
// checks (STYLE habit 9: name the flag, what was expected, what came). Only
// what the CLI can judge alone is checked here; whether an address exists on
// this host or a port is free is the daemon's to say.
import { isIP } from 'node:net';
import type { Argv } from 'yargs';
import { UsageError } from '../../shared/errors.js';
import type { SwarmSpecInput } from '../api/types.js';
import { parsePeriodMs } from './duration.js';

/**
 * A string flag's value. yargs turns a repeated flag into an array; like
 * docker's (pflag) string flags, the last one given wins.
 */
export function lastOf(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return String(Array.isArray(v) ? v[v.length - 1] : v);
}

/** A repeatable flag's values in the order given (none, one or an array from yargs). */
export function listOf(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** ADDR[:PORT] or an interface name: passed on as given, but never empty. */
export function addrFlag(v: unknown, flag: string, shape: string): string | undefined {
  const s = lastOf(v);
  if (s === undefined) return undefined;
  if (s.trim() === '') throw new UsageError(`${flag}: expected ${shape}, got "${s}"`);
  return s;
}

/** A decimal integer within [min, max]. */
export function intFlag(v: unknown, flag: string, min: number, max: number): number | undefined {
  const s = lastOf(v);
  if (s === undefined) return undefined;
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${flag}: expected an integer from ${min} to ${max}, got "${s}"`);
  return n;
}

/** A CIDR such as 10.0.0.0/8 (IPv4 or IPv6). */
export function cidrFlag(s: string, flag: string): string {
  const slash = s.indexOf('/');
  const family = slash > 0 ? isIP(s.slice(0, slash)) : 0;
  const bits = s.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (family === 0 || !/^\d{1,3}$/.test(bits) || Number(bits) > max) {
    throw new UsageError(`${flag}: expected a CIDR such as 10.0.0.0/8, got "${s}"`);
  }
  return s;
}

/** The listen, advertise and data path address flags of `swarm init` and `swarm join`. */
export function withAddrFlags(y: Argv): Argv {
  return y
    .option('advertise-addr', { type: 'string', describe: 'Advertised address (format: "<ip|interface>[:port]")' })
    .option('datapath-addr', {
      type: 'string',
      alias: 'data-path-addr',
      describe: 'Address or interface to use for data path traffic (format: "<ip|interface>")',
    })
    .option('listen-addr', { type: 'string', describe: 'Listen address (format: "<ip|interface>[:port]") (default 0.0.0.0:2377)' });
}

export interface AddrArgs {
  'advertise-addr'?: string | string[];
  'datapath-addr'?: string | string[];
  'listen-addr'?: string | string[];
}

/** The address fields of an init or join request: only those given. */
export function addrFields(args: AddrArgs): { ListenAddr?: string; AdvertiseAddr?: string; DataPathAddr?: string } {
  const out: { ListenAddr?: string; AdvertiseAddr?: string; DataPathAddr?: string } = {};
  const listen = addrFlag(args['listen-addr'], '--listen-addr', '<ip|interface>[:port]');
  const advertise = addrFlag(args['advertise-addr'], '--advertise-addr', '<ip|interface>[:port]');
  const dataPath = addrFlag(args['datapath-addr'], '--datapath-addr', '<ip|interface>');
  if (listen !== undefined) out.ListenAddr = listen;
  if (advertise !== undefined) out.AdvertiseAddr = advertise;
  if (dataPath !== undefined) out.DataPathAddr = dataPath;
  return out;
}

/** The spec flags that `swarm init` and `swarm update` share. */
export function withSpecFlags(y: Argv): Argv {
  return y
    .option('dispatcher-heartbeat', { type: 'string', describe: 'Dispatcher heartbeat period (ns|us|ms|s|m|h) (default 5s)' })
    .option('cert-expiry', { type: 'string', describe: 'Validity period for node certificates (ns|us|ms|s|m|h) (default 2160h0m0s)' });
}

export interface SpecArgs {
  'dispatcher-heartbeat'?: string | string[];
  'cert-expiry'?: string | string[];
  'key-rotation'?: string | string[];
}

/** The spec fields the flags set, or undefined when no spec flag was given. */
export function specFields(args: SpecArgs): SwarmSpecInput | undefined {
  const spec: SwarmSpecInput = {};
  const heartbeat = lastOf(args['dispatcher-heartbeat']);
  const expiry = lastOf(args['cert-expiry']);
  const rotation = lastOf(args['key-rotation']);
  if (heartbeat !== undefined) spec.Dispatcher = { HeartbeatPeriodMs: parsePeriodMs(heartbeat, '--dispatcher-heartbeat') };
  if (expiry !== undefined) spec.CAConfig = { NodeCertExpiryMs: parsePeriodMs(expiry, '--cert-expiry') };
  if (rotation !== undefined) spec.EncryptionConfig = { KeyRotationMs: parsePeriodMs(rotation, '--key-rotation') };
  return Object.keys(spec).length > 0 ? spec : undefined;
}
