export type { Store, StoreOptions } from './store.js';
export * from './types.js';
