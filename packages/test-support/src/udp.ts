import { createSocket, type Socket } from 'node:dgram';

export interface RawUdpPeerOptions {
  /** Called with each datagram as it arrives (it is also kept in `received`). */
  onMessage?: (msg: Buffer) => void;
  /** The socket's receive buffer in bytes, for floods of replies; default the system's. */
  recvBufferSize?: number;
}

/**
 * A real UDP socket on 127.0.0.1 for tests that send hand-made datagrams (hostile peers, attacks).
 * What arrives is kept in `received`.
 */
export class RawUdpPeer {
  readonly received: Buffer[] = [];

  private constructor(
    private readonly socket: Socket,
    onMessage?: (msg: Buffer) => void,
  ) {
    socket.on('message', (msg) => {
      this.received.push(msg);
      onMessage?.(msg);
    });
  }

  static async open(opts: RawUdpPeerOptions = {}): Promise<RawUdpPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    if (opts.recvBufferSize !== undefined) socket.setRecvBufferSize(opts.recvBufferSize);
    return new RawUdpPeer(socket, opts.onMessage);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Sends one datagram to `to`: a port on 127.0.0.1, or an IPv4 `host:port`. */
  send(to: number | string, data: Uint8Array): Promise<void> {
    const [host, port] = typeof to === 'number' ? ['127.0.0.1', to] : to.split(':');
    return new Promise((resolve, reject) =>
      this.socket.send(data, Number(port), host, (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): void {
    this.socket.close();
  }
}
