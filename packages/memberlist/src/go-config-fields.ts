// The field table of Go memberlist 0.2.2's `Config` in the JSON form the Go prototype's
// `saveconfig` writes, plus the label fields of 0.3 (at the end, as Go has them): one row per Go
// field, in Go's order, saying how the field is checked, which
// `Config` field it maps to, and what it trades. Everything else (the TypeScript type of the Go
// form, validation, conversion, serialisation) is derived from this table in go-config.ts, so a
// new field is one row here.

import { PROTOCOL_VERSION_MAX, PROTOCOL_VERSION_MIN } from './codec/vsn.js';
import type { Config } from './config.js';

/** How a Go field is written in JSON and checked when loaded. */
export type GoFieldKind =
  /** A string taken as is. */
  | 'string'
  /** An IP address. */
  | 'ip'
  /** An IP address or '' (detect). */
  | 'optional-ip'
  | 'int'
  /** Go's `time.Duration`: integer nanoseconds; milliseconds in `Config`. */
  | 'duration'
  | 'bool'
  /** Base64 of an AES key, or null; the keyring's primary key in `Config`. */
  | 'secret-key'
  /** A Go interface, function or logger: always written as null, cannot be loaded. */
  | 'opaque'
  /** Go's `[]net.IPNet`, or null; `a.b.c.d/n` strings in `Config`. */
  | 'cidrs'
  /** A cluster label: a string of at most 255 bytes, '' for none. */
  | 'label';

export interface GoFieldSpec {
  /** The Go field name, as Go's encoding/json writes it. */
  readonly name: string;
  readonly kind: GoFieldKind;
  /** The `Config` field it maps to; absent for fields isopeer has no use for. */
  readonly key?: keyof Config;
  /** What `toGoConfig` writes for a field without `key` (Go's default). */
  readonly goDefault?: string;
  /** Bounds of an 'int' (durations are never negative). */
  readonly min?: number;
  readonly max?: number;
  /** What the field does and what changing it trades, in one line. */
  readonly doc: string;
  /**
   * The memberlist release that added a field 0.2.2 does not have. Such a field is written only
   * when it is not at its zero value ('' or false): a configuration that does not use it is saved
   * exactly as memberlist 0.2.2 (and the Go prototype) writes it, and a file that leaves it out
   * loads with the zero value, as Go's json.Unmarshal leaves a missing field.
   */
  readonly since?: string;
}

