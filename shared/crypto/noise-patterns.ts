// Handshake patterns (Noise spec rev 34 §7.2 one-way, §7.4 interactive) and
// the "pskN" modifier (§9.2): psk0 puts a "psk" token at the start of the
// first message, pskN (N >= 1) at the end of the Nth message; modifiers chain
// with "+" ("NNpsk0+psk2"). Messages alternate, the initiator's first.

export type PreToken = 'e' | 's';
export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'psk';

export interface HandshakePattern {
  /** The pattern part of the protocol name, e.g. "IKpsk2". */
  readonly name: string;
  /** Pre-messages: keys the responder knows of the initiator, and vice versa (§7.1). */
  readonly initiatorPre: readonly PreToken[];
  readonly responderPre: readonly PreToken[];
  readonly messages: readonly (readonly Token[])[];
  /** True when any psk modifier is present: then "e" also calls MixKey (§9.2). */
  readonly psk: boolean;
  /** Number of "psk" tokens: how many PSKs each side must supply. */
  readonly pskCount: number;
  /** One-way patterns (§7.2) have a single message; transport then goes one way only. */
  readonly oneWay: boolean;
}

interface Base {
  readonly ipre: readonly PreToken[];
  readonly rpre: readonly PreToken[];
  readonly msgs: readonly (readonly Token[])[];
}

// §7.2 and §7.4, token for token.
const BASE: Readonly<Record<string, Base>> = {
  N: { ipre: [], rpre: ['s'], msgs: [['e', 'es']] },
  K: { ipre: ['s'], rpre: ['s'], msgs: [['e', 'es', 'ss']] },
  X: { ipre: [], rpre: ['s'], msgs: [['e', 'es', 's', 'ss']] },
  NN: { ipre: [], rpre: [], msgs: [['e'], ['e', 'ee']] },
  NK: { ipre: [], rpre: ['s'], msgs: [['e', 'es'], ['e', 'ee']] },
  NX: { ipre: [], rpre: [], msgs: [['e'], ['e', 'ee', 's', 'es']] },
  KN: { ipre: ['s'], rpre: [], msgs: [['e'], ['e', 'ee', 'se']] },
  KK: { ipre: ['s'], rpre: ['s'], msgs: [['e', 'es', 'ss'], ['e', 'ee', 'se']] },
  KX: { ipre: ['s'], rpre: [], msgs: [['e'], ['e', 'ee', 'se', 's', 'es']] },
  XN: { ipre: [], rpre: [], msgs: [['e'], ['e', 'ee'], ['s', 'se']] },
  XK: { ipre: [], rpre: ['s'], msgs: [['e', 'es'], ['e', 'ee'], ['s', 'se']] },
  XX: { ipre: [], rpre: [], msgs: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']] },
  IN: { ipre: [], rpre: [], msgs: [['e', 's'], ['e', 'ee', 'se']] },
  IK: { ipre: [], rpre: ['s'], msgs: [['e', 'es', 's', 'ss'], ['e', 'ee', 'se']] },
  IX: { ipre: [], rpre: [], msgs: [['e', 's'], ['e', 'ee', 'se', 's', 'es']] },
};

/** The base pattern names this module knows. */
export const PATTERN_NAMES: readonly string[] = Object.keys(BASE);

const NAME_RE = /^([NKXI]{1,2})((?:psk\d+)(?:\+psk\d+)*)?$/;

/** Parses "XX", "IKpsk2", "NNpsk0+psk2"; throws a RangeError naming what is wrong. */
export function parsePattern(name: string): HandshakePattern {
  const m = NAME_RE.exec(name);
  const base = m ? BASE[m[1]!] : undefined;
  if (!m || !base) {
    throw new RangeError(`parsePattern: unknown handshake pattern "${name}"; expected one of ${PATTERN_NAMES.join(', ')}, optionally with psk modifiers (e.g. IKpsk2)`);
  }
  const messages = base.msgs.map((msg) => [...msg]);
  let pskCount = 0;
  const seen = new Set<number>();
  for (const mod of m[2] ? m[2].split('+') : []) {
    const n = Number(mod.slice(3));
    if (seen.has(n)) throw new RangeError(`parsePattern: "${name}" repeats modifier ${mod}`);
    seen.add(n);
    if (n === 0) messages[0]!.unshift('psk');
    else if (n <= messages.length) messages[n - 1]!.push('psk');
    else throw new RangeError(`parsePattern: "${name}" has ${mod} but only ${messages.length} message(s)`);
    pskCount++;
  }
  return {
    name,
    initiatorPre: base.ipre,
    responderPre: base.rpre,
    messages,
    psk: pskCount > 0,
    pskCount,
    oneWay: base.msgs.length === 1,
  };
}

/** "Noise_IKpsk2_25519_AESGCM_SHA256" (§8): the only suite this module speaks. */
export function protocolName(pattern: string): string {
  return `Noise_${pattern}_25519_AESGCM_SHA256`;
}
