/**
 * Test partitions (`testpartition <peer> on|off`): which peers are cut off (Partitions), and a
 * memberlist transport wrapper that cuts this node off from them (PartitionTransport):
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

/**
 * Which peers `testpartition` cut this peer off from, by peer name: nodes named `<peer>-...`
 * (also ones that join later), their memberlist addresses, and their chat lines.
 */
export class Partitions {
  private readonly names = new Set<string>();
  private readonly nodeAtAddress = new Map<string, string>();

  /** `lookup` finds the node name at a memberlist address not seen in a join event yet. */
  constructor(private readonly lookup: (address: string) => string | undefined) {}

  set(peer: string, on: boolean): void {
    if (on) this.names.add(peer);
    else this.names.delete(peer);
  }

  peers(): string[] {
    return [...this.names];
  }

  /** Remembers where a node lives (join events), so packets are checked without a search. */
  noteAddress(address: string, nodeName: string): void {
    this.nodeAtAddress.set(address, nodeName);
  }

  node(nodeName: string): boolean {
    for (const p of this.names) if (nodeName === p || nodeName.startsWith(`${p}-`)) return true;
    return false;
  }

  address(address: string): boolean {
    if (this.names.size === 0) return false;
    const name = this.nodeAtAddress.get(address) ?? this.lookup(address);
    return name !== undefined && this.node(name);
  }

  /** A received chat line from a partitioned peer (`<bob> ...`). */
  line(text: string): boolean {
    if (this.names.size === 0) return false;
    const m = /^<([^>]*)>/.exec(text);
    return m !== null && this.names.has(m[1]!);
  }
}
