// @isopeer/memberlist: SWIM + Lifeguard membership, wire-compatible with HashiCorp memberlist
// 0.2.2. Public API: the node (interface + factory), its configuration (and Go's file format),
// delegates and events, the broadcast queue, encryption keys, transports, clocks, metrics and the
// errors it throws. Internals (codec, suspicion timer, awareness, ...) are in
// `@isopeer/memberlist/internal`, for tests, benchmarks and tools.
export { AddressError, type HostPort, joinHostPort, parseHostPort } from './address.js';
export { IncarnationError } from './admission.js';
export {
  type Clock,
  CoalescingClock,
  DEFAULT_TIMER_SLACK_MS,
  realClock,
  seededRandom,
  type TimerBase,
  type TimerHandle,
  VirtualClock,
} from './clock.js';
export { CodecError, type CodecErrorCode } from './codec/errors.js';
export { Keyring, VALID_KEY_LENGTHS } from './codec/keyring.js';
export type { LabelRefusalReason } from './codec/label.js';
export { PROTOCOL_VERSION_MAX, PROTOCOL_VERSION_MIN } from './codec/vsn.js';
export {
  type Config,
  ConfigError,
  defaultLANConfig,
  defaultLocalConfig,
  defaultWANConfig,
  META_MAX_SIZE,
  validateConfig,
  validateLabel,
} from './config.js';
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
  type GoValueOf,
  goFieldSpec,
} from './go-config-fields.js';
export {
  createMemberlist,
  type Memberlist,
  MemberlistError,
  type MemberlistEvents,
} from './memberlist.js';
export type { DropReason, MetricsSnapshot } from './metrics.js';
export { type LabelRefusal, StreamError } from './net.js';
export { type Broadcast, namedBroadcast, TransmitLimitedQueue } from './queue.js';
export { MergeError } from './state.js';
export {
  type LinkFault,
  MemoryNetwork,
  type MemoryNetworkOptions,
  MemoryTransport,
} from './transport/memory-transport.js';
export { NetTransport, type NetTransportOptions } from './transport/net-transport.js';
export {
  type StreamConn,
  type Transport,
  TransportError,
  type TransportHandlers,
} from './transport/transport.js';
