// agent/metrics/lb-reader.ts with a scripted nft and a manual clock: each
// netns read at most once per ttl, at most maxReadsPerScrape reads per scrape
// (the least recently read first), at most `concurrency` at once, one round
// shared by concurrent scrapes; a missing table is no error, a failure keeps
// the last read and is counted.
import { suite, equal, is, ok } from '../../harness.js';
import { LbReader, type LbTarget } from '../../../agent/metrics/lb-reader.js';
import type { RunOptions, RunResult } from '../../../agent/host/run.js';
import { ManualClock } from '../../../shared/clock.js';

const t = suite('metrics/lb-reader');

const tableJson = (handle: number, flows: number) =>
  JSON.stringify({ nftables: [{ table: { name: 'agent_lb', handle } }, { rule: { chain: 'be_10_0_0_2_0', expr: [{ counter: { packets: flows, bytes: 0 } }, { dnat: { addr: '10.0.0.5' } }] } }] });

/** A scripted nft: answer(netns) says what each read returns; runs are recorded; `hold` keeps them pending until released. */
function fakeNft(answer: (netns: string) => RunResult = () => ({ code: 0, stdout: tableJson(1, 1), stderr: '' })) {
  const runs: { argv: readonly string[]; netns: string | undefined }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let hold = false;
  const waiting: (() => void)[] = [];
  const run = async (argv: readonly string[], opts: RunOptions): Promise<RunResult> => {
    runs.push({ argv, netns: opts.netns });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    if (hold) await new Promise<void>((r) => waiting.push(r));
    else await Promise.resolve();
    inFlight--;
    return answer(opts.netns ?? '');
  };
  return {
    run,
    runs,
    get maxInFlight() {
      return maxInFlight;
    },
    hold() {
      hold = true;
    },
    release() {
      hold = false;
      for (const w of waiting.splice(0)) w();
    },
  };
}

const targets = (n: number): LbTarget[] => Array.from({ length: n }, (_, i) => ({ netns: `ns${i}`, table: 'agent_lb' }));

t('a netns is read once per ttl; in between the last read answers; nft -j list table in the netns', async () => {
  const clock = new ManualClock();
  const nft = fakeNft();
  const r = new LbReader({ run: nft.run, clock, ttlMs: 5_000 });
  const first = await r.read(targets(2));
  equal(first.map((x) => [x.netns, x.handle, x.counts.length]), [['ns0', 1, 1], ['ns1', 1, 1]]);
  equal(nft.runs[0], { argv: ['nft', '-j', 'list', 'table', 'ip', 'agent_lb'], netns: 'ns0' });
  clock.advance(4_999);
  equal(await r.read(targets(2)), first);
  is(nft.runs.length, 2, 'no read before the ttl');
  clock.advance(1);
  await r.read(targets(2));
  is(nft.runs.length, 4);
  is(r.reads, 4);
});

t('at most maxReadsPerScrape per scrape, never-read and least recently read first, so every netns gets its turn', async () => {
  const clock = new ManualClock();
  const nft = fakeNft();
  const r = new LbReader({ run: nft.run, clock, ttlMs: 1_000, maxReadsPerScrape: 2 });
  is((await r.read(targets(5))).length, 2);
  is((await r.read(targets(5))).length, 4);
  is((await r.read(targets(5))).length, 5);
  equal(nft.runs.map((x) => x.netns), ['ns0', 'ns1', 'ns2', 'ns3', 'ns4']);
  clock.advance(1_000);
  await r.read(targets(5));
  equal(nft.runs.slice(5).map((x) => x.netns), ['ns0', 'ns1'], 'the oldest reads again first');
});

t('at most `concurrency` reads at once; concurrent scrapes share one round', async () => {
  const clock = new ManualClock();
  const nft = fakeNft();
  const r = new LbReader({ run: nft.run, clock, concurrency: 2, maxReadsPerScrape: 10 });
  nft.hold();
  const a = r.read(targets(6));
  const b = r.read(targets(6));
  await new Promise<void>((res) => setImmediate(res));
  is(nft.runs.length, 2, 'two started, the rest wait');
  nft.release();
  const [ra, rb] = await Promise.all([a, b]);
  is(ra.length, 6);
  equal(ra, rb);
  is(nft.runs.length, 6, 'one round for both scrapes');
  is(nft.maxInFlight, 2);
});

t('no table yet is an empty read; a failure is counted, said, and keeps the last read; a target no longer listed is forgotten', async () => {
  const clock = new ManualClock();
  let mode: 'ok' | 'missing' | 'fail' | 'garbage' = 'missing';
  const nft = fakeNft(() => {
    if (mode === 'missing') return { code: 1, stdout: '', stderr: 'Error: No such file or directory\nlist table ip agent_lb\n' };
    if (mode === 'fail') return { code: 1, stdout: '', stderr: 'Cannot open network namespace "ns0": No such file\n' };
    if (mode === 'garbage') return { code: 0, stdout: 'not json', stderr: '' };
    return { code: 0, stdout: tableJson(7, 3), stderr: '' };
  });
  const r = new LbReader({ run: nft.run, clock, ttlMs: 10 });
  equal(await r.read(targets(1)), [{ netns: 'ns0', table: 'agent_lb', handle: -1, counts: [] }]);
  is(r.errors, 0);
  mode = 'ok';
  clock.advance(10);
  const good = await r.read(targets(1));
  is(good[0]!.counts[0]!.flows, 3);
  mode = 'fail';
  clock.advance(10);
  equal(await r.read(targets(1)), good, 'the last good read stays');
  is(r.errors, 1);
  ok(/nft -j list table ip agent_lb in ns0: Cannot open network namespace/.test(r.lastError), r.lastError);
  mode = 'garbage';
  clock.advance(10);
  await r.read(targets(1));
  is(r.errors, 2);
  mode = 'ok';
  clock.advance(10);
  await r.read(targets(1));
  is(r.lastError, '');
  equal(await r.read([]), []);
  await r.read(targets(1));
  is(nft.runs.length, 6, 'forgotten, so read again at once');
});

t.run();
