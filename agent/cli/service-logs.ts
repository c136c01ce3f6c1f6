import type { Subcommand } from './index.js';
import type { ApiClient } from '../api/client.js';
import type { ServiceInspect, ServiceLogs } from '../api/types.js';
import { UsageError } from '../../shared/errors.js';
import { shortId } from './network-ref.js';
import { POLL_MS, clockOf, type Clock } from './service-progress.js';
import { getService, replicasOf, serviceRefs, servicePath } from './service-ref.js';
import { lastOf } from './swarm-flags.js';

interface Args {
  service: string | number;
  follow?: boolean;
  tail?: string | string[];
  'no-task-ids'?: boolean;
  'no-trunc'?: boolean;
  raw?: boolean;
}

/**
 * The most a chunk carries (the daemon's cap). A chunk this full may have
 * more behind it, so it is asked for again at once. Read from a known offset,
 * the bytes read are exact (Next - offset); on a first read with --tail the
 * text is all there is, and a UTF-8 sequence split at the cap may have
 * changed its length by a few bytes.
 */
const CHUNK_BYTES = 64 * 1024;
const NEARLY_FULL_BYTES = CHUNK_BYTES - 3;

function isFull(c: Chunk, from: number | undefined): boolean {
  if (from !== undefined && c.Next >= from) return c.Next - from >= CHUNK_BYTES;
  return Buffer.byteLength(c.Data) >= NEARLY_FULL_BYTES;
}

/** Between docker's prefix and the line: four spaces and a bar. */
const SEPARATOR = '    | ';

export interface LogOptions {
  follow: boolean;
  /** Lines from the end of each task's log; undefined: all of it. */
  tail?: number;
  taskIds: boolean;
  noTrunc: boolean;
  raw: boolean;
}

/** `agent service logs`: the output of every task of a service, each line prefixed with the task and node as docker does. */
export const serviceLogs: Subcommand<Args> = {
  command: 'logs <service>',
  describe: 'Fetch the logs of a service',
  builder: (y) =>
    y
      .parserConfiguration({ 'boolean-negation': false, 'parse-positional-numbers': false })
      .positional('service', { type: 'string', describe: 'A service name, id or id prefix' })
      .option('follow', { alias: 'f', type: 'boolean', describe: 'Follow log output' })
      .option('tail', { alias: 'n', type: 'string', describe: 'Number of lines to show from the end of the logs of each task (default "all")' })
      .option('no-task-ids', { type: 'boolean', describe: 'Do not include task IDs in output' })
      .option('no-trunc', { type: 'boolean', describe: 'Do not truncate output' })
      .option('raw', { type: 'boolean', describe: 'Do not neatly format logs' }),
  async run(args, ctx) {
    const [ref] = serviceRefs([args.service]);
    const opts: LogOptions = { follow: !!args.follow, tail: tailFlag(args.tail), taskIds: !args['no-task-ids'], noTrunc: !!args['no-trunc'], raw: !!args.raw };
    const client = ctx.client();
    const service = await getService(client, ref!);
    await streamLogs(client, service, opts, ctx.out, clockOf(ctx));
  },
};

/** --tail: a number of lines, or "all" (docker's default). */
function tailFlag(v: string | string[] | undefined): number | undefined {
  const s = lastOf(v);
  if (s === undefined || s === 'all') return undefined;
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw new UsageError(`--tail: expected a number of lines or "all", got "${s}"`);
  return Number(s);
}

/**
 * Ask for the logs from the offsets each answer gives (tail on the first
 * request only), print them, and ask again at once while a chunk came back
 * full. Without follow, stop once none did; with it, poll every POLL_MS until
 * Ctrl-C or an error.
 */
export async function streamLogs(client: ApiClient, service: ServiceInspect, opts: LogOptions, write: (text: string) => void, clock: Clock): Promise<void> {
  const printer = new LogPrinter(service, opts);
  const offsets: Record<string, number> = {};
  let first = true;
  for (;;) {
    let path = servicePath(service.ID, `/logs?offsets=${encodeURIComponent(JSON.stringify(offsets))}`);
    if (first && opts.tail !== undefined) path += `&tail=${opts.tail}`;
    first = false;
    const r = await client.get<ServiceLogs>(path);
    let full = false;
    let text = '';
    for (const c of r.Chunks ?? []) {
      // A task not asked for yet is read from 0, unless --tail chose where.
      if (isFull(c, offsets[c.TaskID] ?? (opts.tail === undefined ? 0 : undefined))) full = true;
      offsets[c.TaskID] = c.Next;
      text += printer.push(c);
    }
    if (text) write(text);
    if (full) continue;
    if (!opts.follow) {
      const rest = printer.flush();
      if (rest) write(rest);
      return;
    }
    await clock.sleep(POLL_MS);
  }
}

type Chunk = ServiceLogs['Chunks'][number];

/**
 * Whole lines, each with docker's prefix: NAME.SLOT.TASKID@NODE, padded so
 * that slots of fewer digits than the replica count line up, then "    | ".
 * A chunk's last line, until its newline comes, is held per task.
 */
export class LogPrinter {
  readonly #partial = new Map<string, { prefix: string; text: string }>();
  readonly #digits: number;

  constructor(
    readonly service: ServiceInspect,
    readonly opts: Pick<LogOptions, 'taskIds' | 'noTrunc' | 'raw'>,
  ) {
    this.#digits = String(replicasOf(service.Spec.Mode) ?? 1).length;
  }

  /** The complete lines the chunk ends, prefixed; its unfinished last line is kept for the next. */
  push(c: Chunk): string {
    if (c.Data === '') return '';
    const held = this.#partial.get(c.TaskID);
    const prefix = this.prefix(c);
    const text = (held?.text ?? '') + c.Data;
    const cut = text.lastIndexOf('\n') + 1;
    if (cut < text.length) this.#partial.set(c.TaskID, { prefix, text: text.slice(cut) });
    else this.#partial.delete(c.TaskID);
    return text
      .slice(0, cut)
      .split(/(?<=\n)/)
      .filter((l) => l !== '')
      .map((l) => prefix + l)
      .join('');
  }

  /** What is still held: each task's last line, ended with a newline (raw: as it came). */
  flush(): string {
    let out = '';
    for (const { prefix, text } of this.#partial.values()) out += prefix + text + (this.opts.raw ? '' : '\n');
    this.#partial.clear();
    return out;
  }

  prefix(c: Chunk): string {
    if (this.opts.raw) return '';
    // The container name is NAME.SLOT.TASKID (NAME.NODEID.TASKID for a global service).
    const suffix = `.${c.TaskID}`;
    const name = c.ContainerName.endsWith(suffix) ? c.ContainerName.slice(0, -suffix.length) : c.ContainerName;
    const slot = /\.(\d+)$/.exec(name)?.[1];
    const padding = ' '.repeat(Math.max(0, slot === undefined ? 0 : this.#digits - slot.length));
    const id = this.opts.taskIds ? `.${this.opts.noTrunc ? c.TaskID : shortId(c.TaskID)}` : '';
    return `${name}${id}@${c.Hostname || c.NodeID}${padding}${SEPARATOR}`;
  }
}
