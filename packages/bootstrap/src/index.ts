export * from './codec.js';
export * from './handler.js';
export * from './node-server.js';
export * from './semantics.js';
export { type Store, type StoreOptions, StoreUnavailableError } from './store.js';
export * from './stores/file.js';
export * from './stores/from-spec.js';
export * from './stores/memory.js';
export * from './types.js';
