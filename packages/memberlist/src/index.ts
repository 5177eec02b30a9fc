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
export {
  diffGoConfig,
  fromGoConfig,
  GO_CONFIG_MAX_BYTES,
  GoConfigError,
  type GoConfigIssue,
  type GoConfigParseOptions,
  type GoConfigParseResult,
  goConfigFormat,
  parseGoConfig,
  serializeGoConfig,
  toGoConfig,
  validateGoConfig,
} from './go-config.js';
export {
  GO_CONFIG_FIELDS,
  GO_FIELD_NAMES,
  type GoFieldKind,
  type GoFieldName,
  type GoFieldSpec,
  type GoIPNet,
  type GoMemberlistConfig,
  goFieldSpec,
} from './go-config-fields.js';
export * from './memberlist.js';
export * from './metrics.js';
export { StreamError } from './net.js';
export * from './queue.js';
export { MergeError } from './state.js';
export * from './suspicion.js';
export * from './transport/memory-transport.js';
export * from './transport/net-transport.js';
export * from './transport/transport.js';
