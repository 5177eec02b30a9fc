// Configuration of one memberlist node. Field names are camelCase versions of Go memberlist's
// `Config`; durations are milliseconds (suffix `Ms`). Every field says what it trades off, so an
// operator can tune a preset instead of guessing. Presets carry Go 0.2.2's exact values (docs/spec/memberlist-wire.md §15).
import { hostname } from 'node:os';
import { parseCidr } from './address.js';
import {
  type Keyring,
  LABEL_MAX_BYTES,
  PROTOCOL_VERSION_2_COMPATIBLE,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
} from './codec/index.js';

/** Limit passed to the delegate's `nodeMeta`; larger meta is refused. */
export const META_MAX_SIZE = 512;

export interface Config {
  /** Unique node name; the identity of the node in the cluster. Default: the OS hostname. */
  name: string;
  /** Address to bind UDP and TCP on. `0.0.0.0` binds all IPv4 interfaces (the advertised address
   * is then detected: a private address if any, else loopback); `::` likewise for IPv6. */
  bindAddr: string;
  /** Port for both UDP and TCP. 0 lets the OS pick one (the same number is used for both). */
  bindPort: number;
  /** Address told to peers; empty = derived from `bindAddr`. Needed behind NAT or with 0.0.0.0
   * when the detected address is not the one peers should use. */
  advertiseAddr: string;
  /** Port told to peers, used together with `advertiseAddr` (as in Go); without an advertise
   * address the bound port is told. */
  advertisePort: number;
  /** Wire protocol version spoken (1–5). Higher enables nothing by itself: features are chosen by
   * each peer's advertised maximum. Version 1 selects padded encryption (version 0). */
  protocolVersion: number;
  /** Dial timeout and whole-exchange deadline for TCP push/pull and reliable messages. Longer
   * tolerates slow links; shorter frees resources held by stalled peers sooner. */
  tcpTimeoutMs: number;
  /** Helpers asked to probe a node that missed a direct ping. More helpers mean fewer false
   * suspicions on lossy networks, at more traffic per failed probe. */
  indirectChecks: number;
  /** Each broadcast is sent retransmitMult × ceil(log10(n+1)) times. Higher spreads news more
   * reliably under loss; lower saves bandwidth. */
  retransmitMult: number;
  /** Suspicion timeout = suspicionMult × max(1, log10(n)) × probeInterval. Higher gives a
   * suspected node more time to refute (fewer false deaths), lower detects failures sooner. */
  suspicionMult: number;
  /** Upper bound of the Lifeguard suspicion timeout, as a multiple of the minimum. Without
   * independent confirmations a suspicion lasts this long; each confirmation shortens it. */
  suspicionMaxTimeoutMult: number;
  /** Interval of full state exchange (anti-entropy) with one random node, scaled up for
   * clusters above 32 nodes. Shorter repairs missed gossip sooner, at O(n) bytes per exchange.
   * 0 disables periodic push/pull. */
  pushPullIntervalMs: number;
  /** Interval between probes (one node per tick). Shorter detects failures faster at more
   * traffic; scaled by the local health (awareness) score. */
  probeIntervalMs: number;
  /** Wait for a direct ack before asking helpers. Should exceed the network's 99th-percentile
   * round-trip time; not scaled by awareness. */
  probeTimeoutMs: number;
  /** Do not fall back to a TCP ping when UDP probes fail. TCP pings catch UDP-only blackholes
   * (misconfigured firewalls) at the cost of a TCP connection per failed probe. */
  disableTcpPings: boolean;
  /** Per-node switch for the TCP fallback ping (returns true to disable it for that node). */
  disableTcpPingsForNode: ((name: string) => boolean) | null;
  /** Lifeguard: the probe interval is multiplied by (health score + 1), score ≤ this − 1. A slow
   * local node then probes less often instead of falsely accusing healthy peers. */
  awarenessMaxMultiplier: number;
  /** Random nodes gossiped to per gossip interval. More nodes spread news faster at more
   * traffic. 0 disables gossip. */
  gossipNodes: number;
  /** Interval between gossip rounds. Shorter spreads news faster (and drains the queue sooner)
   * at more packets per second. 0 disables gossip. */
  gossipIntervalMs: number;
  /** Dead nodes keep receiving gossip this long (so a falsely-declared node learns it must
   * refute) and are reaped from the table after it. */
  gossipToTheDeadTimeMs: number;
  /** With encryption on: drop unencrypted input. Turn off temporarily while rolling out
   * encryption on a live cluster. */
  gossipVerifyIncoming: boolean;
  /** With encryption on: encrypt output. Turn off (first) while rolling out encryption. */
  gossipVerifyOutgoing: boolean;
  /** LZW-compress datagrams (only when smaller) and all stream messages. Saves bandwidth on
   * large payloads at CPU cost. */
  enableCompression: boolean;
  /** Encryption keys (AES-GCM); null = no encryption. The first key encrypts, all decrypt. */
  keyring: Keyring | null;
  /** Cluster label (Go memberlist ≥ 0.3 `Label`), at most 255 bytes of UTF-8; '' = none, as in
   * 0.2.2. Every datagram and every stream this node opens starts with it, it is bound into the
   * encryption, and input with another label (or none) is dropped. Lets several clusters share
   * one network without cross-talk; the price is that nodes only talk when their labels are
   * equal, so changing it splits the cluster until every node has the new value, and a
   * labelled node cannot talk to memberlist 0.2.2 at all. */
  label: string;
  /** Go's `SkipInboundLabelCheck`: accept only UNlabelled input and treat it as carrying
   * `label`, for a transport that strips and checks labels before memberlist. Outgoing traffic
   * is still labelled, so two nodes with this set cannot talk to each other; not a migration
   * aid (see docs/memberlist.md). */
  skipInboundLabelCheck: boolean;
  /** Opaque application protocol versions advertised beside the memberlist versions and checked
   * for compatibility on push/pull (§14.3). */
  delegateProtocolVersion: number;
  delegateProtocolMin: number;
  delegateProtocolMax: number;
  /** Byte budget for one outgoing datagram when piggy-backing gossip. Larger packs more news per
   * packet but risks IP fragmentation above the path MTU. Not a hard cap on incoming packets. */
  udpBufferSize: number;
  /** A dead node may come back under the same name with a new address after this long (0 =
   * never; it is reported as a conflict). Useful where nodes get new IPs on restart. */
  deadNodeReclaimTimeMs: number;
  /** Go: sends addressed without a node name fail locally (guards against talking to a
   * recycled address that now belongs to another node). This API only sends to named members
   * and always names the target in pings, so the guarantee holds either way; kept so Go-derived
   * configurations carry over. */
  requireNodeNames: boolean;
  /** If set, alive messages for addresses outside these CIDRs (e.g. `10.0.0.0/8`) are ignored. */
  cidrsAllowed: string[] | null;
  /** Go's cap on gossip buffered between its receive and worker goroutines. isopeer applies
   * each datagram as it is read (one thread, no handoff queue), so nothing is buffered; the
   * field is kept, validated, so Go-derived configurations carry over unchanged. */
  handoffQueueDepth: number;
  /** isopeer extension (wire-neutral): every membership broadcast is sent at least this many
   * times, whatever the cluster size. Go's retransmitMult × ceil(log10(n+1)) is only 2 with the
   * Local preset below 10 nodes, so roughly one node in a dozen misses every announcement of a
   * death and waits out its own maximal suspicion timeout (the 15–20 s outliers). Costs a few
   * more gossip packets per event in small clusters; 0 = Go's formula alone. */
  gossipMinTransmits: number;
  /** isopeer extension (wire-neutral): after joining, and while new nodes keep appearing, run
   * extra push/pulls this long apart (scaled like push/pull for large clusters) so alive
   * messages missed during a burst of joins are repaired in well under a second instead of at
   * the next periodic push/pull. 0 disables it (Go's behaviour). */
  catchUpPushPullMs: number;
  /** isopeer extension (wire-neutral): when another node's suspicion of X arrives, probe X next
   * instead of waiting for its turn in the round-robin, so an independent confirmation (which
   * shortens the Lifeguard timeout) or a refutation arrives sooner. */
  prioritizeSuspectProbes: boolean;
  /** isopeer extension (wire-neutral): probe in slots. In each probe interval of wall-clock
   * time every node probes the member a slot-dependent distance after itself in name order, so
   * every member is probed once per interval and a crashed node is found within about one
   * interval; with Go's order (off: each node shuffles its own list) the first probe can take
   * several intervals, which made detection's worst case at 20 nodes 10 s instead of ~6 s. Needs
   * clocks in step to a fraction of `probeIntervalMs`; skew only makes some probes coincide. */
  probeSlots: boolean;
  /** isopeer extension (wire-neutral): a failed probe concludes as soon as every helper has
   * nacked and the TCP fallback was refused, instead of waiting out the probe interval (a
   * frozen peer, whose kernel still accepts TCP, is waited for as in Go). Detects a crashed
   * node most of an interval sooner. */
  earlyProbeFailure: boolean;
  /** isopeer extension (wire-neutral): every this long, try a push/pull with one node that
   * failed recently, so a healed partition merges again (Go memberlist leaves this to Serf).
   * 0 disables it. */
  reconnectIntervalMs: number;
  /** How long a failed node is retried by the reconnect loop. */
  reconnectTimeoutMs: number;
  // ---- limits against hostile peers (isopeer; wire-neutral; see "Security model" in
  // docs/memberlist.md for what each one leaves an attacker) ----
  /** Incarnation numbers are uint32 and only ever grow, so one forged accusation carrying
   * 0xFFFFFFFF would leave its victim no number to refute with. News about a node (ourselves
   * included) may carry an incarnation above this value only if it is at most one more than
   * the number known for that node; other such news is refused and counted
   * (`refused.incarnation`), and we do not refute it. Above the ceiling a node thus advances
   * one or two steps per accusation instead of jumping to the end of the range. A real node
   * needs 2^31 refutations or meta updates to get here; 0xFFFFFFFF keeps just the guard
   * against overflowing (where Go wraps to a number that can never win). */
  incarnationJumpCeiling: number;
  /** Most bytes the compress layers of one datagram may expand to, all layers together; a
   * datagram needing more is dropped as `too-large`. 64 KiB is what one datagram can carry
   * uncompressed, so only a best-effort user message that compressed from more than that
   * into one datagram is lost; Go has no cap (a 15 KB datagram expands to 20 MB). Streams are
   * capped separately, at the 20 MiB stream message limit. */
  maxDecompressedPacketBytes: number;
  /** Largest user message (best-effort, reliable or gossiped) handed to `notifyMsg`, and
   * largest push/pull user state handed to `mergeRemoteState`; larger ones are dropped and
   * counted (`refused.userMessageSize`; the push/pull's node records still merge). A reliable
   * message over the cap is refused from its header: its payload is not waited for, copied, or
   * expanded past the first MiB; an oversized user state is not copied.
   * Bounds what one peer can make the application hold per message (Go has no cap: 15 KB of
   * LZW became a 20 MB event); raise it if the application ships bigger messages or state. */
  maxUserMessageBytes: number;
  /** Most records (alive, suspect, dead and left) the node table holds. When full, dead and
   * left records older than `gossipToTheDeadTimeMs` are dropped to make room (at most one
   * sweep per probe interval); otherwise a new name is refused and counted
   * (`refused.nodeLimit`). Bounds memory and push/pull size under a flood of made-up names;
   * raise it for clusters approaching this size. */
  maxNodes: number;
  /** New names one source may add to the table at once (token bucket size). A source is the
   * sender's IP address (an IPv6 /64), or `ip:port` on loopback where many real nodes share
   * one address. The reply to our own `join()` is exempt, so joining a big cluster is not
   * slowed. Larger lets a relay pass on bigger bursts of real joins at once; smaller limits how
   * many made-up names one sender can plant before the rate applies. */
  newNodeBurstPerSource: number;
  /** New names per second one source may add once its burst is spent (`refused.newNodeRate`
   * counts the rest; they are learned later from other members or push/pull). 0 disables the
   * per-source limit. */
  newNodeRatePerSource: number;
}

