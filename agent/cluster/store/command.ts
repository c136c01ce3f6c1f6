// Store commands: the payload of every normal Raft entry (DESIGN §2). The
// proposer decides everything (ids, names, times, addresses); apply only
// checks versions and uniqueness and writes, so replicas cannot diverge.
//
// Wire layout, canonical CBOR (cbor.ts), one array per command:
//
//   create  [tag, draft]                 draft = the object without meta
//   update  [tag, readVersion, draft]    readVersion = meta.version it was read at
//   delete  [tag, id]                    unconditional
//           [tag, id, readVersion]       only if still at readVersion
//   batch   [25, [change, ...]]          >= 1 change, none a batch, each object
//                                        touched at most once; all or nothing
//
// Tags below are only ever appended (STYLE habit 6): a tag once shipped keeps
// its meaning forever, and a new kind takes the next free numbers.

import { decodeCbor, encodeCanonical } from './cbor.js';
import { InvalidCommandError } from './errors.js';
import { DRAFT_CHECKS } from './schema.js';
import { KIND_LABEL, KINDS, type Draft, type Kind } from './types.js';
import { FieldError, int, nonEmpty } from './validate.js';

export const TAGS = {
  nodeCreate: 1,
  nodeUpdate: 2,
  nodeDelete: 3,
  networkCreate: 4,
  networkUpdate: 5,
  networkDelete: 6,
  serviceCreate: 7,
  serviceUpdate: 8,
  serviceDelete: 9,
  taskCreate: 10,
  taskUpdate: 11,
  taskDelete: 12,
  ipamCreate: 13,
  ipamUpdate: 14,
  ipamDelete: 15,
  keyCreate: 16,
  keyUpdate: 17,
  keyDelete: 18,
  tokenCreate: 19,
  tokenUpdate: 20,
  tokenDelete: 21,
  clusterCreate: 22,
  clusterUpdate: 23,
  clusterDelete: 24,
  batch: 25,
} as const;

export type ChangeOp = 'create' | 'update' | 'delete';

type ChangeOf<K extends Kind> =
  | { op: 'create'; kind: K; object: Draft<K> }
  | { op: 'update'; kind: K; version: number; object: Draft<K> }
  | { op: 'delete'; kind: K; id: string; version?: number };

/** One write to one object. */
export type Change = { [K in Kind]: ChangeOf<K> }[Kind];

export interface Batch {
  op: 'batch';
  changes: Change[];
}

export type Command = Change | Batch;

const OPS: readonly ChangeOp[] = ['create', 'update', 'delete'];

function tagKey(op: ChangeOp, kind: Kind): keyof typeof TAGS {
  return `${kind}${op[0]!.toUpperCase()}${op.slice(1)}` as keyof typeof TAGS;
}

const TAG_TO_CHANGE = new Map<number, { op: ChangeOp; kind: Kind }>();
for (const kind of KINDS) for (const op of OPS) TAG_TO_CHANGE.set(TAGS[tagKey(op, kind)], { op, kind });

/** The tag of a change. */
export function tagOf(op: ChangeOp, kind: Kind): number {
  return TAGS[tagKey(op, kind)];
}

// Constructors, so proposers never build wire arrays by hand.

export function create<K extends Kind>(kind: K, object: Draft<K>): Change {
  return { op: 'create', kind, object } as Change;
}

/** `version` is the meta.version the object was read at; any meta on `object` is ignored. */
export function update<K extends Kind>(kind: K, object: Draft<K>, version: number): Change {
  return { op: 'update', kind, version, object } as Change;
}

/** Delete `id`; with `version`, only if the object is still at that version. */
export function remove(kind: Kind, id: string, version?: number): Change {
  return version === undefined ? { op: 'delete', kind, id } : { op: 'delete', kind, id, version };
}

export function batch(...changes: Change[]): Batch {
  return { op: 'batch', changes };
}

/** The object a change touches, by id. */
export function changeId(c: Change): string {
  return c.op === 'delete' ? c.id : c.object.id;
}

