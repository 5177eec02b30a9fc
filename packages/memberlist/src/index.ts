export * from './address.js';
export * from './awareness.js';
export * from './clock.js';
export * from './codec/index.js';
export * from './config.js';
export type {
  Delegate,
  MemberlistHooks,
  MemberNode,
  MemberState,
  PingDelegate,
} from './context.js';
export * from './memberlist.js';
export * from './metrics.js';
export { type LabelRefusal, StreamError } from './net.js';
export * from './queue.js';
export { MergeError } from './state.js';
export * from './suspicion.js';
export * from './transport/memory-transport.js';
export * from './transport/net-transport.js';
export * from './transport/transport.js';
