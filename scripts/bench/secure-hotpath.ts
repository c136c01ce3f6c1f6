// Micro-benchmark of the encrypted data path's per-packet cost (issue 7): not
// a test, not wired into package.json. Bundle it and run it on both runtimes:
//
//   npx esbuild --bundle --platform=node --format=esm scripts/bench/secure-hotpath.ts --outfile=/tmp/secure-hotpath.mjs
//   node /tmp/secure-hotpath.mjs            # Node 20
//   npx deno run -A /tmp/secure-hotpath.mjs # Deno 2
//
// Measures, per 1400-byte VXLAN datagram: AES-256-GCM seal+open through
// node:crypto with a raw key vs a KeyObject (createSecretKey), one seal step
// by step (what createCipheriv, update, final and getAuthTag each add, and
// the AES work alone on a reused ECB context: the floor without per-packet
// set-up), @noble/ciphers for scale, Keypair.seal+open (the real hot path),
// SecurePlane send->receive between two planes in one process, and one full
// handshake.
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { gcm } from '@noble/ciphers/aes.js';
import { ManualClock } from '../../shared/clock.js';
import { seededRand } from '../../shared/rand.js';
import { generateKeypair } from '../../shared/crypto/noise-dh.js';
import { defaultSecureConfig } from '../../agent/datapath/secure/config.js';
import { Keypair } from '../../agent/datapath/secure/keypair.js';
import { SecurePlane } from '../../agent/datapath/secure/secure-plane.js';
import { encodeVxlanHeader } from '../../agent/datapath/vxlan-frame.js';

const SIZE = 1400;
const rand = seededRand(1);
const keyBytes = Buffer.from(rand.bytes(32));
const keyObject = createSecretKey(keyBytes);
const datagram = new Uint8Array(SIZE);
datagram.set(encodeVxlanHeader(4097));
datagram.set(rand.bytes(SIZE - 8), 8);

/** Median ns per call over 9 rounds (this is a shared 2-vCPU box: single rounds vary by 20%). */
function time(label: string, n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn(i); // warm up
  const rounds: number[] = [];
  for (let round = 0; round < 9; round++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    rounds.push(((performance.now() - t0) * 1e6) / n);
  }
  const median = rounds.sort((x, y) => x - y)[4]!;
  console.log(`${label.padEnd(52)} ${median.toFixed(0).padStart(7)} ns`);
  return median;
}

function gcmRoundTrip(key: Buffer | KeyObject): (i: number) => void {
  const nonce = Buffer.alloc(12);
  const ad = Buffer.alloc(16);
  const tag = Buffer.alloc(16);
  return (i) => {
    nonce.writeUInt32BE(i, 8);
    const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    c.setAAD(ad);
    const out = Buffer.allocUnsafe(SIZE + 32);
    out.set(c.update(datagram), 16);
    c.final();
    out.set(c.getAuthTag(), 16 + SIZE);
    for (let j = 0; j < 16; j++) tag[j] = out[16 + SIZE + j]!;
    const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    d.setAuthTag(tag);
    d.setAAD(ad);
    d.update(out.subarray(16, 16 + SIZE));
    d.final();
  };
}

const runtime = typeof (globalThis as { Deno?: unknown }).Deno === 'object' ? 'Deno' : `Node ${process.versions.node}`;
console.log(`secure hot path, ${SIZE}-byte datagrams, ${runtime}`);
time('node:crypto seal+open, raw key Buffer', 30_000, gcmRoundTrip(keyBytes));
time('node:crypto seal+open, KeyObject (createSecretKey)', 30_000, gcmRoundTrip(keyObject));

