// Runs the transport contract against the real sockets and against MemNet.
import { ManualClock } from '../../../shared/clock.js';
import { seededRand } from '../../../shared/rand.js';
import { MemNet } from '../../../shared/transport/memnet.js';
import { tcpTransport } from '../../../shared/transport/tcp.js';
import { UDP_BUFFER_BYTES, udpTransport } from '../../../shared/transport/udp.js';
import { transportContract } from './transport-contract.js';
import { suite, is, ok, until } from '../../harness.js';
import type { Stream } from '../../../shared/transport/types.js';

const macrotask = () => new Promise<void>((r) => setImmediate(r));

transportContract('udp+tcp on 127.0.0.1', () => ({
  dgram: udpTransport(),
  stream: tcpTransport(),
  host: '127.0.0.1',
  pump: macrotask,
}));

transportContract('memnet under a ManualClock', () => {
  const clock = new ManualClock();
  // Latency with jitter, so stream reassembly and datagram timing are exercised too.
  const net = new MemNet({ clock, rand: seededRand(7), latencyMs: 2, jitterMs: 3, streamSegmentBytes: 1000 });
  return {
    dgram: net.datagram('10.0.0.1'),
    stream: net.stream('10.0.0.1'),
    host: '10.0.0.1',
    pump: async () => {
      clock.runNext();
      await macrotask();
    },
  };
});

// What only the real sockets have: buffer grants and the connect timer.
const real = suite('real transports');

real('udp asks for big buffers and reports what the kernel granted', async () => {
  const s = await udpTransport().bind({ host: '127.0.0.1', port: 0 });
  try {
    ok(s.recvBufferBytes > 0 && s.sendBufferBytes > 0, `${s.recvBufferBytes}/${s.sendBufferBytes}`);
    ok(s.recvBufferBytes <= 2 * UDP_BUFFER_BYTES);
  } finally {
    await s.close();
  }
});

real('tcp connect rejects with ETIMEDOUT when its timer fires first', async () => {
  const clock = new ManualClock();
  const accepted: Stream[] = [];
  const l = await tcpTransport().listen({ host: '127.0.0.1', port: 0 }, (s) => accepted.push(s));
  try {
    const p = tcpTransport({ clock }).connect(l.local, { timeoutMs: 1_000 });
    clock.advance(1_000); // before the event loop could complete the handshake
    const err = await p.then(() => undefined, (e: Error & { code?: string }) => e);
    is(err?.code, 'ETIMEDOUT');
  } finally {
    await l.close();
    // The kernel may have completed the handshake anyway; close what was accepted.
    await until(() => true);
    for (const s of accepted) s.destroy();
  }
});

real.run();
