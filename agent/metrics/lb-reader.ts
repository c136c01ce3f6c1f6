// New flows per backend (issue 11), the shell: reads the backend chains'
// counters with `ip netns exec NS nft -j list table ip T` in each local
// endpoint's netns (the VIP rules) and in the ingress sandbox (the routing
// mesh's), at scrape time only. Bounded whatever the number of endpoints:
// a netns is read at most once per ttlMs (answers in between come from the
// last read), a scrape starts at most maxReadsPerScrape reads (the least
// recently read first, so every netns gets its turn), at most `concurrency`
// at once, and concurrent scrapes share one round of reads.
import type { Clock } from '../../shared/clock.js';
import { oneLine } from '../../shared/errors.js';
import type { Runner } from '../host/nft-keeper.js';
import { parseTableCounts, type TableCounts } from './lb-counters.js';

export interface LbTarget {
  netns: string;
  /** agent_lb (VIP rules) or agent_mesh (the ingress sandbox). */
  table: string;
}

export interface LbRead extends LbTarget, TableCounts {}

export interface LbReaderOptions {
  run: Runner;
  clock: Clock;
  /** How long a read is reused; default 5 s (a scrape every 15 s reads each netns afresh). */
  ttlMs?: number;
  /** Reads started per scrape at most; default 16 (with more endpoints, some answer from an older read). */
  maxReadsPerScrape?: number;
  /** Reads running at once at most; default 4. */
  concurrency?: number;
  /** One read's bound; default 5 s. */
  timeoutMs?: number;
}

const DEFAULTS = { ttlMs: 5_000, maxReadsPerScrape: 16, concurrency: 4, timeoutMs: 5_000 };

interface Slot {
  atMs: number;
  read: LbRead | undefined;
}

export class LbReader {
  readonly #o: LbReaderOptions & typeof DEFAULTS;
  readonly #slots = new Map<string, Slot>();
  #round: Promise<void> | undefined;
  /** Reads that failed (nft missing or refused, netns gone, output not understood). */
  errors = 0;
  /** Reads run, for tests and the metrics. */
  reads = 0;
  #lastError = '';

  constructor(o: LbReaderOptions) {
    this.#o = { ...DEFAULTS, ...o };
  }

  /** The last error's line ('' after a good read), for the log once per change. */
  get lastError(): string {
    return this.#lastError;
  }

  /** The latest read of every target that was read at least once; targets no longer listed are forgotten. */
  async read(targets: readonly LbTarget[]): Promise<LbRead[]> {
    const ids = new Map(targets.map((t) => [id(t), t]));
    for (const k of [...this.#slots.keys()]) if (!ids.has(k)) this.#slots.delete(k);
    if (!this.#round) {
      this.#round = this.#refresh([...ids.values()]).finally(() => (this.#round = undefined));
    }
    await this.#round;
    return [...ids.keys()].flatMap((k) => {
      const r = this.#slots.get(k)?.read;
      return r ? [r] : [];
    });
  }

  async #refresh(targets: LbTarget[]): Promise<void> {
    const now = this.#o.clock.nowMs();
    const due = targets
      .map((t) => ({ t, atMs: this.#slots.get(id(t))?.atMs ?? -Infinity }))
      .filter((x) => now - x.atMs >= this.#o.ttlMs)
      .sort((a, b) => a.atMs - b.atMs)
      .slice(0, this.#o.maxReadsPerScrape)
      .map((x) => x.t);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length) await this.#readOne(due[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency, due.length) }, worker));
  }

  async #readOne(t: LbTarget): Promise<void> {
    const slot = this.#slots.get(id(t)) ?? { atMs: -Infinity, read: undefined };
    this.reads++;
    try {
      const r = await this.#o.run(['nft', '-j', 'list', 'table', 'ip', t.table], { netns: t.netns, allowFail: true, timeoutMs: this.#o.timeoutMs });
      if (r.code !== 0) {
        // No table yet (rules not applied so far): nothing counted, not an error.
        if (!/No such file or directory/.test(r.stderr)) throw new Error(`nft -j list table ip ${t.table} in ${t.netns}: ${r.stderr.trim() === '' ? `exit ${r.code}` : oneLine(r.stderr)}`);
        slot.read = { ...t, handle: -1, counts: [] };
      } else {
        slot.read = { ...t, ...parseTableCounts(r.stdout, t.table) };
      }
      this.#lastError = '';
    } catch (e) {
      this.errors++;
      this.#lastError = oneLine(e);
    }
    slot.atMs = this.#o.clock.nowMs();
    this.#slots.set(id(t), slot);
  }
}

const id = (t: LbTarget): string => `${t.netns} ${t.table}`;
