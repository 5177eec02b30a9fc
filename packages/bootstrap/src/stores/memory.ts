import { type BootstrapOp, initialData, type LeaseTimes, step } from '../semantics.js';
import { type Store, type StoreOptions, StoreUnavailableError } from '../store.js';
import type { BootstrapData, PeerRecord } from '../types.js';

/**
 * State in process memory, lost on exit: for tests and throw-away servers. Every operation runs
 * synchronously inside one call, so operations are trivially atomic on Node's single thread.
 */
export class MemoryStore implements Store {
  private data: BootstrapData;
  private readonly leases: LeaseTimes = new Map();
  private readonly ttlMs: number;
  private closed = false;

  constructor(opts: StoreOptions & { initial?: BootstrapData } = {}) {
    this.ttlMs = opts.peerTtlMs ?? 0;
    this.data = opts.initial ?? initialData();
  }

  private run(op: BootstrapOp, now: number): Promise<BootstrapData> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('store is closed'));
    this.data = step(this.data, this.leases, op, now, this.ttlMs);
    return Promise.resolve(this.data);
  }

  join(peer: PeerRecord, now: number): Promise<BootstrapData> {
    return this.run({ kind: 'join', peer }, now);
  }
  leave(id: string, now: number): Promise<BootstrapData> {
    return this.run({ kind: 'leave', id }, now);
  }
  refill(peer: PeerRecord, now: number): Promise<BootstrapData> {
    return this.run({ kind: 'refill', peer }, now);
  }
  list(now: number): Promise<BootstrapData> {
    return this.run({ kind: 'list' }, now);
  }
  reset(now: number): Promise<BootstrapData> {
    return this.run({ kind: 'reset' }, now);
  }
  config(maxpeers: number, minrefillcandidates: number, now: number): Promise<BootstrapData> {
    return this.run({ kind: 'config', maxpeers, minrefillcandidates }, now);
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

export function createMemoryStore(opts: StoreOptions = {}): Store {
  return new MemoryStore(opts);
}
