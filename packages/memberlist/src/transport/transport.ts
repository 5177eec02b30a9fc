// The carrier interface under memberlist: best-effort packets and reliable streams between
// `host:port` addresses. The bytes are the same whatever carries them (UDP/TCP or in-memory).

/** One reliable, ordered, bidirectional connection carrying one request and one reply. */
export interface StreamConn {
  /** The peer's `host:port` as seen by this side. */
  readonly remoteAddr: string;
  /** Writes bytes; rejects if the connection is gone. */
  write(data: Uint8Array): Promise<void>;
  /** The next chunk of bytes, or null once the peer closed (or the connection was closed). */
  read(): Promise<Uint8Array | null>;
  /** Closes the connection (idempotent); pending and later reads yield null. */
  close(): void;
}

export interface TransportHandlers {
  /** A datagram arrived from `from` (`host:port`). */
  packet(data: Uint8Array, from: string): void;
  /** A peer opened a stream. The handler owns the connection and must close it. */
  stream(conn: StreamConn): void;
}

export interface Transport {
  /** The address actually bound (an IP literal, possibly a wildcard). */
  readonly bindAddr: string;
  /** The port actually bound (UDP and TCP share it). */
  readonly bindPort: number;
  /** Installs the receivers; called once before any traffic is expected. */
  setHandlers(handlers: TransportHandlers): void;
  /** Sends one datagram to `to` (`host:port`). Rejects on local errors; loss is silent. */
  sendPacket(to: string, data: Uint8Array): Promise<void>;
  /** Opens a stream to `to`, failing after `timeoutMs`. */
  dialStream(to: string, timeoutMs: number): Promise<StreamConn>;
  /** Stops listening and releases every socket and timer. */
  close(): Promise<void>;
}

/** A transport-level failure (code `ERR_TRANSPORT`, or a more specific one). */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string = 'ERR_TRANSPORT',
  ) {
    super(message);
    this.name = 'TransportError';
  }
}
