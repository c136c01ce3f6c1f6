// The shell under every rule set the agent keeps in a network namespace (the
// VIP rules, the routing mesh): per netns, the latest wanted ruleset is
// loaded by one `nft -f` transaction; one at a time per netns, a failure
// retried after a growing pause, an unchanged ruleset never reloaded. It
// never throws: callers keep wanting whatever is current.
import { run as hostRun, type RunOptions, type RunResult } from './run.js';
import type { Clock, Timer } from '../../shared/clock.js';
import { oneLine } from '../../shared/errors.js';
import type { Logger } from '../daemon/log.js';

/** Loads an nft script in a netns (undefined: the host's own); rejects with one line when nft refused it. */
export type NftRunner = (netns: string | undefined, script: string) => Promise<void>;

/** The key of the host's own netns among the keeper's slots. */
export const HOST_NETNS = '';

export interface NftKeeperOptions {
  run: NftRunner;
  clock: Clock;
  log: Logger;
  /** What the rules are, for log lines ("vip rules"). */
  what: string;
  /** The first pause before retrying a failed apply, doubled per failure up to MAX_RETRY_MS; default 200 ms. */
  retryMs?: number;
}

const DEFAULT_RETRY_MS = 200;
// A netns that keeps refusing (nft missing, netns gone without forget) costs
// one process per netns per this long, not a busy loop.
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

export class NftKeeper {
  readonly #o: NftKeeperOptions;
  readonly #retryMs: number;
  readonly #slots = new Map<string, Slot>();
  #closed = false;

  constructor(o: NftKeeperOptions) {
    this.#o = o;
    this.#retryMs = o.retryMs ?? DEFAULT_RETRY_MS;
  }

  /** Whether netns holds (or is loading) the ruleset of this key: the script need not be made. */
  holds(netns: string, key: string): boolean {
    const s = this.#slots.get(netns);
    return s !== undefined && s.applied === key && s.wantKey === key;
  }

  /** netns should hold this ruleset (`script` is called only when it has to be loaded). */
  want(netns: string, key: string, script: () => string): void {
    if (this.#closed) return;
    let s = this.#slots.get(netns);
    if (!s) {
      s = { applied: undefined, wantKey: key, wantScript: '', running: false, retry: undefined, failures: 0 };
      this.#slots.set(netns, s);
    }
    if (s.applied !== key || s.wantKey !== key) s.wantScript = script();
    s.wantKey = key;
    // The rules in place are wanted again: a failure streak (of other rules) is over.
    if (s.applied === key) s.failures = 0;
    this.#kick(netns, s);
  }

  /** The namespaces with slots. */
  get namespaces(): string[] {
    return [...this.#slots.keys()];
  }

  /** A netns went (or its rules no longer matter): no more applies or retries there (one in flight finishes, unheeded). */
  forget(netns: string): void {
    const s = this.#slots.get(netns);
    if (!s) return;
    s.retry?.cancel();
    this.#slots.delete(netns);
  }

  /** Stop: pending work is dropped; an apply in flight finishes, unheeded. */
  close(): void {
    this.#closed = true;
    for (const netns of [...this.#slots.keys()]) this.forget(netns);
  }

  /** Applies the wanted rules unless they are in place, an apply is running, or a retry is waiting. */
  #kick(netns: string, s: Slot): void {
    if (this.#closed || s.running || s.retry !== undefined || s.applied === s.wantKey) return;
    const key = s.wantKey;
    const where = netns === HOST_NETNS ? 'host' : netns;
    s.running = true;
    let p: Promise<void>;
    try {
      p = this.#o.run(netns === HOST_NETNS ? undefined : netns, s.wantScript);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      () => {
        s.running = false;
        if (this.#slots.get(netns) !== s) return;
        s.applied = key;
        if (s.failures > 0) this.#o.log.info(`${this.#o.what} applied after failures`, { netns: where, failures: s.failures });
        s.failures = 0;
        this.#kick(netns, s);
      },
      (e: unknown) => {
        s.running = false;
        if (this.#slots.get(netns) !== s) return;
        s.failures++;
        const pauseMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2 ** Math.min(s.failures - 1, 30));
        if (s.failures === 1) this.#o.log.warn(`${this.#o.what} not applied; retrying`, { netns: where, error: oneLine(e), retryMs: pauseMs });
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
 * The real runner: `[ip netns exec NETNS] nft -f -` with the script on stdin,
 * killed after timeoutMs; rejects with one line, the command and nft's first
 * stderr line (e.g. `/dev/stdin:5:3-9: Error: ...`).
 */
export function hostNftRunner(opts: { timeoutMs?: number; run?: Runner } = {}): NftRunner {
  const exec = opts.run ?? hostRun;
  const timeoutMs = opts.timeoutMs ?? NFT_TIMEOUT_MS;
  return async (netns, script) => {
    await exec(['nft', '-f', '-'], { ...(netns !== undefined ? { netns } : {}), input: script, timeoutMs });
  };
}
