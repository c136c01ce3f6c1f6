// Placement constraints of services (`docker service create --constraint`),
// the subset of swarmkit's manager/constraint package the agent supports:
//
//   node.id==ID   node.hostname==NAME   node.role==manager|worker   node.labels.KEY==VALUE
//
// each also with `!=`, blanks allowed around the operator. As in swarmkit,
// the field names and the values compare case-insensitively, a label's key
// is case-sensitive, and a label the node lacks compares as "" (so
// `node.labels.zone!=east` holds on a node without a zone). Pure.
import type { Node } from '../cluster/store/types.js';

export type ConstraintField = 'node.id' | 'node.hostname' | 'node.role' | 'node.labels';

export interface Constraint {
  field: ConstraintField;
  /** The label key, for node.labels. */
  label?: string;
  op: '==' | '!=';
  value: string;
}

const SHAPE = /^\s*([^=!\s]+)\s*(==|!=)\s*(.*?)\s*$/;
const LABEL_PREFIX = 'node.labels.';
const FIELDS: readonly ConstraintField[] = ['node.id', 'node.hostname', 'node.role'];
/** Characters of a would-be operator (swarmkit's value pattern refuses them too). */
const OPERATOR_CHARS = /[=!<>]/;

function bad(s: string, why: string): Error {
  return new Error(`invalid constraint ${JSON.stringify(s)}: ${why}`);
}

/** Parse one constraint; throws an Error whose message is one line naming the constraint and what is wrong. */
export function parseConstraint(s: string): Constraint {
  const m = SHAPE.exec(s);
  const shape = 'expected node.id, node.hostname, node.role or node.labels.<key> with == or !=';
  if (m === null) throw bad(s, shape);
  const [, key, op, value] = m as unknown as [string, string, '==' | '!=', string];
  const lower = key.toLowerCase();
  let c: Constraint;
  if (lower.startsWith(LABEL_PREFIX) && key.length > LABEL_PREFIX.length) {
    c = { field: 'node.labels', label: key.slice(LABEL_PREFIX.length), op, value };
  } else if ((FIELDS as readonly string[]).includes(lower)) {
    c = { field: lower as ConstraintField, op, value };
  } else {
    throw bad(s, shape);
  }
  if (value === '') throw bad(s, `expected a value after ${op}`);
  if (OPERATOR_CHARS.test(value)) throw bad(s, `the value ${JSON.stringify(value)} may not contain =, !, < or >`);
  if (c.field === 'node.role' && !['manager', 'worker'].includes(value.toLowerCase())) {
    throw bad(s, `node.role is manager or worker, got ${JSON.stringify(value)}`);
  }
  return c;
}

function fieldOf(n: Node, c: Constraint): string {
  switch (c.field) {
    case 'node.id':
      return n.id;
    case 'node.hostname':
      return n.hostname;
    case 'node.role':
      return n.role;
    case 'node.labels':
      return Object.hasOwn(n.labels, c.label!) ? n.labels[c.label!]! : '';
  }
}

export function constraintMatches(n: Node, c: Constraint): boolean {
  const equal = fieldOf(n, c).toLowerCase() === c.value.toLowerCase();
  return c.op === '==' ? equal : !equal;
}

/**
 * Whether node n satisfies every constraint. An invalid constraint (specs
 * are checked on create and update, so only a damaged store holds one)
 * matches no node, as an unknown key does in swarmkit; never throws.
 */
export function nodeMatches(n: Node, constraints: readonly string[]): boolean {
  for (const s of constraints) {
    let c: Constraint;
    try {
      c = parseConstraint(s);
    } catch {
      return false;
    }
    if (!constraintMatches(n, c)) return false;
  }
  return true;
}
