// The switch's packet filter, rendered as one nft script from the bed's
// wanted state (blocked host pairs, per-host loss) and loaded atomically. It
// lives in the bridge family of the switch netns, so it drops frames silently
// on the wire, like a real partition: senders see no error, only silence
// (a route-based partition would make the sender's own send() fail instead).

export interface SwitchHost {
  /** Switch-side ports of this host, one per underlay. */
  ports: readonly string[];
  /** This host's addresses, one per underlay. */
  addrs: readonly string[];
}

export interface SwitchPolicy {
  /** from host index -> host indexes it may not send to. */
  blocked: ReadonlyMap<number, ReadonlySet<number>>;
  /** host index -> percentage of its frames dropped on entering the switch. */
  lossPct: ReadonlyMap<number, number>;
}

export const SWITCH_TABLE = 'testbed';

const set = (items: readonly string[]) => `{ ${items.join(', ')} }`;
const quoted = (items: readonly string[]) => items.map((i) => JSON.stringify(i));

// Loss is drawn per frame from 0..9999 so that fractional percentages (0.5%) work.
const LOSS_SCALE = 10_000;

export function renderSwitchRules(hosts: readonly SwitchHost[], policy: SwitchPolicy): string {
  const rules: string[] = [];
  for (const [from, tos] of [...policy.blocked].sort((a, b) => a[0] - b[0])) {
    const src = hosts[from];
    const dst = [...tos].sort((a, b) => a - b).flatMap((t) => hosts[t]?.addrs ?? []);
    if (src === undefined || dst.length === 0) continue;
    rules.push(`iifname ${set(quoted(src.ports))} ip daddr ${set(dst)} drop`);
  }
  for (const [h, pct] of [...policy.lossPct].sort((a, b) => a[0] - b[0])) {
    const src = hosts[h];
    if (src === undefined || pct <= 0) continue;
    const draw = Math.round((pct / 100) * LOSS_SCALE);
    // numgen yields 0..LOSS_SCALE-1, so total loss is a plain drop (nft rejects `< LOSS_SCALE`).
    rules.push(`iifname ${set(quoted(src.ports))} ${draw >= LOSS_SCALE ? '' : `numgen random mod ${LOSS_SCALE} < ${draw} `}drop`);
  }
  // Declare, delete, recreate: one transaction that replaces the table whether or not it existed.
  return [
    `table bridge ${SWITCH_TABLE} {}`,
    `delete table bridge ${SWITCH_TABLE}`,
    `table bridge ${SWITCH_TABLE} {`,
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    ...rules.map((r) => `    ${r}`),
    '  }',
    '}',
    '',
  ].join('\n');
}
