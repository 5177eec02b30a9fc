import type { Store, StoreOptions } from '../store.js';
import { createFileStore } from './file.js';
import { createMemoryStore } from './memory.js';

/** Thrown for a store spec that names no known store. */
export class StoreSpecError extends Error {
  readonly code = 'BOOTSTRAP_STORE_SPEC';
  constructor(message: string) {
    super(message);
    this.name = 'StoreSpecError';
  }
}

/** What `createStoreFromSpec` accepts, for help texts. */
export const STORE_SPEC_USAGE = 'memory | file:PATH | postgres://USER@HOST:PORT/DB';

/**
 * Opens the store a spec names: `memory`, `file:PATH` (original peers.json format), or a
 * `postgres://` / `postgresql://` URL. The PostgreSQL driver is loaded only when asked for.
 */
export async function createStoreFromSpec(spec: string, opts: StoreOptions = {}): Promise<Store> {
  if (spec === 'memory') return createMemoryStore(opts);
  if (spec.startsWith('file:')) {
    const path = spec.slice('file:'.length);
    if (path === '') throw new StoreSpecError('store "file:" needs a path, e.g. file:./peers.json');
    return createFileStore(path, opts);
  }
  if (spec.startsWith('postgres://') || spec.startsWith('postgresql://')) {
    // Loaded only when asked for: memory and file servers never load the database driver.
    const { createPostgresStore } = await import('./postgres.js');
    return createPostgresStore(spec, opts);
  }
  throw new StoreSpecError(`unknown store ${JSON.stringify(spec)} (expected ${STORE_SPEC_USAGE})`);
}
