import { suite, equal, is } from '../../../harness.js';
import { decodeSnapshotFile, encodeSnapshotFile, parseSnapshotFileName, snapshotFileName } from '../../../../agent/cluster/wal/snapshot-file.js';

const t = suite('wal snapshot file format');
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

// CRC cross-checked with an independent bitwise CRC-32C.
const GOLDEN = '41534e50' + '0001' + '0000' + '000000000000000a' + '0000000000000003' + '0000000000000003' + 'cb07e23e' + '010203';

t('golden: header, index 10, term 3, three body bytes', () => {
  is(hex(encodeSnapshotFile({ index: 10, term: 3 }, Uint8Array.of(1, 2, 3))), GOLDEN);
});

t('round trip, and the file name encodes index and term', () => {
  const body = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
  equal(decodeSnapshotFile(encodeSnapshotFile({ index: 2 ** 40, term: 77 }, body)), { index: 2 ** 40, term: 77, data: body });
  is(snapshotFileName({ index: 10, term: 3 }), 'snap-000000000000000a-0000000000000003.snap');
  equal(parseSnapshotFileName('snap-000000000000000a-0000000000000003.snap'), { index: 10, term: 3 });
  is(parseSnapshotFileName('snap-0a-03.snap'), undefined);
});

t('every flipped byte and every truncation is detected', () => {
  const file = encodeSnapshotFile({ index: 10, term: 3 }, Uint8Array.of(1, 2, 3, 4, 5));
  for (let i = 0; i < file.length; i++) {
    const b = file.slice();
    b[i]! ^= 0x10;
    is(typeof decodeSnapshotFile(b), 'string', `byte ${i}`);
  }
  for (let cut = 0; cut < file.length; cut++) is(typeof decodeSnapshotFile(file.subarray(0, cut)), 'string', `cut ${cut}`);
  is(decodeSnapshotFile(file.subarray(0, 10)), 'file is 10 bytes, shorter than the 36-byte header');
  const b = file.slice();
  b[40]! ^= 1;
  is(decodeSnapshotFile(b), 'checksum mismatch');
});

t.run();
