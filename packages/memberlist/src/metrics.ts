// Counters a running node keeps about itself, and the snapshot applications (and the console's
// `stats`/`metrics` commands) read. Counting is a handful of integer increments per message.

export type DropReason =
  | 'decode'
  | 'crc'
  | 'decrypt'
  | 'policy'
  | 'unknown-type'
  | 'too-large'
  | 'compression'
  | 'truncated'
  | 'not-for-us'
  | 'stream-error'
  | 'stream-limit'
  /** Label check (memberlist ≥ 0.3 labels): no label where one is required… */
  | 'label-missing'
  /** …another label than ours (or any label, to an unlabelled node)… */
  | 'label-mismatch'
  /** …a label although `skipInboundLabelCheck` expects none… */
  | 'label-unexpected'
  /** …or a broken label header. */
  | 'label-malformed'
  | 'other';

export interface MetricsSnapshot {
  members: { alive: number; suspect: number; dead: number; left: number };
  healthScore: number;
  probes: {
    sent: number;
    failed: number;
    indirect: number;
    tcpFallback: number;
    tcpFallbackOk: number;
  };
  suspicions: { raised: number; refuted: number; confirmed: number };
  /** Nodes that went dead or left and later came back alive. */
  flaps: number;
  deaths: number;
  packets: { in: number; out: number; bytesIn: number; bytesOut: number; sendErrors: number };
  streams: { in: number; out: number; bytesIn: number; bytesOut: number; errors: number };
  pushPulls: {
    initiated: number;
    served: number;
    failed: number;
    catchUp: number;
    reconnect: number;
  };
  gossip: { rounds: number; messagesQueued: number; queueDepth: number };
  userMessages: { in: number; out: number };
  /** Exceptions thrown by application callbacks inside timers (counted, not propagated). */
  callbackErrors: number;
  /** Well-formed messages refused by a limit against hostile peers (see `Config`). */
  refused: {
    /** Updates that would have pushed an incarnation past `incarnationJumpCeiling` at once. */
    incarnation: number;
    /** New names refused because the table held `maxNodes` records. */
    nodeLimit: number;
    /** New names refused by the per-source rate limit. */
    newNodeRate: number;
    /** User messages and push/pull user states larger than `maxUserMessageBytes`. */
    userMessageSize: number;
  };
  dropped: Partial<Record<DropReason, number>>;
}

/** Mutable counters; `snapshot()` on the memberlist adds the live values (members, health). */
export class Metrics {
  probesSent = 0;
  probesFailed = 0;
  indirectProbes = 0;
  tcpFallbacks = 0;
  tcpFallbackOk = 0;
  suspicionsRaised = 0;
  suspicionsRefuted = 0;
  suspicionsConfirmed = 0;
  flaps = 0;
  deaths = 0;
  packetsIn = 0;
  packetsOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  sendErrors = 0;
  streamsIn = 0;
  streamsOut = 0;
  streamBytesIn = 0;
  streamBytesOut = 0;
  streamErrors = 0;
  pushPullsInitiated = 0;
  pushPullsServed = 0;
  pushPullsFailed = 0;
  catchUpPushPulls = 0;
  reconnects = 0;
  gossipRounds = 0;
  messagesQueued = 0;
  userIn = 0;
  userOut = 0;
  callbackErrors = 0;
  refusedIncarnation = 0;
  refusedNodeLimit = 0;
  refusedNewNodeRate = 0;
  refusedUserMessageSize = 0;
  readonly dropped: Partial<Record<DropReason, number>> = {};

  drop(reason: DropReason): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }

  snapshot(
    members: MetricsSnapshot['members'],
    healthScore: number,
    queueDepth: number,
  ): MetricsSnapshot {
    return {
      members,
      healthScore,
      probes: {
        sent: this.probesSent,
        failed: this.probesFailed,
        indirect: this.indirectProbes,
        tcpFallback: this.tcpFallbacks,
        tcpFallbackOk: this.tcpFallbackOk,
      },
      suspicions: {
        raised: this.suspicionsRaised,
        refuted: this.suspicionsRefuted,
        confirmed: this.suspicionsConfirmed,
      },
      flaps: this.flaps,
      deaths: this.deaths,
      packets: {
        in: this.packetsIn,
        out: this.packetsOut,
        bytesIn: this.bytesIn,
        bytesOut: this.bytesOut,
        sendErrors: this.sendErrors,
      },
      streams: {
        in: this.streamsIn,
        out: this.streamsOut,
        bytesIn: this.streamBytesIn,
        bytesOut: this.streamBytesOut,
        errors: this.streamErrors,
      },
      pushPulls: {
        initiated: this.pushPullsInitiated,
        served: this.pushPullsServed,
        failed: this.pushPullsFailed,
        catchUp: this.catchUpPushPulls,
        reconnect: this.reconnects,
      },
      gossip: { rounds: this.gossipRounds, messagesQueued: this.messagesQueued, queueDepth },
      userMessages: { in: this.userIn, out: this.userOut },
      callbackErrors: this.callbackErrors,
      refused: {
        incarnation: this.refusedIncarnation,
        nodeLimit: this.refusedNodeLimit,
        newNodeRate: this.refusedNewNodeRate,
        userMessageSize: this.refusedUserMessageSize,
      },
      dropped: { ...this.dropped },
    };
  }
}
