import type { BootstrapData, PeerRecord } from './types.js';

/**
 * Persistence behind the bootstrap handler. Every method is one atomic operation: however many
 * requests (or, for shared backends, processes) call it concurrently, the resulting state is the
 * one some serial order of those calls produces, and the returned document is the state right
 * after this operation.
 *
 * `now` is the caller's clock in milliseconds; stores that support a lease (peer TTL) drop
 * entries not refreshed within the TTL before applying the operation.
 */
export interface Store {
  join(peer: PeerRecord, now: number): Promise<BootstrapData>;
  leave(id: string, now: number): Promise<BootstrapData>;
  refill(peer: PeerRecord, now: number): Promise<BootstrapData>;
  list(now: number): Promise<BootstrapData>;
  /** Removes every peer, keeps the config. */
  reset(now: number): Promise<BootstrapData>;
  config(maxpeers: number, minrefillcandidates: number, now: number): Promise<BootstrapData>;
  close(): Promise<void>;
}

/** Options every store understands. */
export interface StoreOptions {
  /** Lease in milliseconds: entries not refreshed by a join/refill within it are dropped. 0 = off. */
  peerTtlMs?: number;
}

/**
 * Thrown by a store that cannot reach its backend (database down, disk full, file unreadable).
 * The handler answers 503 with `message` as the one-line reason; the request may be retried.
 */
export class StoreUnavailableError extends Error {
  readonly code = 'BOOTSTRAP_STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
