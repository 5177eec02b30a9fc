export * from './semantics.js';
export { type Store, type StoreOptions, StoreUnavailableError } from './store.js';
export * from './types.js';
