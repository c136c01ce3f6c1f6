// Finding and removing what a test bed left behind: by prefix (its own
// teardown, and tests proving a clean teardown) or by dead owner (sweepStale,
// for leftovers of a SIGKILLed run).
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runSync } from '../host/run.js';
import { endPids, endPidsSync, netnsPids, netnsPidsSync, pidAlive } from './processes.js';
import { names, ownerPrefix, prefixPid } from './naming.js';

export interface Leftovers {
  /** Named network namespaces `<prefix>-...`. */
  netns: string[];
  /** Links in the root netns whose name starts with the prefix (there should never be any). */
  links: string[];
  /** Temp dirs `$TMPDIR/<prefix>.*`, and `/etc/netns/<prefix>-*` (what agents write for their endpoints' `ip netns exec`: resolv.conf). */
  dirs: string[];
}

function parseNetnsList(stdout: string): string[] {
  // Lines are `name` or `name (id: 3)`.
  return stdout
    .split('\n')
    .map((l) => l.trim().split(' ')[0] ?? '')
    .filter((n) => n !== '');
}

function parseLinkNames(stdout: string): string[] {
  // `ip -o link show` lines: `7: name@peer: <FLAGS> ...`.
  return stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

const inPrefix = (prefix: string) => (name: string) => name.startsWith(`${prefix}-`);

function tempDirs(prefix?: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir());
  } catch {
    return [];
  }
  return entries
    .filter((n) => (prefix === undefined ? ownerPrefix(n) !== undefined : n.startsWith(`${prefix}.`)))
    .map((n) => join(tmpdir(), n));
}

/** Where `ip netns exec` finds per-netns files; `ip netns del` leaves them. */
const ETC_NETNS = '/etc/netns';

function etcDirs(prefix?: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(ETC_NETNS);
  } catch {
    return [];
  }
  return entries.filter((n) => (prefix === undefined ? ownerPrefix(n) !== undefined : n.startsWith(`${prefix}-`))).map((n) => join(ETC_NETNS, n));
}

export async function listNetns(): Promise<string[]> {
  return parseNetnsList((await run(['ip', 'netns', 'list'])).stdout);
}

function listNetnsSync(): string[] {
  return parseNetnsList(runSync(['ip', 'netns', 'list']).stdout);
}

/** Everything carrying prefix: netns anywhere, links in the root netns, temp dirs. */
export async function listOurs(prefix: string): Promise<Leftovers> {
  const netns = (await listNetns()).filter(inPrefix(prefix));
  const links = parseLinkNames((await run(['ip', '-o', 'link', 'show'])).stdout).filter((n) => n.startsWith(prefix));
  return { netns, links, dirs: [...tempDirs(prefix), ...etcDirs(prefix)] };
}

// Processes still inside our namespaces get this long to exit on SIGTERM.
const LEFTOVER_GRACE_MS = 1_000;

/**
 * Remove every netns `<prefix>-*` (after ending every process inside it, so
 * none keeps a namespace alive), the switch's links, and the temp dirs.
 */
export async function removePrefix(prefix: string): Promise<void> {
  const nss = (await listNetns()).filter(inPrefix(prefix));
  const pids = (await Promise.all(nss.map(netnsPids))).flat();
  await endPids(pids, LEFTOVER_GRACE_MS);
  const sw = names.switchNetns(prefix);
  if (nss.includes(sw)) {
    // Deleting the switch-side veths and bridges explicitly, rather than
    // relying on netns destruction, frees them even if a process we could
    // not end still pins a host netns.
    const links = parseLinkNames((await run(['ip', '-n', sw, '-o', 'link', 'show'], { allowFail: true })).stdout);
    for (const l of links.filter((n) => n.startsWith(prefix))) await run(['ip', '-n', sw, 'link', 'del', l], { allowFail: true });
  }
  for (const ns of nss) await run(['ip', 'netns', 'del', ns], { allowFail: true });
  for (const d of [...tempDirs(prefix), ...etcDirs(prefix)]) rmSync(d, { recursive: true, force: true });
}

export function removePrefixSync(prefix: string): void {
  const nss = listNetnsSync().filter(inPrefix(prefix));
  endPidsSync(nss.flatMap(netnsPidsSync), LEFTOVER_GRACE_MS);
  const sw = names.switchNetns(prefix);
  if (nss.includes(sw)) {
    const links = parseLinkNames(runSync(['ip', '-n', sw, '-o', 'link', 'show'], { allowFail: true }).stdout);
    for (const l of links.filter((n) => n.startsWith(prefix))) runSync(['ip', '-n', sw, 'link', 'del', l], { allowFail: true });
  }
  for (const ns of nss) runSync(['ip', 'netns', 'del', ns], { allowFail: true });
  for (const d of [...tempDirs(prefix), ...etcDirs(prefix)]) rmSync(d, { recursive: true, force: true });
}

/**
 * Remove leftovers of test beds whose process is gone (a SIGKILLed run).
 * Touches only names of the `tb<pid36>-<n>` pattern whose pid is not alive;
 * never this process's beds, never a live process's. Returns the prefixes removed.
 */
export async function sweepStale(): Promise<string[]> {
  const candidates = new Set<string>();
  for (const n of await listNetns()) {
    const p = ownerPrefix(n);
    if (p !== undefined) candidates.add(p);
  }
  for (const d of tempDirs()) {
    const p = ownerPrefix(d.slice(tmpdir().length + 1));
    if (p !== undefined) candidates.add(p);
  }
  for (const d of etcDirs()) {
    const p = ownerPrefix(d.slice(ETC_NETNS.length + 1));
    if (p !== undefined) candidates.add(p);
  }
  const stale = [...candidates].filter((p) => {
    const pid = prefixPid(p);
    return pid !== undefined && pid !== process.pid && !pidAlive(pid);
  });
  for (const p of stale) await removePrefix(p);
  return stale.sort();
}