/** Go's DefaultLANConfig: tuned for a local-area network with low latency. */
export function defaultLANConfig(): Config {
  return {
    name: hostname(),
    bindAddr: '0.0.0.0',
    bindPort: 7946,
    advertiseAddr: '',
    advertisePort: 7946,
    protocolVersion: PROTOCOL_VERSION_2_COMPATIBLE,
    tcpTimeoutMs: 10_000,
    indirectChecks: 3,
    retransmitMult: 4,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    pushPullIntervalMs: 30_000,
    probeIntervalMs: 1_000,
    probeTimeoutMs: 500,
    disableTcpPings: false,
    disableTcpPingsForNode: null,
    awarenessMaxMultiplier: 8,
    gossipNodes: 3,
    gossipIntervalMs: 200,
    gossipToTheDeadTimeMs: 30_000,
    gossipVerifyIncoming: true,
    gossipVerifyOutgoing: true,
    enableCompression: true,
    keyring: null,
    label: '',
    skipInboundLabelCheck: false,
    delegateProtocolVersion: 0,
    delegateProtocolMin: 0,
    delegateProtocolMax: 0,
    udpBufferSize: 1400,
    deadNodeReclaimTimeMs: 0,
    requireNodeNames: false,
    cidrsAllowed: null,
    handoffQueueDepth: 1024,
    gossipMinTransmits: 6,
    catchUpPushPullMs: 250,
    prioritizeSuspectProbes: true,
    probeSlots: true,
    earlyProbeFailure: true,
    reconnectIntervalMs: 10_000,
    reconnectTimeoutMs: 6 * 3600_000,
    incarnationJumpCeiling: 0x7fff_ffff,
    maxDecompressedPacketBytes: 64 * 1024,
    maxUserMessageBytes: 4 * 1024 * 1024,
    maxNodes: 10_000,
    newNodeBurstPerSource: 256,
    newNodeRatePerSource: 10,
  };
}

