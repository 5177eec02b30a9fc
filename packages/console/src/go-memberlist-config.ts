import { isIP } from 'node:net';
import { type ConfigIssue, ConfigValidationError } from './errors.js';
import { editDistance } from './suggest.js';

/**
 * HashiCorp memberlist's `Config` as the Go prototype's `saveconfig` writes it with
 * `json.MarshalIndent(config, "", "\t")`: Go field names, `time.Duration` as integer nanoseconds,
 * `[]byte` as base64, fields holding interfaces, functions or loggers as `null` (or `{}` when Go
 * had a value without exported fields). The field set is the one of
 * ../shared/vectors/go-memberlist-config.json.
 */

/** JSON form of Go's `net.IPNet`: `IP` as text, `Mask` as base64 bytes. */
export interface GoIPNet {
  IP: string;
  Mask: string;
}

export interface GoMemberlistConfig {
  Name: string;
  Transport: null;
  BindAddr: string;
  BindPort: number;
  AdvertiseAddr: string;
  AdvertisePort: number;
  ProtocolVersion: number;
  TCPTimeout: number;
  IndirectChecks: number;
  RetransmitMult: number;
  SuspicionMult: number;
  SuspicionMaxTimeoutMult: number;
  PushPullInterval: number;
  ProbeInterval: number;
  ProbeTimeout: number;
  DisableTcpPings: boolean;
  AwarenessMaxMultiplier: number;
  GossipInterval: number;
  GossipNodes: number;
  GossipToTheDeadTime: number;
  GossipVerifyIncoming: boolean;
  GossipVerifyOutgoing: boolean;
  EnableCompression: boolean;
  SecretKey: string | null;
  Keyring: null;
  Delegate: null;
  DelegateProtocolVersion: number;
  DelegateProtocolMin: number;
  DelegateProtocolMax: number;
  Events: null;
  Conflict: null;
  Merge: null;
  Ping: null;
  Alive: null;
  DNSConfigPath: string;
  LogOutput: null;
  Logger: null;
  HandoffQueueDepth: number;
  UDPBufferSize: number;
  DeadNodeReclaimTime: number;
  RequireNodeNames: boolean;
  CIDRsAllowed: GoIPNet[] | null;
}

export type GoFieldName = keyof GoMemberlistConfig;

export type GoFieldKind =
  | 'string'
  | 'ip'
  | 'optional-ip'
  | 'int'
  | 'duration'
  | 'bool'
  | 'secret-key'
  | 'opaque'
  | 'cidrs';

export interface GoFieldSpec {
  name: GoFieldName;
  kind: GoFieldKind;
  min?: number;
  max?: number;
  /** What the field does and what changing it trades. */
  doc: string;
}

/** memberlist 0.2.2's ProtocolVersionMin and ProtocolVersionMax. */
export const GO_PROTOCOL_VERSION_MIN = 1;
export const GO_PROTOCOL_VERSION_MAX = 5;

const MS = 1_000_000;
const S = 1_000 * MS;

