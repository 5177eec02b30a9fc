/**
 * What the peer needs from the bootstrap service client (@isopeer/bootstrap's BootstrapClient
 * satisfies it). Kept structural so tests and embedders can hand in any implementation.
 */
import type { BootstrapData, PeerRecord } from '@isopeer/bootstrap';

export interface BootstrapApi {
  readonly url?: string;
  ping(): Promise<unknown>;
  join(peer: PeerRecord): Promise<BootstrapData>;
  leave(id: string): Promise<BootstrapData>;
  refill(peer: PeerRecord): Promise<BootstrapData>;
  list(): Promise<BootstrapData>;
  reset(): Promise<BootstrapData>;
  config(maxpeers: number, minrefillcandidates: number): Promise<BootstrapData>;
}

/**
 * Failures worth retrying: the service could not be reached, timed out or said 503. A 4xx answer
 * or a malformed document will not get better by asking again.
 */
export function isTransientBootstrapError(err: unknown): boolean {
  const e = err as { name?: string; code?: string; status?: number } | undefined;
  if (!e) return false;
  if (e.name === 'BootstrapUnreachableError' || e.name === 'BootstrapTimeoutError') return true;
  if (typeof e.code === 'string' && /UNREACHABLE|TIMEOUT|ECONNREFUSED|ECONNRESET/.test(e.code)) {
    return true;
  }
  return e.status === 503 || e.status === 502 || e.status === 504;
}
