// The node's static X25519 key file and the node id derived from it.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { seededRand } from '../../../../shared/rand.js';
import { diskSecretFiles, memorySecretFiles, type SecretFileIo } from '../../../../agent/cluster/ca/secret-file.js';
import {
  NODE_KEY_FILE, generateNodeKey, loadNodeKey, loadOrCreateNodeKey, nodeIdOf, nodeKeyFromPrivate, saveNodeKey,
} from '../../../../agent/cluster/ca/node-key.js';

const t = suite('node key');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'agent-node-key-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// One contract, two implementations (STYLE habit 2): the fake cannot drift from the disk.
for (const [name, make] of [['disk', () => diskSecretFiles()], ['memory', () => memorySecretFiles()]] as const) {
  t(`SecretFileIo contract (${name}): missing, write, overwrite, mode`, () => {
    withTempDir((dir) => {
      const io: SecretFileIo = make();
      const p = join(dir, 'secret');
      is(io.read(p), undefined);
      io.writeAtomic(p, Uint8Array.from([1, 2, 3]), 0o600);
      equal(io.read(p), { bytes: Uint8Array.from([1, 2, 3]), mode: 0o600 });
      io.writeAtomic(p, Uint8Array.from([4]), 0o600);
      equal(io.read(p), { bytes: Uint8Array.from([4]), mode: 0o600 });
    });
  });
}

t('disk: the file is 0600 on disk, and no temporary file is left behind', () => {
  withTempDir((dir) => {
    saveNodeKey(dir, generateNodeKey(seededRand(1)));
    is(statSync(join(dir, NODE_KEY_FILE)).mode & 0o777, 0o600);
    equal(readdirSync(dir), [NODE_KEY_FILE]);
  });
});

t('disk: the key file is one line of base64, as `wg genkey` writes', () => {
  withTempDir((dir) => {
    const key = generateNodeKey(seededRand(1));
    saveNodeKey(dir, key);
    const text = readFileSync(join(dir, NODE_KEY_FILE), 'utf8');
    is(text, 'nimQkSd7AcEvUq/jBftxfcIWeHgADL77WhdcWuE9Bok=\n');
    equal(new Uint8Array(Buffer.from(text.trim(), 'base64')), key.privateKey);
  });
});

t('loadOrCreateNodeKey creates once, then loads the same key', () => {
  withTempDir((dir) => {
    const a = loadOrCreateNodeKey(dir, seededRand(5));
    is(a.created, true);
    const b = loadOrCreateNodeKey(dir, seededRand(6));
    is(b.created, false);
    equal(b.key, a.key);
    is(loadNodeKey(join(dir, 'elsewhere')), undefined);
  });
});

t('a key file open to group or others is refused with one clear line (0644, 0640, 0604, 0660)', () => {
  withTempDir((dir) => {
    saveNodeKey(dir, generateNodeKey(seededRand(2)));
    const p = join(dir, NODE_KEY_FILE);
    for (const mode of [0o644, 0o640, 0o604, 0o660, 0o602]) {
      chmodSync(p, mode);
      throws(
        () => loadNodeKey(dir),
        (e: Error) => e.message === `node key ${p} has mode 0${mode.toString(8)}, open to group or others; it must be 0600 (chmod 600 ${p})`,
        mode.toString(8),
      );
    }
    chmodSync(p, 0o400); // read-only for the owner is fine
    ok(loadNodeKey(dir) !== undefined);
  });
});

t('a malformed key file is refused with one clear line', () => {
  withTempDir((dir) => {
    const p = join(dir, NODE_KEY_FILE);
    const msg = `node key ${p} is malformed: expected one line of base64 holding 32 bytes (44 characters)`;
    for (const body of ['', '\n', 'not base64 at all\n', `${Buffer.alloc(31).toString('base64')}\n`, `${Buffer.alloc(33).toString('base64')}\n`, `${Buffer.alloc(32).toString('base64')}\nextra\n`]) {
      writeFileSync(p, body, { mode: 0o600 });
      chmodSync(p, 0o600);
      throws(() => loadNodeKey(dir), (e: Error) => e.message === msg && !e.message.includes('\n'), JSON.stringify(body));
    }
    writeFileSync(p, `${Buffer.alloc(32, 7).toString('base64')}\r\n`, { mode: 0o600 });
    ok(loadNodeKey(dir) !== undefined, 'a CRLF line ending is accepted');
  });
});

t('memory fake: a planted loose mode is refused the same way', () => {
  const io = memorySecretFiles();
  saveNodeKey('/state', generateNodeKey(seededRand(3)), io);
  io.files.get('/state/node.key')!.mode = 0o644;
  throws(() => loadNodeKey('/state', io), /has mode 0644, open to group or others/);
});

t('the public key is X25519 of the private key (RFC 7748 §6.1, Alice)', () => {
  const k = nodeKeyFromPrivate(unhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'));
  equal(k.publicKey, unhex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'));
});

t('node id golden value: base36(SHA-256(public key)[0..16]), 25 characters', () => {
  const pub = unhex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  is(nodeIdOf(pub), '2uen6nr0s4yxy3bpcofgspx5d');
  // The dumb twin of the derivation.
  const h = createHash('sha256').update(pub).digest('hex').slice(0, 32);
  is(BigInt(`0x${h}`).toString(36).padStart(25, '0'), '2uen6nr0s4yxy3bpcofgspx5d');
  is(nodeIdOf(new Uint8Array(32)), '629eeg2knoxbplg8j5vmqjk0w');
  throws(() => nodeIdOf(new Uint8Array(31)), /publicKey must be 32 bytes, got 31/);
});

t('generation is a function of the injected Rand', () => {
  equal(generateNodeKey(seededRand(9)), generateNodeKey(seededRand(9)));
  ok(generateNodeKey(seededRand(9)).nodeId !== generateNodeKey(seededRand(10)).nodeId);
  is(generateNodeKey(seededRand(1)).nodeId, '0h5x28bwzqcpvstv7vn2mid8o');
});

t.run();
