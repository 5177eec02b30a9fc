export * from './addresses.js';
export * from './claims.js';
export * from './exec.js';
export * from './mesh.js';
export * from './rules.js';
export * from './support.js';