/** Go's DefaultWANConfig: higher latencies and loss; slower detection, fewer false positives. */
export function defaultWANConfig(): Config {
  return {
    ...defaultLANConfig(),
    tcpTimeoutMs: 30_000,
    suspicionMult: 6,
    pushPullIntervalMs: 60_000,
    probeTimeoutMs: 3_000,
    probeIntervalMs: 5_000,
    gossipNodes: 4,
    gossipIntervalMs: 500,
    gossipToTheDeadTimeMs: 60_000,
    catchUpPushPullMs: 1_000,
    reconnectIntervalMs: 30_000,
  };
}

/** Go's DefaultLocalConfig: loopback / one host; fast detection. */
export function defaultLocalConfig(): Config {
  return {
    ...defaultLANConfig(),
    tcpTimeoutMs: 1_000,
    indirectChecks: 1,
    retransmitMult: 2,
    suspicionMult: 3,
    pushPullIntervalMs: 15_000,
    probeTimeoutMs: 200,
    gossipIntervalMs: 100,
    gossipToTheDeadTimeMs: 15_000,
    catchUpPushPullMs: 150,
    reconnectIntervalMs: 5_000,
  };
}

/** A configuration problem found by `validateConfig` (code `ERR_CONFIG`). */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Checks a label as Go's `Create` does (byte length ≤ 255); throws `ConfigError`. */
export function validateLabel(label: string): void {
  if (typeof label !== 'string') throw new ConfigError('label must be a string');
  const bytes = Buffer.byteLength(label);
  if (bytes > LABEL_MAX_BYTES) {
    throw new ConfigError(
      `could not use ${JSON.stringify(label)} as a label: too long (${bytes} bytes, at most ${LABEL_MAX_BYTES})`,
    );
  }
  // A lone surrogate has no UTF-8 form: it would go out as U+FFFD and never match a Go peer.
  if (Buffer.from(label).toString() !== label) {
    throw new ConfigError(`label ${JSON.stringify(label)} is not valid Unicode text`);
  }
}