/** Every field in the order Go writes them. */
export const GO_MEMBERLIST_FIELDS: readonly GoFieldSpec[] = [
  { name: 'Name', kind: 'string', doc: 'node name, unique in the cluster' },
  { name: 'Transport', kind: 'opaque', doc: 'custom transport (Go object, not loadable)' },
  {
    name: 'BindAddr',
    kind: 'ip',
    doc: 'address to listen on; 0.0.0.0 reaches the network, 127.0.0.1 stays local',
  },
  {
    name: 'BindPort',
    kind: 'int',
    min: 0,
    max: 65535,
    doc: 'port to listen on (UDP and TCP); 0 picks a free one',
  },
  {
    name: 'AdvertiseAddr',
    kind: 'optional-ip',
    doc: 'address told to others; empty = detect from the bind address',
  },
  { name: 'AdvertisePort', kind: 'int', min: 0, max: 65535, doc: 'port told to others' },
  {
    name: 'ProtocolVersion',
    kind: 'int',
    min: GO_PROTOCOL_VERSION_MIN,
    max: GO_PROTOCOL_VERSION_MAX,
    doc: 'memberlist protocol version spoken; higher needs every peer to understand it',
  },
  {
    name: 'TCPTimeout',
    kind: 'duration',
    doc: 'TCP connect/push-pull timeout; longer tolerates slow links, shorter detects them sooner',
  },
  {
    name: 'IndirectChecks',
    kind: 'int',
    min: 0,
    doc: 'peers asked to probe a node that missed a direct probe; more = fewer false failures, more traffic',
  },
  {
    name: 'RetransmitMult',
    kind: 'int',
    min: 0,
    doc: 'gossip retransmits = mult * log(N+1); more = surer delivery, more traffic',
  },
  {
    name: 'SuspicionMult',
    kind: 'int',
    min: 1,
    doc: 'suspicion timeout multiplier; higher = fewer false deaths, slower detection',
  },
  {
    name: 'SuspicionMaxTimeoutMult',
    kind: 'int',
    min: 1,
    doc: 'upper bound of the suspicion timeout as a multiple of its minimum',
  },
  {
    name: 'PushPullInterval',
    kind: 'duration',
    doc: 'full state sync period; 0 disables; shorter converges faster, costs TCP traffic',
  },
  {
    name: 'ProbeInterval',
    kind: 'duration',
    doc: 'failure probe period; 0 disables; shorter detects failures sooner, more traffic',
  },
  {
    name: 'ProbeTimeout',
    kind: 'duration',
    doc: 'wait for a probe ack; should exceed the round-trip time',
  },
  {
    name: 'DisableTcpPings',
    kind: 'bool',
    doc: 'skip the TCP fallback probe (for peers that cannot take TCP)',
  },
  {
    name: 'AwarenessMaxMultiplier',
    kind: 'int',
    min: 1,
    doc: 'how far Lifeguard may slow probing of an unhealthy node',
  },
  {
    name: 'GossipInterval',
    kind: 'duration',
    doc: 'gossip period; 0 disables; shorter spreads news faster, more packets',
  },
  { name: 'GossipNodes', kind: 'int', min: 0, doc: 'peers gossiped to per period' },
  {
    name: 'GossipToTheDeadTime',
    kind: 'duration',
    doc: 'how long dead nodes still receive gossip',
  },
  {
    name: 'GossipVerifyIncoming',
    kind: 'bool',
    doc: 'with encryption: reject unencrypted incoming gossip',
  },
  { name: 'GossipVerifyOutgoing', kind: 'bool', doc: 'with encryption: encrypt outgoing gossip' },
  {
    name: 'EnableCompression',
    kind: 'bool',
    doc: 'LZW-compress messages; smaller packets, more CPU',
  },
  {
    name: 'SecretKey',
    kind: 'secret-key',
    doc: 'AES key (base64 of 16, 24 or 32 bytes) or null for no encryption',
  },
  { name: 'Keyring', kind: 'opaque', doc: 'key ring (Go object, not loadable)' },
  { name: 'Delegate', kind: 'opaque', doc: 'application delegate (Go object, not loadable)' },
  {
    name: 'DelegateProtocolVersion',
    kind: 'int',
    min: 0,
    max: 255,
    doc: 'application protocol version advertised',
  },
  {
    name: 'DelegateProtocolMin',
    kind: 'int',
    min: 0,
    max: 255,
    doc: 'lowest application protocol version understood',
  },
  {
    name: 'DelegateProtocolMax',
    kind: 'int',
    min: 0,
    max: 255,
    doc: 'highest application protocol version understood',
  },
  { name: 'Events', kind: 'opaque', doc: 'event delegate (Go object, not loadable)' },
  { name: 'Conflict', kind: 'opaque', doc: 'conflict delegate (Go object, not loadable)' },
  { name: 'Merge', kind: 'opaque', doc: 'merge delegate (Go object, not loadable)' },
  { name: 'Ping', kind: 'opaque', doc: 'ping delegate (Go object, not loadable)' },
  { name: 'Alive', kind: 'opaque', doc: 'alive delegate (Go object, not loadable)' },
  { name: 'DNSConfigPath', kind: 'string', doc: 'resolv.conf used to resolve join addresses' },
  { name: 'LogOutput', kind: 'opaque', doc: 'log writer (Go object, not loadable)' },
  { name: 'Logger', kind: 'opaque', doc: 'logger (Go object, not loadable)' },
  {
    name: 'HandoffQueueDepth',
    kind: 'int',
    min: 0,
    doc: 'queued incoming messages before dropping; more absorbs bursts, uses memory',
  },
  {
    name: 'UDPBufferSize',
    kind: 'int',
    min: 1,
    max: 65535,
    doc: 'largest UDP packet; larger packs more gossip, risks fragmentation',
  },
  {
    name: 'DeadNodeReclaimTime',
    kind: 'duration',
    doc: "after this, a dead node's name may rejoin from a new address; 0 = never",
  },
  { name: 'RequireNodeNames', kind: 'bool', doc: 'require node names in probes' },
  { name: 'CIDRsAllowed', kind: 'cidrs', doc: 'networks peers may come from; null = any' },
];

