export * from './crc.js';
export * from './encryption.js';
export * from './errors.js';
export * from './keyring.js';
export * from './messages.js';
export * from './msgpack.js';
export * from './vsn.js';
