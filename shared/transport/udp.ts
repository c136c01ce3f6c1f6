// The real DatagramTransport over node:dgram (works on Node 20 and Deno 2).
import { createSocket, type Socket } from 'node:dgram';
import { checkAddr, type Addr, type DatagramSocket, type DatagramTransport } from './types.js';

/**
 * Socket buffers to ask for. Gossip bursts and the encapsulated data path
 * lose packets to a full receive queue long before the wire is busy; 4 MiB is
 * what wireguard-go and quic-go ask for. Linux silently caps the grant at
 * net.core.rmem_max / wmem_max, so read back what was granted.
 */
export const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

export interface UdpSocket extends DatagramSocket {
  /** The receive buffer the kernel granted (Linux reports double the usable size), 0 if unknown. */
  readonly recvBufferBytes: number;
  /** The send buffer the kernel granted, 0 if unknown. */
  readonly sendBufferBytes: number;
  /** Send or socket errors swallowed so far (the data path counts, never throws). */
  readonly errors: number;
}

export interface UdpTransport extends DatagramTransport {
  bind(addr: Addr): Promise<UdpSocket>;
}

export function udpTransport(): UdpTransport {
  return { bind: bindUdp };
}

function bindUdp(addr: Addr): Promise<UdpSocket> {
  checkAddr('udp bind', addr);
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type: 'udp4', reuseAddr: false });
    const onBindError = (err: Error) => {
      sock.close();
      reject(err);
    };
    sock.once('error', onBindError);
    sock.bind(addr.port, addr.host, () => {
      sock.off('error', onBindError);
      resolve(new NodeUdpSocket(sock));
    });
  });
}

class NodeUdpSocket implements UdpSocket {
  readonly local: Addr;
  readonly recvBufferBytes: number;
  readonly sendBufferBytes: number;
  errors = 0;
  #sock: Socket;
  #cbs: ((data: Uint8Array, from: Addr) => void)[] = [];
  #closing: Promise<void> | undefined;
  constructor(sock: Socket) {
    this.#sock = sock;
    const a = sock.address();
    this.local = { host: a.address, port: a.port };
    this.recvBufferBytes = tryBuffer(() => sock.setRecvBufferSize(UDP_BUFFER_BYTES), () => sock.getRecvBufferSize());
    this.sendBufferBytes = tryBuffer(() => sock.setSendBufferSize(UDP_BUFFER_BYTES), () => sock.getSendBufferSize());
    // Late errors (ICMP unreachable surfacing on some platforms) must not crash the process.
    sock.on('error', () => this.errors++);
    // The data path's budget is a few µs per packet: hand the Buffer itself
    // (a Uint8Array) and one reused `from` (valid during the callback only,
    // as the DatagramSocket contract says) instead of allocating per datagram.
    const from = { host: '', port: 0 };
    sock.on('message', (msg, rinfo) => {
      if (this.#closing !== undefined) return;
      from.host = rinfo.address;
      from.port = rinfo.port;
      const cbs = this.#cbs;
      for (let i = 0; i < cbs.length; i++) cbs[i]!(msg, from);
    });
  }

  send(data: Uint8Array, to: Addr): void {
    if (this.#closing !== undefined) return;
    try {
      // No callback: Node would queue a nextTick per send for it. Errors reach the 'error' event, counted there.
      this.#sock.send(data, to.port, to.host);
    } catch {
      this.errors++;
    }
  }

  onMessage(cb: (data: Uint8Array, from: Addr) => void): void {
    this.#cbs.push(cb);
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#cbs = [];
      try {
        this.#sock.close(() => resolve());
      } catch {
        resolve(); // already closed underneath us
      }
    });
    return this.#closing;
  }
}

function tryBuffer(set: () => void, get: () => number): number {
  try {
    set();
  } catch {
    // Not permitted or not supported (some Deno versions): keep the default.
  }
  try {
    return get();
  } catch {
    return 0;
  }
}