/** Every field in the order Go writes them. */
export const GO_CONFIG_FIELDS = [
  { name: 'Name', kind: 'string', key: 'name', doc: 'node name, unique in the cluster' },
  { name: 'Transport', kind: 'opaque', doc: 'custom transport (Go object, not loadable)' },
  {
    name: 'BindAddr',
    kind: 'ip',
    key: 'bindAddr',
    doc: 'address to listen on; 0.0.0.0 reaches the network, 127.0.0.1 stays local',
  },
  {
    name: 'BindPort',
    kind: 'int',
    key: 'bindPort',
    min: 0,
    max: 65535,
    doc: 'port to listen on (UDP and TCP); 0 picks a free one',
  },
  {
    name: 'AdvertiseAddr',
    kind: 'optional-ip',
    key: 'advertiseAddr',
    doc: 'address told to others; empty = detect from the bind address',
  },
  {
    name: 'AdvertisePort',
    kind: 'int',
    key: 'advertisePort',
    min: 0,
    max: 65535,
    doc: 'port told to others',
  },
  {
    name: 'ProtocolVersion',
    kind: 'int',
    key: 'protocolVersion',
    min: PROTOCOL_VERSION_MIN,
    max: PROTOCOL_VERSION_MAX,
    doc: 'memberlist protocol version spoken; higher needs every peer to understand it',
  },
  {
    name: 'TCPTimeout',
    kind: 'duration',
    key: 'tcpTimeoutMs',
    doc: 'TCP connect/push-pull timeout; longer tolerates slow links, shorter detects them sooner',
  },
  {
    name: 'IndirectChecks',
    kind: 'int',
    key: 'indirectChecks',
    min: 0,
    doc: 'peers asked to probe a node that missed a direct probe; more = fewer false failures, more traffic',
  },
  {
    name: 'RetransmitMult',
    kind: 'int',
    key: 'retransmitMult',
    min: 0,
    doc: 'gossip retransmits = mult * log(N+1); more = surer delivery, more traffic',
  },
  {
    name: 'SuspicionMult',
    kind: 'int',
    key: 'suspicionMult',
    min: 1,
    doc: 'suspicion timeout multiplier; higher = fewer false deaths, slower detection',
  },
  {
    name: 'SuspicionMaxTimeoutMult',
    kind: 'int',
    key: 'suspicionMaxTimeoutMult',
    min: 1,
    doc: 'upper bound of the suspicion timeout as a multiple of its minimum',
  },
  {
    name: 'PushPullInterval',
    kind: 'duration',
    key: 'pushPullIntervalMs',
    doc: 'full state sync period; 0 disables; shorter converges faster, costs TCP traffic',
  },
  {
    name: 'ProbeInterval',
    kind: 'duration',
    key: 'probeIntervalMs',
    doc: 'failure probe period; 0 disables; shorter detects failures sooner, more traffic',
  },
  {
    name: 'ProbeTimeout',
    kind: 'duration',
    key: 'probeTimeoutMs',
    doc: 'wait for a probe ack; should exceed the round-trip time',
  },
  {
    name: 'DisableTcpPings',
    kind: 'bool',
    key: 'disableTcpPings',
    doc: 'skip the TCP fallback probe (for peers that cannot take TCP)',
  },
  {
    name: 'AwarenessMaxMultiplier',
    kind: 'int',
    key: 'awarenessMaxMultiplier',
    min: 1,
    doc: 'how far Lifeguard may slow probing of an unhealthy node',
  },
  {
    name: 'GossipInterval',
    kind: 'duration',
    key: 'gossipIntervalMs',
    doc: 'gossip period; 0 disables; shorter spreads news faster, more packets',
  },
  {
    name: 'GossipNodes',
    kind: 'int',
    key: 'gossipNodes',
    min: 0,
    doc: 'peers gossiped to per period',
  },
  {
    name: 'GossipToTheDeadTime',
    kind: 'duration',
    key: 'gossipToTheDeadTimeMs',
    doc: 'how long dead nodes still receive gossip',
  },
  {
    name: 'GossipVerifyIncoming',
    kind: 'bool',
    key: 'gossipVerifyIncoming',
    doc: 'with encryption: reject unencrypted incoming gossip',
  },
  {
    name: 'GossipVerifyOutgoing',
    kind: 'bool',
    key: 'gossipVerifyOutgoing',
    doc: 'with encryption: encrypt outgoing gossip',
  },
  {
    name: 'EnableCompression',
    kind: 'bool',
    key: 'enableCompression',
    doc: 'LZW-compress messages; smaller packets, more CPU',
  },
  {
    name: 'SecretKey',
    kind: 'secret-key',
    key: 'keyring',
    doc: 'AES key (base64 of 16, 24 or 32 bytes) or null for no encryption',
  },
  { name: 'Keyring', kind: 'opaque', doc: 'key ring (Go object, not loadable)' },
  { name: 'Delegate', kind: 'opaque', doc: 'application delegate (Go object, not loadable)' },
  {
    name: 'DelegateProtocolVersion',
    kind: 'int',
    key: 'delegateProtocolVersion',
    min: 0,
    max: 255,
    doc: 'application protocol version advertised',
  },
  {
    name: 'DelegateProtocolMin',
    kind: 'int',
    key: 'delegateProtocolMin',
    min: 0,
    max: 255,
    doc: 'lowest application protocol version understood',
  },
  {
    name: 'DelegateProtocolMax',
    kind: 'int',
    key: 'delegateProtocolMax',
    min: 0,
    max: 255,
    doc: 'highest application protocol version understood',
  },
  { name: 'Events', kind: 'opaque', doc: 'event delegate (Go object, not loadable)' },
  { name: 'Conflict', kind: 'opaque', doc: 'conflict delegate (Go object, not loadable)' },
  { name: 'Merge', kind: 'opaque', doc: 'merge delegate (Go object, not loadable)' },
  { name: 'Ping', kind: 'opaque', doc: 'ping delegate (Go object, not loadable)' },
  { name: 'Alive', kind: 'opaque', doc: 'alive delegate (Go object, not loadable)' },
  {
    name: 'DNSConfigPath',
    kind: 'string',
    goDefault: '/etc/resolv.conf',
    doc: 'resolv.conf used to resolve join addresses (kept for Go; isopeer uses the system resolver)',
  },
  { name: 'LogOutput', kind: 'opaque', doc: 'log writer (Go object, not loadable)' },
  { name: 'Logger', kind: 'opaque', doc: 'logger (Go object, not loadable)' },
  {
    name: 'HandoffQueueDepth',
    kind: 'int',
    key: 'handoffQueueDepth',
    min: 0,
    doc: 'queued incoming messages before dropping; more absorbs bursts, uses memory',
  },
  {
    name: 'UDPBufferSize',
    kind: 'int',
    key: 'udpBufferSize',
    min: 1,
    max: 65535,
    doc: 'largest UDP packet; larger packs more gossip, risks fragmentation',
  },
  {
    name: 'DeadNodeReclaimTime',
    kind: 'duration',
    key: 'deadNodeReclaimTimeMs',
    doc: "after this, a dead node's name may rejoin from a new address; 0 = never",
  },
  {
    name: 'RequireNodeNames',
    kind: 'bool',
    key: 'requireNodeNames',
    doc: 'require node names in probes',
  },
  {
    name: 'CIDRsAllowed',
    kind: 'cidrs',
    key: 'cidrsAllowed',
    doc: 'networks peers may come from; null = any',
  },
  {
    name: 'Label',
    kind: 'label',
    key: 'label',
    since: '0.3.0',
    doc: 'cluster label (at most 255 bytes); only nodes with the same label talk; "" = none, as 0.2.2',
  },
  {
    name: 'SkipInboundLabelCheck',
    kind: 'bool',
    key: 'skipInboundLabelCheck',
    since: '0.3.0',
    doc: 'accept only unlabelled input and treat it as carrying Label (for a transport that checks labels)',
  },
] as const satisfies readonly GoFieldSpec[];

