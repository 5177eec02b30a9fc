export * from './chat-line.js';
export * from './chat-transport.js';
export * from './errors.js';
export * from './kv-update.js';
export * from './member-record.js';