const SPEC_BY_NAME = new Map<string, GoFieldSpec>(GO_MEMBERLIST_FIELDS.map((f) => [f.name, f]));

export const GO_FIELD_NAMES: readonly GoFieldName[] = GO_MEMBERLIST_FIELDS.map((f) => f.name);

/**
 * Go's DefaultLocalConfig / DefaultLANConfig / DefaultWANConfig with `Name` set, in the JSON form.
 */
export function defaultGoMemberlistConfig(
  kind: 'local' | 'lan' | 'wan',
  name = '',
): GoMemberlistConfig {
  const lan: GoMemberlistConfig = {
    Name: name,
    Transport: null,
    BindAddr: '0.0.0.0',
    BindPort: 7946,
    AdvertiseAddr: '',
    AdvertisePort: 7946,
    ProtocolVersion: 2,
    TCPTimeout: 10 * S,
    IndirectChecks: 3,
    RetransmitMult: 4,
    SuspicionMult: 4,
    SuspicionMaxTimeoutMult: 6,
    PushPullInterval: 30 * S,
    ProbeInterval: 1 * S,
    ProbeTimeout: 500 * MS,
    DisableTcpPings: false,
    AwarenessMaxMultiplier: 8,
    GossipInterval: 200 * MS,
    GossipNodes: 3,
    GossipToTheDeadTime: 30 * S,
    GossipVerifyIncoming: true,
    GossipVerifyOutgoing: true,
    EnableCompression: true,
    SecretKey: null,
    Keyring: null,
    Delegate: null,
    DelegateProtocolVersion: 0,
    DelegateProtocolMin: 0,
    DelegateProtocolMax: 0,
    Events: null,
    Conflict: null,
    Merge: null,
    Ping: null,
    Alive: null,
    DNSConfigPath: '/etc/resolv.conf',
    LogOutput: null,
    Logger: null,
    HandoffQueueDepth: 1024,
    UDPBufferSize: 1400,
    DeadNodeReclaimTime: 0,
    RequireNodeNames: false,
    CIDRsAllowed: null,
  };
  if (kind === 'wan') {
    return {
      ...lan,
      TCPTimeout: 30 * S,
      SuspicionMult: 6,
      PushPullInterval: 60 * S,
      ProbeTimeout: 3 * S,
      ProbeInterval: 5 * S,
      GossipNodes: 4,
      GossipInterval: 500 * MS,
      GossipToTheDeadTime: 60 * S,
    };
  }
  if (kind === 'local') {
    return {
      ...lan,
      TCPTimeout: 1 * S,
      IndirectChecks: 1,
      RetransmitMult: 2,
      SuspicionMult: 3,
      PushPullInterval: 15 * S,
      ProbeTimeout: 200 * MS,
      ProbeInterval: 1 * S,
      GossipInterval: 100 * MS,
      GossipToTheDeadTime: 15 * S,
    };
  }
  return lan;
}

export interface GoConfigParseResult {
  config: GoMemberlistConfig;
  /** Fields present in the document (the others kept the base's values). */
  present: GoFieldName[];
  /** Things that were accepted but ignored (unknown fields, Go objects that cannot be loaded). */
  warnings: string[];
}

export interface GoConfigParseOptions {
  /** Values for fields the document leaves out (as Go's json.Unmarshal into an existing Config). */
  base?: GoMemberlistConfig;
  /** File name for messages. */
  source?: string;
}

/** Largest configuration document accepted. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Parses and validates a configuration document. Fields missing from it keep the values of
 * `opts.base` (Go's DefaultLocalConfig when not given). Throws ConfigValidationError listing every
 * wrong field; unknown fields are warnings unless they look like a misspelt known field.
 */
