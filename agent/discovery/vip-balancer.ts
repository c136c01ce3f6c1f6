// VIP load balancing (issue 9, DESIGN §5), the shell: keeps the nft rules of
// vip-rules.ts in every local endpoint's netns in step with the service
// records. A change is coalesced for settleMs, then each netns whose rules
// differ from what it last took gets one `nft -f` transaction; one at a time
// per netns, a failure retried after a growing pause. It never throws: the
// records keep changing whether or not a netns takes its rules.
import { run as hostRun, type RunOptions, type RunResult } from '../host/run.js';
import type { Clock, Timer } from '../../shared/clock.js';
import { oneLine } from '../../shared/errors.js';
import type { Logger } from '../daemon/log.js';
import type { DiscoveryView } from './records.js';
import { nftScript, vipKey, vipTable } from './vip-rules.js';

/** A local endpoint: its netns and the networks (ids, its order) it is on. */
export interface VipEndpoint {
  netns: string;
  networks: readonly string[];
}

/** Loads an nft script in a netns; rejects with one line when nft refused it. */
export type NftRunner = (netns: string, script: string) => Promise<void>;

export interface VipBalancerOptions {
  view: DiscoveryView;
  /** The endpoints to program now; a netns no longer listed is forgotten. */
  endpoints(): readonly VipEndpoint[];
  run: NftRunner;
  clock: Clock;
  log: Logger;
  /** How long changed() coalesces changes before recomputing; default 20 ms. */
  settleMs?: number;
  /** The first pause before retrying a failed apply, doubled per failure up to MAX_RETRY_MS; default 200 ms. */
  retryMs?: number;
}

const DEFAULT_SETTLE_MS = 20;
const DEFAULT_RETRY_MS = 200;
// A netns that keeps refusing (nft missing, netns gone without forget) costs
// one process per endpoint per this long, not a busy loop.
const MAX_RETRY_MS = 10_000;

interface Slot {
  /** The key the netns holds; undefined until the first apply (a leftover table may be there). */
  applied: string | undefined;
  wantKey: string;
  wantScript: string;
  running: boolean;
  retry: Timer | undefined;
  /** Failed applies in a row. */
  failures: number;
}

export class VipBalancer {
  readonly #o: VipBalancerOptions;
  readonly #settleMs: number;
  readonly #retryMs: number;
  readonly #slots = new Map<string, Slot>();
  #settle: Timer | undefined;
  #closed = false;
  #computeFailing = false;

  constructor(o: VipBalancerOptions) {
    this.#o = o;
    this.#settleMs = o.settleMs ?? DEFAULT_SETTLE_MS;
    this.#retryMs = o.retryMs ?? DEFAULT_RETRY_MS;
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
    const s = this.#slots.get(netns);
    if (!s) return;
    s.retry?.cancel();
    this.#slots.delete(netns);
  }

  /** Stop: pending work is dropped; an apply in flight finishes, unheeded. */
  close(): void {
    this.#closed = true;
    this.#settle?.cancel();
    this.#settle = undefined;
    for (const netns of [...this.#slots.keys()]) this.forget(netns);
  }

  #recompute(): void {
    let eps: readonly VipEndpoint[];
    const want = new Map<string, { key: string; script: string | undefined }>();
    try {
      eps = this.#o.endpoints();
      for (const ep of eps) {
        const m = vipTable(ep.networks, this.#o.view);
        const key = vipKey(m);
        // The script only when it will be run: most changes leave most endpoints alone.
        const slot = this.#slots.get(ep.netns);
        want.set(ep.netns, { key, script: slot?.applied === key && slot.wantKey === key ? undefined : nftScript(m) });
      }
    } catch (e) {
      if (!this.#computeFailing) this.#o.log.warn('vip rules not computed', { error: oneLine(e) });
      this.#computeFailing = true;
      return;
    }
    this.#computeFailing = false;
    for (const netns of [...this.#slots.keys()]) if (!want.has(netns)) this.forget(netns);
    for (const [netns, w] of want) {
      let s = this.#slots.get(netns);
      if (!s) {
        s = { applied: undefined, wantKey: w.key, wantScript: '', running: false, retry: undefined, failures: 0 };
        this.#slots.set(netns, s);
      }
      s.wantKey = w.key;
      if (w.script !== undefined) s.wantScript = w.script;
      this.#kick(netns, s);
    }
  }

  /** Applies the wanted rules unless they are in place, an apply is running, or a retry is waiting. */
  #kick(netns: string, s: Slot): void {
    if (this.#closed || s.running || s.retry !== undefined || s.applied === s.wantKey) return;
    const key = s.wantKey;
    s.running = true;
    let p: Promise<void>;
    try {
      p = this.#o.run(netns, s.wantScript);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      () => {
        s.running = false;
        if (this.#slots.get(netns) !== s) return;
        s.applied = key;
        if (s.failures > 0) this.#o.log.info('vip rules applied after failures', { netns, failures: s.failures });
        s.failures = 0;
        this.#kick(netns, s);
      },
      (e: unknown) => {
        s.running = false;
        if (this.#slots.get(netns) !== s) return;
        s.failures++;
        const pauseMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2 ** Math.min(s.failures - 1, 30));
        if (s.failures === 1) this.#o.log.warn('vip rules not applied; retrying', { netns, error: oneLine(e), retryMs: pauseMs });
        s.retry = this.#o.clock.after(pauseMs, () => {
          s.retry = undefined;
          this.#kick(netns, s);
        });
      },
    );
  }
}

/** RunOptions/RunResult's runner, so tests can script nft's answers. */
export type Runner = (argv: readonly string[], opts: RunOptions) => Promise<RunResult>;

// nft loads a few hundred rules in milliseconds; this only bounds a hung process.
const NFT_TIMEOUT_MS = 10_000;

/**
 * The real runner: `ip netns exec NETNS nft -f -` with the script on stdin,
 * killed after timeoutMs; rejects with one line, the command and nft's first
 * stderr line (e.g. `/dev/stdin:5:3-9: Error: ...`).
 */
export function hostNftRunner(opts: { timeoutMs?: number; run?: Runner } = {}): NftRunner {
  const exec = opts.run ?? hostRun;
  const timeoutMs = opts.timeoutMs ?? NFT_TIMEOUT_MS;
  return async (netns, script) => {
    await exec(['nft', '-f', '-'], { netns, input: script, timeoutMs });
  };
}
