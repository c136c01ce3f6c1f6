// VIP load balancing (issue 9, DESIGN §5), the shell: keeps the nft rules of
// vip-rules.ts in every local endpoint's netns in step with the service
// records. A change is coalesced for settleMs, then each netns whose rules
// differ from what it last took is handed to the NftKeeper (one `nft -f`
// transaction, one at a time per netns, failures retried). It never throws:
// the records keep changing whether or not a netns takes its rules.
import type { Clock, Timer } from '../../shared/clock.js';
import { oneLine } from '../../shared/errors.js';
import type { Logger } from '../daemon/log.js';
import { NftKeeper, type NftRunner } from '../host/nft-keeper.js';
import type { DiscoveryView } from './records.js';
import { nftScript, vipKey, vipTable } from './vip-rules.js';

export { hostNftRunner, type NftRunner, type Runner } from '../host/nft-keeper.js';

/** A local endpoint: its netns and the networks (ids, its order) it is on. */
export interface VipEndpoint {
  netns: string;
  networks: readonly string[];
}

export interface VipBalancerOptions {
  view: DiscoveryView;
  /** The endpoints to program now; a netns no longer listed is forgotten. */
  endpoints(): readonly VipEndpoint[];
  run: NftRunner;
  clock: Clock;
  log: Logger;
  /** How long changed() coalesces changes before recomputing; default 20 ms. */
  settleMs?: number;
  /** The first pause before retrying a failed apply, doubled per failure up to 10 s; default 200 ms. */
  retryMs?: number;
}

const DEFAULT_SETTLE_MS = 20;

export class VipBalancer {
  readonly #o: VipBalancerOptions;
  readonly #settleMs: number;
  readonly #keeper: NftKeeper;
  #settle: Timer | undefined;
  #closed = false;
  #computeFailing = false;

  constructor(o: VipBalancerOptions) {
    this.#o = o;
    this.#settleMs = o.settleMs ?? DEFAULT_SETTLE_MS;
    this.#keeper = new NftKeeper({ run: o.run, clock: o.clock, log: o.log, what: 'vip rules', ...(o.retryMs !== undefined ? { retryMs: o.retryMs } : {}) });
  }

  /**
   * Records or endpoints changed: recompute within settleMs. The window opens
   * at the first change and is not pushed back by later ones, so a steady
   * stream of changes still reaches the kernel every settleMs.
   */
  changed(): void {
    if (this.#closed || this.#settle !== undefined) return;
    this.#settle = this.#o.clock.after(this.#settleMs, () => {
      this.#settle = undefined;
      this.#recompute();
    });
  }

  /** An endpoint went: no more applies or retries there (one in flight finishes, unheeded). */
  forget(netns: string): void {
    this.#keeper.forget(netns);
  }

  /** Stop: pending work is dropped; an apply in flight finishes, unheeded. */
  close(): void {
    this.#closed = true;
    this.#settle?.cancel();
    this.#settle = undefined;
    this.#keeper.close();
  }

  #recompute(): void {
    const want: { netns: string; key: string; script: () => string }[] = [];
    try {
      for (const ep of this.#o.endpoints()) {
        const m = vipTable(ep.networks, this.#o.view);
        want.push({ netns: ep.netns, key: vipKey(m), script: () => nftScript(m) });
      }
    } catch (e) {
      if (!this.#computeFailing) this.#o.log.warn('vip rules not computed', { error: oneLine(e) });
      this.#computeFailing = true;
      return;
    }
    this.#computeFailing = false;
    const listed = new Set(want.map((w) => w.netns));
    for (const netns of this.#keeper.namespaces) if (!listed.has(netns)) this.#keeper.forget(netns);
    for (const w of want) this.#keeper.want(w.netns, w.key, w.script);
  }
}