function stripMeta(o: object): object {
  if (!('meta' in o)) return o;
  const { meta: _meta, ...rest } = o as { meta: unknown };
  return rest;
}

function changeToWire(c: Change): unknown[] {
  const tag = tagOf(c.op, c.kind);
  switch (c.op) {
    case 'create':
      return [tag, stripMeta(c.object)];
    case 'update':
      return [tag, c.version, stripMeta(c.object)];
    case 'delete':
      return c.version === undefined ? [tag, c.id] : [tag, c.id, c.version];
  }
}

function toWire(c: Command): unknown[] {
  return c.op === 'batch' ? [TAGS.batch, c.changes.map(changeToWire)] : changeToWire(c);
}

function wireArray(v: unknown, path: string, min: number, max: number): unknown[] {
  if (!Array.isArray(v) || v.length < min || v.length > max) {
    throw new FieldError(`${path}: expected an array of ${min === max ? min : `${min} to ${max}`} items, got ${Array.isArray(v) ? `${v.length} items` : typeof v}`);
  }
  return v;
}

function changeFromWire(v: unknown, path: string): Change {
  const a = wireArray(v, path, 2, 3);
  const tag = a[0];
  const known = typeof tag === 'number' ? TAG_TO_CHANGE.get(tag) : undefined;
  if (known === undefined) {
    if (tag === TAGS.batch) throw new FieldError(`${path}: a batch cannot contain a batch`);
    throw new FieldError(`${path}: unknown command tag ${String(tag)}`);
  }
  const { op, kind } = known;
  const at = `${path}.${kind}.${op}`;
  const draft = DRAFT_CHECKS[kind] as (x: unknown, p: string) => Draft<typeof kind>;
  switch (op) {
    case 'create':
      wireArray(a, at, 2, 2);
      return { op, kind, object: draft(a[1], at) } as Change;
    case 'update':
      wireArray(a, at, 3, 3);
      return { op, kind, version: int(1)(a[1], `${at}.version`), object: draft(a[2], at) } as Change;
    case 'delete': {
      const id = nonEmpty(a[1], `${at}.id`);
      return a.length === 3 ? { op, kind, id, version: int(1)(a[2], `${at}.version`) } : { op, kind, id };
    }
  }
}

function fromWire(v: unknown): Command {
  const a = wireArray(v, 'command', 2, 3);
  if (a[0] !== TAGS.batch) return changeFromWire(a, 'command');
  wireArray(a, 'batch', 2, 2);
  const items = a[1];
  if (!Array.isArray(items) || items.length === 0) throw new FieldError('batch: expected an array of at least one change');
  const changes = items.map((x, i) => changeFromWire(x, `batch[${i}]`));
  // One write per object: the version of an object written earlier in the
  // same entry would be the entry's own index, which no proposer can know.
  const seen = new Map<string, number>();
  changes.forEach((c, i) => {
    const key = `${c.kind}\0${changeId(c)}`;
    const first = seen.get(key);
    if (first !== undefined) throw new FieldError(`batch[${i}]: ${KIND_LABEL[c.kind]} id ${changeId(c)} is already changed by batch[${first}]`);
    seen.set(key, i);
  });
  return { op: 'batch', changes };
}

/**
 * Encode a command for proposal. It is checked first with the same rules
 * apply uses, so a malformed command fails here, at the proposer, with an
 * InvalidCommandError instead of taking a log entry.
 */
export function encodeCommand(c: Command): Uint8Array {
  let checked: Command;
  try {
    checked = fromWire(toWire(c));
  } catch (e) {
    throw invalid(e);
  }
  return encodeCanonical(toWire(checked));
}

/** Decode and check a log entry's payload; throws InvalidCommandError. */
export function decodeCommand(bytes: Uint8Array): Command {
  let v: unknown;
  try {
    v = decodeCbor(bytes);
  } catch (e) {
    throw new InvalidCommandError(`invalid command: not CBOR: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return fromWire(v);
  } catch (e) {
    throw invalid(e);
  }
}

function invalid(e: unknown): unknown {
  return e instanceof FieldError ? new InvalidCommandError(`invalid command: ${e.message}`) : e;
}