// One seal, step by step (the profile of `bench:datapath --profile` splits the same calls).
{
  const nonce = Buffer.alloc(12);
  const ad = Buffer.alloc(16);
  const opts = { authTagLength: 16 } as const;
  time('seal step 1: createCipheriv + setAAD', 30_000, (i) => {
    nonce.writeUInt32BE(i, 8);
    createCipheriv('aes-256-gcm', keyBytes, nonce, opts).setAAD(ad);
  });
  time('seal step 2: + update (the ciphertext Buffer)', 30_000, (i) => {
    nonce.writeUInt32BE(i, 8);
    const c = createCipheriv('aes-256-gcm', keyBytes, nonce, opts);
    c.setAAD(ad);
    c.update(datagram);
  });
  time('seal step 3: + final + getAuthTag', 30_000, (i) => {
    nonce.writeUInt32BE(i, 8);
    const c = createCipheriv('aes-256-gcm', keyBytes, nonce, opts);
    c.setAAD(ad);
    c.update(datagram);
    c.final();
    c.getAuthTag();
  });
  time('seal step 4: + one output Buffer (header|ct|tag)', 30_000, (i) => {
    nonce.writeUInt32BE(i, 8);
    const c = createCipheriv('aes-256-gcm', keyBytes, nonce, opts);
    c.setAAD(ad);
    const out = Buffer.allocUnsafe(SIZE + 32);
    ad.copy(out, 0);
    c.update(datagram).copy(out, 16);
    c.final();
    c.getAuthTag().copy(out, 16 + SIZE);
  });
  // The AES-256 block work of a 1400-byte message without any per-packet set-up: the arithmetic's floor (GHASH not included).
  const ecb = createCipheriv('aes-256-ecb', keyBytes, null);
  ecb.setAutoPadding(false);
  const blocks = datagram.subarray(0, SIZE - (SIZE % 16));
  time('AES-256 alone: update on one reused ECB context', 30_000, () => {
    ecb.update(blocks);
  });
}

const n12 = new Uint8Array(12);
time('@noble/ciphers seal+open (pure JS)', 2_000, () => {
  const sealed = gcm(keyBytes, n12, datagram.subarray(0, 16)).encrypt(datagram);
  gcm(keyBytes, n12, datagram.subarray(0, 16)).decrypt(sealed);
});

const cfg = defaultSecureConfig();
const tx = new Keypair({ localIndex: 1, remoteIndex: 2, isInitiator: true, nowMs: 0, generation: 1, owner: null, send: keyBytes, recv: keyBytes, cfg });
const rx = new Keypair({ localIndex: 2, remoteIndex: 1, isInitiator: false, nowMs: 0, generation: 1, owner: null, send: keyBytes, recv: keyBytes, cfg });
time('Keypair.seal + Keypair.open', 30_000, () => {
  const m = tx.seal(datagram, SIZE);
  if (rx.open(m, m.length, 0) !== 0) throw new Error('open failed');
});

const clock = new ManualClock();
let delivered = 0;
let toB: Uint8Array | null = null;
let toA: Uint8Array | null = null;
const ka = generateKeypair(rand);
const kb = generateKeypair(rand);
const a = new SecurePlane({ staticKey: ka, clock, rand: seededRand(2), out: { send: (_v, buf) => void (toB = buf), deliver: () => void delivered++ } });
const b = new SecurePlane({ staticKey: kb, clock, rand: seededRand(3), out: { send: (_v, buf) => void (toA = buf), deliver: () => void delivered++ } });
a.setPeers([{ nodeId: 'b', publicKey: kb.publicKey, vtep: '10.0.0.2' }]);
b.setPeers([{ nodeId: 'a', publicKey: ka.publicKey, vtep: '10.0.0.1' }]);
const psk = [{ generation: 1, key: rand.bytes(32) }];
a.setNetworkKeys(4097, psk);
b.setNetworkKeys(4097, psk);
const pump = (): void => {
  for (let i = 0; i < 10 && (toA !== null || toB !== null); i++) {
    const mb = toB;
    toB = null;
    if (mb !== null) b.receive('10.0.0.1', mb, mb.length);
    const ma = toA;
    toA = null;
    if (ma !== null) a.receive('10.0.0.2', ma, ma.length);
  }
};
a.send(4097, '10.0.0.2', datagram, SIZE);
pump();
if (delivered !== 1) throw new Error('no session');
time('SecurePlane send -> receive -> deliver', 30_000, () => {
  a.send(4097, '10.0.0.2', datagram, SIZE);
  const m = toB!;
  toB = null;
  b.receive('10.0.0.1', m, m.length);
});
const drops = Object.entries(b.stats().drops).filter(([, n]) => n > 0);
if (drops.length > 0) throw new Error(`drops: ${JSON.stringify(drops)}`);

let hs = 0;
time('one handshake (initiation, response, confirmation)', 50, () => {
  // A new network each time: a fresh session, so the handshake is never a rekey racing another.
  const vni = 10_000 + hs++;
  const dg = Uint8Array.from(datagram);
  dg.set(encodeVxlanHeader(vni));
  a.setNetworkKeys(vni, psk);
  b.setNetworkKeys(vni, psk);
  a.send(vni, '10.0.0.2', dg, 64);
  pump();
});
a.close();
b.close();
