// The node's static X25519 key (DESIGN §1: the Noise handshakes of the
// control and data planes use it) and the node id derived from it.
//
// File: <state dir>/node.key, mode 0600, holding one line: the 32-byte
// private key in standard base64 (44 characters), the format of WireGuard's
// `wg genkey`, so an operator's tools can read it. The public key is
// recomputed on load, never stored, so the two cannot disagree.
//
// Node id: keyId(public key) = the first 16 bytes of SHA-256(public key) as
// 25 lowercase base36 characters, the shape of docker's node ids (see
// key-id.ts). It lasts as long as the key does.
import { x25519 } from '@noble/curves/ed25519.js';
import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import type { Rand } from '../../../shared/rand.js';
import { keyId } from './key-id.js';
import { diskSecretFiles, type SecretFileIo } from './secret-file.js';

export const NODE_KEY_FILE = 'node.key';
/** Owner read/write only; anything looser is refused on load, as ssh refuses loose private keys. */
export const NODE_KEY_MODE = 0o600;
export const X25519_KEY_BYTES = 32;

export interface NodeKey {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
  nodeId: string;
}

/** The node id of an X25519 public key. */
export function nodeIdOf(publicKey: Uint8Array): string {
  if (publicKey.length !== X25519_KEY_BYTES) throw new RangeError(`nodeIdOf: publicKey must be ${X25519_KEY_BYTES} bytes, got ${publicKey.length}`);
  return keyId(publicKey);
}

export function nodeKeyFromPrivate(privateKey: Uint8Array): NodeKey {
  if (privateKey.length !== X25519_KEY_BYTES) throw new RangeError(`node key: privateKey must be ${X25519_KEY_BYTES} bytes, got ${privateKey.length}`);
  const publicKey = x25519.getPublicKey(privateKey);
  return { privateKey: privateKey.slice(), publicKey, nodeId: nodeIdOf(publicKey) };
}

/** A fresh key from the injected randomness (cryptoRand() in the daemon); X25519 clamps any 32 bytes into a valid scalar (RFC 7748 §5). */
export function generateNodeKey(rand: Rand): NodeKey {
  return nodeKeyFromPrivate(rand.bytes(X25519_KEY_BYTES));
}

export function nodeKeyPath(stateDir: string): string {
  return join(stateDir, NODE_KEY_FILE);
}

export function encodeNodeKeyFile(key: NodeKey): Uint8Array {
  return new TextEncoder().encode(`${Buffer.from(key.privateKey).toString('base64')}\n`);
}

const BASE64_32_BYTES = /^[A-Za-z0-9+/]{43}=$/;

/** The key a file holds; `path` only names the file in the error. */
export function decodeNodeKeyFile(bytes: Uint8Array, path: string): NodeKey {
  const text = new TextDecoder().decode(bytes).replace(/\r?\n$/, '');
  if (!BASE64_32_BYTES.test(text)) {
    throw new Error(`node key ${path} is malformed: expected one line of base64 holding ${X25519_KEY_BYTES} bytes (44 characters)`);
  }
  return nodeKeyFromPrivate(new Uint8Array(Buffer.from(text, 'base64')));
}

/** The node key in stateDir, or undefined when there is none yet; throws one line on a loose mode or a malformed file. */
export function loadNodeKey(stateDir: string, io: SecretFileIo = diskSecretFiles()): NodeKey | undefined {
  const path = nodeKeyPath(stateDir);
  const f = io.read(path);
  if (f === undefined) return undefined;
  if ((f.mode & 0o077) !== 0) {
    throw new Error(`node key ${path} has mode 0${f.mode.toString(8)}, open to group or others; it must be 0600 (chmod 600 ${path})`);
  }
  return decodeNodeKeyFile(f.bytes, path);
}

export function saveNodeKey(stateDir: string, key: NodeKey, io: SecretFileIo = diskSecretFiles()): void {
  io.writeAtomic(nodeKeyPath(stateDir), encodeNodeKeyFile(key), NODE_KEY_MODE);
}

/** Start-up: the existing key, or a new one saved before it is used. */
export function loadOrCreateNodeKey(stateDir: string, rand: Rand, io: SecretFileIo = diskSecretFiles()): { key: NodeKey; created: boolean } {
  const existing = loadNodeKey(stateDir, io);
  if (existing !== undefined) return { key: existing, created: false };
  const key = generateNodeKey(rand);
  saveNodeKey(stateDir, key, io);
  return { key, created: true };
}
