// Names of everything a test bed creates, and how to tell ours from others'.
//
// Scheme (prefix = `tb<pid base36>-<n base36>`, e.g. `tb2x1-0`):
//   netns      <prefix>-sw             the underlay switch (bridges live here)
//              <prefix>-h<i>           host i (eth0, and eth1 with a second underlay)
//              <prefix>-h<i>-...       whatever an agent on host i creates (its
//                                      --name-prefix is <prefix>-h<i>)
//   links      <prefix>-br0/-br1       underlay bridges, inside <prefix>-sw
//              <prefix>-h<i>/-h<i>b    switch-side veth of host i, inside <prefix>-sw
//              eth0/eth1               host-side veth, inside <prefix>-h<i>
//   temp dir   $TMPDIR/<prefix>.XXXXXX agent sockets, state dirs, logs
//
// The pid makes a leftover attributable: sweepStale() removes a prefix only
// when its process is gone. The counter separates several beds of one
// process. Nothing is ever created in the root netns. Linux caps interface
// names at 15 characters (IFNAMSIZ - 1), which is why the prefix is short.

export const IFNAME_MAX = 15;

/** A prefix that sweepStale() may attribute to a process. */
const OWNED_PREFIX_RE = /^tb([0-9a-z]{1,8})-([0-9a-z]{1,4})$/;
/** A netns or temp dir name of an owned prefix: `<prefix>-...` or `<prefix>.XXXXXX`. */
const OWNED_NAME_RE = /^(tb([0-9a-z]{1,8})-[0-9a-z]{1,4})[-.]/;
/** Prefixes a caller may choose: short, and safe in any iproute2 or nft position. */
const CUSTOM_PREFIX_RE = /^[a-z][a-z0-9-]{0,9}$/;

let bedsMade = 0;

/** The next prefix of this process: tb<pid36>-<counter36>. */
export function nextPrefix(pid = process.pid): string {
  return `tb${pid.toString(36)}-${(bedsMade++).toString(36)}`;
}

export function validatePrefix(prefix: string): void {
  if (!CUSTOM_PREFIX_RE.test(prefix)) {
    throw new Error(`prefix: expected 1-10 of [a-z0-9-] starting with a letter, got ${JSON.stringify(prefix)}`);
  }
}

/** The pid encoded in an owned prefix, or undefined for a name not of our pattern. */
export function prefixPid(prefix: string): number | undefined {
  const m = OWNED_PREFIX_RE.exec(prefix);
  return m?.[1] === undefined ? undefined : parseInt(m[1], 36);
}

/** The owned prefix a netns or temp dir name belongs to, if any. */
export function ownerPrefix(name: string): string | undefined {
  return OWNED_NAME_RE.exec(name)?.[1];
}

export const names = {
  switchNetns: (prefix: string) => `${prefix}-sw`,
  hostNetns: (prefix: string, i: number) => `${prefix}-h${i}`,
  hostName: (i: number) => `h${i}`,
  bridge: (prefix: string, underlay: number) => `${prefix}-br${underlay}`,
  /** Switch-side end of host i's veth on underlay 0 or 1. */
  port: (prefix: string, i: number, underlay: number) => `${prefix}-h${i}${underlay === 0 ? '' : 'b'}`,
  /** Host-side end, inside the host's own netns. */
  hostIf: (underlay: number) => `eth${underlay}`,
};

/** 192.0.2.0/24 and 198.51.100.0/24 are TEST-NET-1 and -2 (RFC 5737): never routed anywhere real. */
export const UNDERLAYS = [
  { subnet: '192.0.2.0/24', addr: (i: number) => `192.0.2.${10 + i}` },
  { subnet: '198.51.100.0/24', addr: (i: number) => `198.51.100.${10 + i}` },
] as const;
export const UNDERLAY_PREFIX_LEN = 24;