const nonNegative: (keyof Config)[] = [
  'tcpTimeoutMs',
  'indirectChecks',
  'retransmitMult',
  'suspicionMult',
  'suspicionMaxTimeoutMult',
  'pushPullIntervalMs',
  'probeTimeoutMs',
  'gossipNodes',
  'gossipIntervalMs',
  'gossipToTheDeadTimeMs',
  'deadNodeReclaimTimeMs',
  'handoffQueueDepth',
  'gossipMinTransmits',
  'catchUpPushPullMs',
  'reconnectIntervalMs',
  'reconnectTimeoutMs',
  'newNodeRatePerSource',
];

/** Fields that must be whole numbers within a range. */
const integerRanges: [keyof Config, number, number][] = [
  ['incarnationJumpCeiling', 1, 0xffff_ffff],
  ['maxDecompressedPacketBytes', 64, 2 ** 31 - 1],
  ['maxUserMessageBytes', 0, 2 ** 31 - 1],
  ['maxNodes', 1, 2 ** 31 - 1],
  ['newNodeBurstPerSource', 1, 2 ** 31 - 1],
];

/** Checks a configuration, throwing `ConfigError` naming the first bad field. */
export function validateConfig(c: Config): void {
  if (typeof c.name !== 'string' || c.name.length === 0) {
    throw new ConfigError('name must be a non-empty string');
  }
  if (Buffer.byteLength(c.name) > 65535) throw new ConfigError('name is longer than 65535 bytes');
  if (
    !Number.isInteger(c.protocolVersion) ||
    c.protocolVersion < PROTOCOL_VERSION_MIN ||
    c.protocolVersion > PROTOCOL_VERSION_MAX
  ) {
    throw new ConfigError(
      `protocolVersion ${c.protocolVersion} is outside ${PROTOCOL_VERSION_MIN}..${PROTOCOL_VERSION_MAX}`,
    );
  }
  for (const port of ['bindPort', 'advertisePort'] as const) {
    const v = c[port];
    if (!Number.isInteger(v) || v < 0 || v > 65535) {
      throw new ConfigError(`${port} must be an integer 0..65535, got ${v}`);
    }
  }
  if (!(c.probeIntervalMs > 0)) throw new ConfigError('probeIntervalMs must be > 0');
  if (!(c.awarenessMaxMultiplier >= 1)) throw new ConfigError('awarenessMaxMultiplier must be ≥ 1');
  if (!(c.udpBufferSize >= 64)) throw new ConfigError('udpBufferSize must be ≥ 64');
  for (const k of nonNegative) {
    const v = c[k] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ConfigError(`${k} must be a finite number ≥ 0, got ${String(v)}`);
    }
  }
  validateLabel(c.label);
  for (const [k, min, max] of integerRanges) {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new ConfigError(`${k} must be an integer ${min}..${max}, got ${String(v)}`);
    }
  }
  for (const cidr of c.cidrsAllowed ?? []) {
    try {
      parseCidr(cidr);
    } catch (err) {
      throw new ConfigError(`cidrsAllowed: ${(err as Error).message}`);
    }
  }
  for (const k of [
    'delegateProtocolVersion',
    'delegateProtocolMin',
    'delegateProtocolMax',
  ] as const) {
    const v = c[k];
    if (!Number.isInteger(v) || v < 0 || v > 255) {
      throw new ConfigError(`${k} must be an integer 0..255, got ${v}`);
    }
  }
}
