import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  ConfigError,
  defaultLANConfig,
  defaultLocalConfig,
  defaultWANConfig,
  validateConfig,
} from '../src/config.js';

/** What Go 0.2.2's DefaultLocalConfig() serialises to (written by the Go code, see vectors/). */
const goLocal = (): Record<string, unknown> =>
  JSON.parse(
    readFileSync(new URL('../../test/vectors/go-memberlist-config.json', import.meta.url), 'utf8'),
  );
const ms = (ns: unknown) => (ns as number) / 1e6;

describe('configuration presets (docs/spec/memberlist-wire.md §15)', () => {
  it('defaultLocalConfig carries exactly the values Go 0.2.2 produces', () => {
    const c = defaultLocalConfig();
    const go = goLocal();
    assert.equal(c.protocolVersion, go.ProtocolVersion);
    assert.equal(c.tcpTimeoutMs, ms(go.TCPTimeout));
    assert.equal(c.indirectChecks, go.IndirectChecks);
    assert.equal(c.retransmitMult, go.RetransmitMult);
    assert.equal(c.suspicionMult, go.SuspicionMult);
    assert.equal(c.suspicionMaxTimeoutMult, go.SuspicionMaxTimeoutMult);
    assert.equal(c.pushPullIntervalMs, ms(go.PushPullInterval));
    assert.equal(c.probeIntervalMs, ms(go.ProbeInterval));
    assert.equal(c.probeTimeoutMs, ms(go.ProbeTimeout));
    assert.equal(c.disableTcpPings, go.DisableTcpPings);
    assert.equal(c.awarenessMaxMultiplier, go.AwarenessMaxMultiplier);
    assert.equal(c.gossipIntervalMs, ms(go.GossipInterval));
    assert.equal(c.gossipNodes, go.GossipNodes);
    assert.equal(c.gossipToTheDeadTimeMs, ms(go.GossipToTheDeadTime));
    assert.equal(c.gossipVerifyIncoming, go.GossipVerifyIncoming);
    assert.equal(c.gossipVerifyOutgoing, go.GossipVerifyOutgoing);
    assert.equal(c.enableCompression, go.EnableCompression);
    assert.equal(c.udpBufferSize, go.UDPBufferSize);
    assert.equal(c.handoffQueueDepth, go.HandoffQueueDepth);
    assert.equal(c.deadNodeReclaimTimeMs, ms(go.DeadNodeReclaimTime));
    assert.equal(c.requireNodeNames, go.RequireNodeNames);
    assert.equal(c.bindPort, go.BindPort);
    assert.equal(c.advertisePort, go.AdvertisePort);
  });

  it('LAN and WAN presets differ from Local as in the spec table', () => {
    const lan = defaultLANConfig();
    const wan = defaultWANConfig();
    assert.deepEqual(
      [
        lan.tcpTimeoutMs,
        lan.indirectChecks,
        lan.retransmitMult,
        lan.suspicionMult,
        lan.pushPullIntervalMs,
      ],
      [10_000, 3, 4, 4, 30_000],
    );
    assert.deepEqual(
      [lan.probeTimeoutMs, lan.gossipIntervalMs, lan.gossipToTheDeadTimeMs],
      [500, 200, 30_000],
    );
    assert.deepEqual(
      [
        wan.tcpTimeoutMs,
        wan.suspicionMult,
        wan.pushPullIntervalMs,
        wan.probeIntervalMs,
        wan.probeTimeoutMs,
      ],
      [30_000, 6, 60_000, 5_000, 3_000],
    );
    assert.deepEqual(
      [wan.gossipNodes, wan.gossipIntervalMs, wan.gossipToTheDeadTimeMs],
      [4, 500, 60_000],
    );
    assert.equal(lan.bindAddr, '0.0.0.0');
    for (const c of [lan, wan, defaultLocalConfig()]) validateConfig(c);
  });

  it('rejects bad values with a ConfigError naming the field', () => {
    const bad: [Partial<ReturnType<typeof defaultLANConfig>>, RegExp][] = [
      [{ name: '' }, /name/],
      [{ protocolVersion: 6 }, /protocolVersion/],
      [{ protocolVersion: 0 }, /protocolVersion/],
      [{ bindPort: 70000 }, /bindPort/],
      [{ probeIntervalMs: 0 }, /probeIntervalMs/],
      [{ suspicionMult: -1 }, /suspicionMult/],
      [{ gossipIntervalMs: Number.NaN }, /gossipIntervalMs/],
      [{ delegateProtocolVersion: 300 }, /delegateProtocolVersion/],
      [{ udpBufferSize: 10 }, /udpBufferSize/],
      [{ cidrsAllowed: ['10.0.0.0/33'] }, /cidrsAllowed/],
      [{ cidrsAllowed: ['not-an-ip/8'] }, /cidrsAllowed/],
    ];
    for (const [over, re] of bad) {
      assert.throws(
        () => validateConfig({ ...defaultLANConfig(), ...over }),
        (e: unknown) => e instanceof ConfigError && e.code === 'ERR_CONFIG' && re.test(e.message),
        JSON.stringify(over),
      );
    }
  });
});
