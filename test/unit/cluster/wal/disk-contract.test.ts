// Runs the Disk contract against the real filesystem and against MemDisk.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeDisk } from '../../../../agent/cluster/wal/disk.js';
import { MemDisk } from '../../../../agent/cluster/wal/mem-disk.js';
import { seededRand } from '../../../../shared/rand.js';
import { diskContract } from './disk-contract.js';

diskContract('node:fs in a temp dir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-disk-'));
  return { disk: nodeDisk(), dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});

diskContract('MemDisk', () => {
  const disk = new MemDisk({ rand: seededRand(1) });
  disk.mkdirp('/state');
  return { disk, dir: '/state', cleanup: () => {} };
});
