/**
 * A memberlist transport wrapper that cuts this node off from chosen peers, for partition tests:
 * datagrams to or from a blocked `host:port` vanish, and streams to it fail as if the network
 * were down. Which addresses are blocked is asked per message (`isBlocked`), so a peer that joins
 * after the partition was switched on is cut off too. Incoming streams only show the peer's
 * ephemeral port, so they cannot be told apart here; the runner partitions both sides, which
 * stops those streams at their origin.
 */
import {
  type StreamConn,
  type Transport,
  TransportError,
  type TransportHandlers,
} from '@isopeer/memberlist';

export class PartitionTransport implements Transport {
  /** Datagrams dropped so far. */
  dropped = 0;

  constructor(
    private readonly inner: Transport,
    private readonly isBlocked: (address: string) => boolean,
  ) {}

  get bindAddr(): string {
    return this.inner.bindAddr;
  }

  get bindPort(): number {
    return this.inner.bindPort;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.inner.setHandlers({
      packet: (data, from) => {
        if (this.isBlocked(from)) {
          this.dropped++;
          return;
        }
        handlers.packet(data, from);
      },
      stream: (conn: StreamConn) => handlers.stream(conn),
    });
  }

  async sendPacket(to: string, data: Uint8Array): Promise<void> {
    if (this.isBlocked(to)) {
      this.dropped++;
      return;
    }
    return this.inner.sendPacket(to, data);
  }

  async dialStream(to: string, timeoutMs: number): Promise<StreamConn> {
    if (this.isBlocked(to)) throw new TransportError(`${to} is partitioned away (test)`);
    return this.inner.dialStream(to, timeoutMs);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
