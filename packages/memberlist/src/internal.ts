// @isopeer/memberlist/internal: everything of the public entry point plus the parts behind it —
// the wire codec, address and CIDR helpers, Lifeguard's awareness and suspicion timer, the
// queue's internals, the metrics counter, the node table's types. For the package's own tests,
// the end-to-end tests, benchmarks and tools; not a stable API.
export * from './address.js';
export * from './awareness.js';
export * from './clock.js';
export * from './codec/index.js';
export * from './config.js';
export * from './context.js';
export * from './go-config.js';
export * from './go-config-fields.js';
export * from './index.js';
export { MemberlistImpl } from './memberlist.js';
export * from './metrics.js';
export * from './queue.js';
export * from './suspicion.js';
export * from './transport/memory-transport.js';
export * from './transport/net-transport.js';
export * from './transport/transport.js';