/** JSON form of Go's `net.IPNet`: `IP` as text, `Mask` as base64 bytes. */
export interface GoIPNet {
  IP: string;
  Mask: string;
}

/** The JSON value of each kind of field. */
export interface GoValueOf {
  string: string;
  ip: string;
  'optional-ip': string;
  int: number;
  duration: number;
  bool: boolean;
  'secret-key': string | null;
  opaque: null;
  cidrs: GoIPNet[] | null;
  label: string;
}

/**
 * HashiCorp memberlist's `Config` as the Go prototype's `saveconfig` writes it with
 * `json.MarshalIndent(config, "", "\t")`: Go field names, `time.Duration` as integer nanoseconds,
 * `[]byte` as base64, fields holding interfaces, functions or loggers as `null`.
 */
export type GoMemberlistConfig = {
  -readonly [R in (typeof GO_CONFIG_FIELDS)[number] as R['name']]: GoValueOf[R['kind']];
};

export type GoFieldName = (typeof GO_CONFIG_FIELDS)[number]['name'];

export const GO_FIELD_NAMES: readonly GoFieldName[] = GO_CONFIG_FIELDS.map((f) => f.name);

const SPEC_BY_NAME = new Map<string, GoFieldSpec>(GO_CONFIG_FIELDS.map((f) => [f.name, f]));

/** The row of a Go field, if there is one by that exact name. */
export function goFieldSpec(name: string): GoFieldSpec | undefined {
  return SPEC_BY_NAME.get(name);
}
