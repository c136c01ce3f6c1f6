import { suite, equal, is, throws } from '../../harness.js';
import { seededRand } from '../../../shared/rand.js';
import { FrameReader, encodeFrame, FrameTooLargeError } from '../../../shared/wire/frame.js';

const t = suite('frame');

t('golden bytes: u32 big-endian length, then the body', () => {
  equal([...encodeFrame(Uint8Array.from([0xaa, 0xbb]))], [0, 0, 0, 2, 0xaa, 0xbb]);
  equal([...encodeFrame(new Uint8Array(0))], [0, 0, 0, 0]);
});

t('frames come back whole from any chunking (random cuts, 200 seeds)', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const r = seededRand(seed);
    const bodies = Array.from({ length: 1 + r.int(8) }, () => r.bytes(r.int(300)));
    const wire = new Uint8Array(bodies.reduce((n, b) => n + 4 + b.length, 0));
    let off = 0;
    for (const b of bodies) {
      wire.set(encodeFrame(b), off);
      off += 4 + b.length;
    }
    const reader = new FrameReader();
    const got: Uint8Array[] = [];
    for (let i = 0; i < wire.length; ) {
      const n = 1 + r.int(40);
      got.push(...reader.push(wire.subarray(i, i + n)));
      i += n;
    }
    equal(got.map((g) => [...g]), bodies.map((b) => [...b]), `seed ${seed}`);
    is(reader.buffered, 0);
  }
});

t('an oversized announced length fails once, then the reader stays silent', () => {
  const reader = new FrameReader(10);
  throws(() => reader.push(Uint8Array.from([0, 0, 0, 11])), (e: unknown) => e instanceof FrameTooLargeError && /11 bytes exceeds the limit of 10/.test((e as Error).message));
  equal(reader.push(encodeFrame(Uint8Array.from([1]))), []);
});

t.run();
