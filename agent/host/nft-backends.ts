// One chain per backend (issue 11): how the VIP rules (discovery/vip-rules.ts)
// and the ingress sandbox's rules (mesh/mesh-rules.ts) spread new flows over
// backends so that each backend's flows are counted. The base chain picks a
// backend chain with `numgen random mod N vmap { i : goto be_<key>_<i> }`;
// the backend chain's one rule is `counter ... dnat to BACKEND`. Only a
// flow's first packet traverses a nat chain (conntrack keeps the choice), so
// each counter's packets are the flows that backend was given. A counter in
// a chain works on any kernel with nftables and reads back as one rule's;
// per-element counters of a named map (tried too: they count on Linux 6.18)
// rely on set-element expressions, a later kernel addition. The dnat is a
// terminal verdict (accept), so `goto` never falls back into the base chain.
//
// metrics/lb-counters.ts reads the counters back from `nft -j list table`,
// knowing a backend chain by its name (parseBackendChain) and its backend by
// the dnat's address.

/** Chain names: `be_` + a key of [a-z0-9_] + `_` + the backend's index. */
const KEY_RE = /^[a-z0-9]+(?:_[a-z0-9]+)*$/;
const CHAIN_RE = /^be_([a-z0-9_]+)_(\d+)$/;

/** The key of a VIP's chains: its dotted quad with underscores (10.0.1.2 -> 10_0_1_2). */
export function vipChainKey(vip: string): string {
  return checkKey(vip.replaceAll('.', '_'));
}

/** The key of a published port's chains in the ingress sandbox (tcp, 8080 -> tcp_8080). */
export function portChainKey(protocol: string, published: number): string {
  return checkKey(`${protocol}_${published}`);
}

function checkKey(key: string): string {
  if (!KEY_RE.test(key)) throw new RangeError(`backend chain key: expected [a-z0-9] words joined by _, got ${JSON.stringify(key)}`);
  return key;
}

/** The name of the chain of backend i (0-based) of key. */
export function backendChain(key: string, i: number): string {
  return `be_${checkKey(key)}_${i}`;
}

/** key and index of a backend chain's name; undefined for any other chain. */
export function parseBackendChain(name: string): { key: string; index: number } | undefined {
  const m = CHAIN_RE.exec(name);
  return m ? { key: m[1]!, index: Number(m[2]) } : undefined;
}

/**
 * The base chain's rule: flows matching `match` go to one of n backend
 * chains, chosen at random per flow (vip-rules.ts says why not round robin);
 * a plain goto when there is one.
 */
export function spreadRule(match: string, key: string, n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`spreadRule: expected at least one backend, got ${n}`);
  if (n === 1) return `${match} goto ${backendChain(key, 0)}`;
  const arms = Array.from({ length: n }, (_, i) => `${i} : goto ${backendChain(key, i)}`);
  return `${match} numgen random mod ${n} vmap { ${arms.join(', ')} }`;
}

/**
 * The backend chains of key, one per rule (tab-indented lines for a table
 * body). Each rule must begin with `counter`, so that every flow sent to the
 * chain is counted before it is translated.
 */
export function backendChains(key: string, rules: readonly string[]): string[] {
  return rules.flatMap((r, i) => {
    if (!r.startsWith('counter ')) throw new RangeError(`backendChains: a backend rule must begin with counter, got ${JSON.stringify(r)}`);
    return [`\tchain ${backendChain(key, i)} {`, `\t\t${r}`, '\t}'];
  });
}