export function parseGoMemberlistConfig(
  text: string,
  opts: GoConfigParseOptions = {},
): GoConfigParseResult {
  if (text.length > MAX_CONFIG_BYTES) {
    throw new ConfigValidationError(
      [{ field: '', message: `document larger than ${MAX_CONFIG_BYTES} bytes` }],
      opts.source,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new ConfigValidationError(
      [{ field: '', message: `not valid JSON: ${jsonErrorWhere(text, err as Error)}` }],
      opts.source,
    );
  }
  return validateGoMemberlistConfig(value, opts);
}

/** Validates an already parsed document; see parseGoMemberlistConfig. */
export function validateGoMemberlistConfig(
  value: unknown,
  opts: GoConfigParseOptions = {},
): GoConfigParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new ConfigValidationError(
      [{ field: '', message: `expected a JSON object, got ${got}` }],
      opts.source,
    );
  }
  const doc = value as Record<string, unknown>;
  const config: GoMemberlistConfig = { ...(opts.base ?? defaultGoMemberlistConfig('local')) };
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const present: GoFieldName[] = [];
  const target = config as unknown as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    const spec = SPEC_BY_NAME.get(key);
    if (!spec) {
      const near = GO_FIELD_NAMES.find(
        (n) => n.toLowerCase() === key.toLowerCase() || editDistance(n, key) <= 2,
      );
      if (near)
        issues.push({
          field: key,
          message: `unknown field; did you mean ${near}? (names are case-sensitive)`,
        });
      else
        warnings.push(
          `unknown field ${JSON.stringify(key)} ignored (not in memberlist 0.2.2's Config)`,
        );
      continue;
    }
    present.push(spec.name);
    const r = checkField(spec, doc[key]);
    if ('error' in r) issues.push({ field: key, message: r.error });
    else {
      if (r.warning) warnings.push(`${key}: ${r.warning}`);
      target[key] = r.value;
    }
  }
  if (issues.length === 0) crossCheck(config, issues);
  if (issues.length > 0) throw new ConfigValidationError(issues, opts.source);
  return { config, present, warnings };
}

type Checked = { value: unknown; warning?: string } | { error: string };

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string')
    return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function checkField(spec: GoFieldSpec, v: unknown): Checked {
  switch (spec.kind) {
    case 'string':
      return typeof v === 'string'
        ? { value: v }
        : { error: `expected a string, got ${describe(v)}` };
    case 'ip':
    case 'optional-ip': {
      if (typeof v !== 'string')
        return { error: `expected an IP address string, got ${describe(v)}` };
      if (v === '' && spec.kind === 'optional-ip') return { value: v };
      return isIP(v)
        ? { value: v }
        : { error: `expected an IP address such as 127.0.0.1, got ${describe(v)}` };
    }
    case 'bool':
      return typeof v === 'boolean'
        ? { value: v }
        : { error: `expected true or false, got ${describe(v)}` };
    case 'int':
    case 'duration': {
      const unit =
        spec.kind === 'duration' ? ' (a duration in nanoseconds, e.g. 1000000000 for 1s)' : '';
      if (typeof v !== 'number') return { error: `expected an integer${unit}, got ${describe(v)}` };
      if (!Number.isSafeInteger(v)) return { error: `expected an integer${unit}, got ${v}` };
      const min = spec.min ?? 0;
      if (v < min) {
        return {
          error:
            spec.kind === 'duration'
              ? `negative duration ${v}`
              : `must be at least ${min}, got ${v}`,
        };
      }
      if (spec.max !== undefined && v > spec.max)
        return { error: `must be between ${min} and ${spec.max}, got ${v}` };
      return { value: v };
    }
    case 'secret-key': {
      if (v === null) return { value: null };
      if (typeof v !== 'string')
        return { error: `expected null or a base64 string, got ${describe(v)}` };
      const bytes = decodeBase64(v);
      if (!bytes) return { error: 'not valid base64' };
      if (v !== '' && ![16, 24, 32].includes(bytes.length)) {
        return { error: `key must be 16, 24 or 32 bytes (AES-128/192/256), got ${bytes.length}` };
      }
      return { value: v };
    }
    case 'opaque':
      if (v === null) return { value: null };
      if (typeof v === 'object' && !Array.isArray(v)) {
        return { value: null, warning: 'a Go object that cannot be loaded from JSON; ignored' };
      }
      return { error: `expected null (a Go object that cannot be loaded), got ${describe(v)}` };
    case 'cidrs':
      return checkCidrs(v);
  }
}

function checkCidrs(v: unknown): Checked {
  if (v === null) return { value: null };
  if (!Array.isArray(v))
    return { error: `expected null or an array of networks, got ${describe(v)}` };
  const nets: GoIPNet[] = [];
  for (const [i, n] of v.entries()) {
    const net = typeof n === 'string' ? cidrToGo(n) : goIPNet(n);
    if (typeof net === 'string') return { error: `entry ${i}: ${net}` };
    nets.push(net);
  }
  return { value: nets };
}

