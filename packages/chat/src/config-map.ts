/**
 * The console edits the memberlist configuration in the Go prototype's JSON form (Go field names,
 * durations in nanoseconds), so files saved by the original load unchanged. This maps that form
 * onto @isopeer/memberlist's Config (camelCase, milliseconds). Settings Go has no field for
 * (isopeer extensions) come from the preset the peer was started with.
 */
import type { GoMemberlistConfig } from '@isopeer/console';
import { type Config, Keyring } from '@isopeer/memberlist';
import { ChatError } from './errors.js';

const NS_PER_MS = 1_000_000;
const ms = (ns: number) => ns / NS_PER_MS;

function prefixLength(maskBase64: string): number {
  let bits = 0;
  for (const byte of Buffer.from(maskBase64, 'base64')) {
    for (let b = 7; b >= 0; b--) if (byte & (1 << b)) bits++;
  }
  return bits;
}

export function memberlistConfigFromGo(go: GoMemberlistConfig, base: Config): Config {
  let keyring: Keyring | null = null;
  if (go.SecretKey) {
    try {
      keyring = new Keyring([Buffer.from(go.SecretKey, 'base64')]);
    } catch (e) {
      throw new ChatError('CHAT_CONFIG', `SecretKey: ${(e as Error).message}`);
    }
  }
  return {
    ...base,
    name: go.Name,
    bindAddr: go.BindAddr,
    bindPort: go.BindPort,
    advertiseAddr: go.AdvertiseAddr,
    advertisePort: go.AdvertisePort,
    protocolVersion: go.ProtocolVersion,
    tcpTimeoutMs: ms(go.TCPTimeout),
    indirectChecks: go.IndirectChecks,
    retransmitMult: go.RetransmitMult,
    suspicionMult: go.SuspicionMult,
    suspicionMaxTimeoutMult: go.SuspicionMaxTimeoutMult,
    pushPullIntervalMs: ms(go.PushPullInterval),
    probeIntervalMs: ms(go.ProbeInterval),
    probeTimeoutMs: ms(go.ProbeTimeout),
    disableTcpPings: go.DisableTcpPings,
    awarenessMaxMultiplier: go.AwarenessMaxMultiplier,
    gossipNodes: go.GossipNodes,
    gossipIntervalMs: ms(go.GossipInterval),
    gossipToTheDeadTimeMs: ms(go.GossipToTheDeadTime),
    gossipVerifyIncoming: go.GossipVerifyIncoming,
    gossipVerifyOutgoing: go.GossipVerifyOutgoing,
    enableCompression: go.EnableCompression,
    keyring,
    delegateProtocolVersion: go.DelegateProtocolVersion,
    delegateProtocolMin: go.DelegateProtocolMin,
    delegateProtocolMax: go.DelegateProtocolMax,
    udpBufferSize: go.UDPBufferSize,
    deadNodeReclaimTimeMs: ms(go.DeadNodeReclaimTime),
    requireNodeNames: go.RequireNodeNames,
    cidrsAllowed: go.CIDRsAllowed
      ? go.CIDRsAllowed.map((n) => `${n.IP}/${prefixLength(n.Mask)}`)
      : null,
    // Set only where our memberlist has the setting (it bounds its queues differently).
    ...('handoffQueueDepth' in base ? { handoffQueueDepth: go.HandoffQueueDepth } : {}),
  };
}

/**
 * Go fields a running node keeps until it is created again. Everything is read at creation in
 * our memberlist, so all fields apply on the next `memberlistcreate` only.
 */
export const appliesOnNextCreate = (): boolean => true;
