// Hostile input over real sockets, and shutdown releasing every resource.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { createMemberlist, type Memberlist } from '../src/memberlist.js';
import { NetTransport } from '../src/transport/net-transport.js';
import { aliveNames, loopbackConfig, waitFor } from './helpers.js';

function sendUdp(port: number, data: Uint8Array): Promise<void> {
  const s = createSocket('udp4');
  return new Promise((resolve, reject) =>
    s.send(data, port, '127.0.0.1', (err) => {
      s.close();
      if (err) reject(err);
      else resolve();
    }),
  );
}

/** Writes `data` on a fresh TCP connection and collects whatever comes back until close. */
function tcpExchange(port: number, data: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect({ host: '127.0.0.1', port }, () => s.write(data));
    s.on('data', (c) => chunks.push(c));
    s.on('close', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}

describe('robustness', () => {
  it('garbage datagrams and streams are counted and dropped; the node keeps working', async () => {
    const a = await createMemberlist(loopbackConfig('rob-a'));
    const b = await createMemberlist(loopbackConfig('rob-b'));
    try {
      const port = a.localNode().port;
      const garbage: Uint8Array[] = [
        Uint8Array.of(0xff),
        Uint8Array.of(0x00),
        Uint8Array.of(0x07, 0x05, 0x00),
        Uint8Array.of(0x07, 0x01, 0x00, 0x00),
        Uint8Array.of(0x0c, 1, 2, 3, 4),
        Uint8Array.of(0x0c, 1, 2, 3, 4, 0x00, 0x80),
        Uint8Array.of(
          0x09,
          0x82,
          0xa4,
          0x41,
          0x6c,
          0x67,
          0x6f,
          0x00,
          0xa3,
          0x42,
          0x75,
          0x66,
          0xa2,
          0xff,
          0xff,
        ),
        Uint8Array.of(0x04, 0xde, 0xff, 0xff),
        Uint8Array.of(0x06, 0x80),
        new Uint8Array(60000).fill(0x07),
      ];
      for (const g of garbage) await sendUdp(port, g);
      await waitFor(() => a.metrics().packets.in >= garbage.length, 5000, 'datagrams received');
      const dropped = Object.values(a.metrics().dropped).reduce((s, x) => s + (x ?? 0), 0);
      assert.ok(
        dropped >= garbage.length - 1,
        `dropped ${dropped}: ${JSON.stringify(a.metrics().dropped)}`,
      );

      // Garbage on a stream gets an error reply (msgType 13) or a close, never a crash.
      const reply = await tcpExchange(port, Uint8Array.of(0xee, 1, 2, 3));
      assert.ok(
        reply.length === 0 || reply[0] === 13 || reply[0] === 9,
        `reply ${reply.toString('hex')}`,
      );
      await tcpExchange(port, Uint8Array.of(0x06, 0x83, 0xa4, 0x4a, 0x6f, 0x69, 0x6e));
      await tcpExchange(port, new Uint8Array(0));
      await waitFor(() => a.metrics().streams.in >= 3, 5000, 'streams served');
      assert.ok(a.metrics().streams.errors >= 2, JSON.stringify(a.metrics().streams));

      // Still fully functional.
      await b.join([a.advertiseAddress]);
      await waitFor(
        () => aliveNames(a).length === 2 && aliveNames(b).length === 2,
        5000,
        'join after garbage',
      );
    } finally {
      await a.shutdown();
      await b.shutdown();
    }
  });

  it('shutdown leaves no socket, timer or pending work behind', async () => {
    const before = new Set(process.getActiveResourcesInfo());
    const count = (xs: string[]) =>
      xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
    const baseline = count(process.getActiveResourcesInfo());
    const nodes: Memberlist[] = [];
    for (let i = 0; i < 3; i++) nodes.push(await createMemberlist(loopbackConfig(`sd-${i}`)));
    await nodes[1].join([nodes[0].advertiseAddress]);
    await nodes[2].join([nodes[0].advertiseAddress]);
    await waitFor(() => nodes.every((m) => m.numMembers() === 3), 5000, 'convergence');
    const during = count(process.getActiveResourcesInfo());
    assert.ok((during.get('UDPWrap') ?? 0) >= 3, 'sockets were open');
    await Promise.all(nodes.map((m) => m.shutdown()));
    await Promise.all(nodes.map((m) => m.shutdown()));
    const afterCounts = count(process.getActiveResourcesInfo());
    for (const kind of ['UDPWrap', 'TCPServerWrap', 'TCPSocketWrap', 'Timeout']) {
      assert.ok(
        (afterCounts.get(kind) ?? 0) <= (baseline.get(kind) ?? 0),
        `${kind}: ${afterCounts.get(kind)} after vs ${baseline.get(kind)} before (${[...before].join(',')})`,
      );
    }
    await assert.rejects(nodes[0].join(['127.0.0.1:1']), { code: 'ERR_SHUTDOWN' });
  });

  it('closing a transport settles its pending dials', async () => {
    const t = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0 });
    t.setHandlers({ packet() {}, stream: (c) => c.close() });
    const pending = t.dialStream('127.0.0.1:1', 60_000).then(
      () => 'connected',
      (e: { code: string }) => e.code,
    );
    await t.close();
    assert.match(await pending, /^ERR_(CLOSED|DIAL)$/);
    await assert.rejects(t.sendPacket('127.0.0.1:1', Uint8Array.of(1)), { code: 'ERR_CLOSED' });
  });
});