/** Accepts Go's `{"IP": "10.0.0.0", "Mask": "/wAAAA=="}`. */
function goIPNet(n: unknown): GoIPNet | string {
  if (typeof n !== 'object' || n === null || Array.isArray(n)) {
    return `expected {"IP": ..., "Mask": ...} or "a.b.c.d/len", got ${describe(n)}`;
  }
  const { IP, Mask, ...extra } = n as Record<string, unknown>;
  if (Object.keys(extra).length > 0) return `unexpected key ${Object.keys(extra)[0]}`;
  if (typeof IP !== 'string' || isIP(IP) === 0)
    return `IP must be an IP address, got ${describe(IP)}`;
  if (typeof Mask !== 'string') return `Mask must be base64 bytes, got ${describe(Mask)}`;
  const mask = decodeBase64(Mask);
  const want = isIP(IP) === 4 ? [4, 16] : [16];
  if (!mask || !want.includes(mask.length))
    return `Mask must be base64 of ${want.join(' or ')} bytes`;
  const bits = [...mask].map((b) => b.toString(2).padStart(8, '0')).join('');
  if (/01/.test(bits)) return 'Mask is not a prefix mask (ones must come before zeros)';
  return { IP, Mask };
}

/** Also accepts the friendlier `"10.0.0.0/8"`, stored in Go's form. */
function cidrToGo(s: string): GoIPNet | string {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  const family = m ? isIP(m[1]) : 0;
  const bits = m ? Number(m[2]) : -1;
  const size = family === 4 ? 4 : 16;
  if (!m || family === 0 || bits > size * 8)
    return `expected a network such as 10.0.0.0/8, got ${describe(s)}`;
  const mask = Buffer.alloc(size);
  for (let b = 0; b < bits; b++) mask[b >> 3] |= 0x80 >> (b & 7);
  return { IP: m[1], Mask: mask.toString('base64') };
}

function decodeBase64(s: string): Buffer | undefined {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  return Buffer.from(s, 'base64');
}

function crossCheck(c: GoMemberlistConfig, issues: ConfigIssue[]): void {
  if (c.DelegateProtocolMin > c.DelegateProtocolMax) {
    issues.push({
      field: 'DelegateProtocolMin',
      message: `greater than DelegateProtocolMax (${c.DelegateProtocolMax})`,
    });
  } else if (
    c.DelegateProtocolVersion < c.DelegateProtocolMin ||
    c.DelegateProtocolVersion > c.DelegateProtocolMax
  ) {
    issues.push({
      field: 'DelegateProtocolVersion',
      message: `must lie between DelegateProtocolMin (${c.DelegateProtocolMin}) and DelegateProtocolMax (${c.DelegateProtocolMax})`,
    });
  }
  if (c.ProbeInterval > 0 && c.ProbeTimeout > c.ProbeInterval) {
    issues.push({
      field: 'ProbeTimeout',
      message: `longer than ProbeInterval (${c.ProbeInterval} ns)`,
    });
  }
}

function jsonErrorWhere(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return err.message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `${err.message.replace(/ in JSON at position \d+.*$/, '')} at line ${line}, column ${col}`;
}

/**
 * The document exactly as Go's `json.MarshalIndent(config, "", "\t")` plus a newline writes it,
 * so a file saved here and one saved by the prototype are byte-for-byte alike.
 */
export function serializeGoMemberlistConfig(config: GoMemberlistConfig): string {
  const ordered: Record<string, unknown> = {};
  for (const f of GO_MEMBERLIST_FIELDS) {
    ordered[f.name] = f.kind === 'opaque' ? null : config[f.name];
  }
  // Go escapes these characters inside strings; JSON.stringify does not.
  const json = JSON.stringify(ordered, null, '\t').replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `${json}\n`;
}

/** Names of the fields whose values differ. */
export function diffGoMemberlistConfig(
  a: GoMemberlistConfig,
  b: GoMemberlistConfig,
): GoFieldName[] {
  return GO_FIELD_NAMES.filter((n) => JSON.stringify(a[n]) !== JSON.stringify(b[n]));
}

export function goFieldSpec(name: string): GoFieldSpec | undefined {
  return SPEC_BY_NAME.get(name);
}
