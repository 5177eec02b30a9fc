// Issue 7, LZW compression both ways in a live cluster: Go memberlist 0.2.2 peers (compression on
// by default) and an in-process TypeScript node on real UDP/TCP whose transport is wrapped in a
// tap. The tap sees the bytes as they cross the socket, so the test can show that compressed
// datagrams and streams actually travelled in each direction, and the messages they carried were
// delivered: Go's compressed gossip and push/pull are decoded by TS, and TS's by Go.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  createMemberlist,
  defaultLocalConfig,
  type Memberlist,
  NetTransport,
  type StreamConn,
  TransmitLimitedQueue,
  type Transport,
  type TransportHandlers,
} from '@isopeer/memberlist';
import { decompressMessage, MessageType } from '@isopeer/memberlist/internal';
import { names } from '../support/cluster.js';
import { goPeerSkip } from '../support/go-peer.js';
import { closeAll, LineNode, waitForStates } from '../support/line-node.js';

const skip = await goPeerSkip();

/** Whether a plaintext datagram's outermost message is LZW-compressed (CRC header skipped). */
function compressedDatagram(d: Uint8Array): boolean {
  if (d[0] === MessageType.HasCrc && d.length > 5) return d[5] === MessageType.Compress;
  return d[0] === MessageType.Compress;
}

interface Seen {
  peer: string;
  compressed: boolean;
  bytes: Uint8Array;
}

/** Records the first bytes of every stream in each direction. */
class TapConn implements StreamConn {
  private wrote = false;
  private read1 = false;
  constructor(
    private readonly inner: StreamConn,
    private readonly tap: TapTransport,
  ) {}
  get remoteAddr() {
    return this.inner.remoteAddr;
  }
  write(data: Uint8Array): Promise<void> {
    if (!this.wrote && data.length > 0) {
      this.wrote = true;
      this.tap.streamsOut.push({
        peer: this.remoteAddr,
        compressed: data[0] === MessageType.Compress,
        bytes: data.slice(),
      });
    }
    return this.inner.write(data);
  }
  async read(): Promise<Uint8Array | null> {
    const chunk = await this.inner.read();
    if (!this.read1 && chunk && chunk.length > 0) {
      this.read1 = true;
      this.tap.streamsIn.push({
        peer: this.remoteAddr,
        compressed: chunk[0] === MessageType.Compress,
        bytes: chunk.slice(),
      });
    }
    return chunk;
  }
  close(): void {
    this.inner.close();
  }
}

/** A transport that passes everything through and keeps a log of what crossed it. */
class TapTransport implements Transport {
  readonly packetsIn: Seen[] = [];
  readonly packetsOut: Seen[] = [];
  readonly streamsIn: Seen[] = [];
  readonly streamsOut: Seen[] = [];
  constructor(private readonly inner: Transport) {}
  get bindAddr() {
    return this.inner.bindAddr;
  }
  get bindPort() {
    return this.inner.bindPort;
  }
  setHandlers(h: TransportHandlers): void {
    this.inner.setHandlers({
      packet: (data, from) => {
        this.packetsIn.push({ peer: from, compressed: compressedDatagram(data), bytes: data });
        h.packet(data, from);
      },
      stream: (conn) => h.stream(new TapConn(conn, this)),
    });
  }
  sendPacket(to: string, data: Uint8Array): Promise<void> {
    this.packetsOut.push({ peer: to, compressed: compressedDatagram(data), bytes: data });
    return this.inner.sendPacket(to, data);
  }
  async dialStream(to: string, timeoutMs: number): Promise<StreamConn> {
    return new TapConn(await this.inner.dialStream(to, timeoutMs), this);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();
/** Long and repetitive, so LZW shrinks any datagram that carries it (no edge spaces: the line
 * protocol trims commands). */
const bulky = (tag: string) => `${tag}:${' all work and no play makes jack a dull boy'.repeat(20)}`;

describe('security: compression both ways between Go and TS', { skip }, () => {
  let ts: Memberlist | undefined;
  after(async () => {
    await ts?.shutdown();
    await closeAll();
  });

  test('Go-compressed packets and streams are decoded by TS, and TS-compressed ones by Go', async () => {
    const go = [
      await LineNode.start({ impl: 'go', name: 'cmp-go0' }),
      await LineNode.start({ impl: 'go', name: 'cmp-go1' }),
    ];
    go[1].send(`join ${go[0].address()}`);

    const tap = new TapTransport(await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0 }));
    const received: string[] = [];
    const merged: string[] = [];
    let nextId = 0;
    const queue = new TransmitLimitedQueue(() => ts?.numMembers() ?? 1, 2);
    ts = await createMemberlist(
      { ...defaultLocalConfig(), name: 'cmp-ts', bindAddr: '127.0.0.1', bindPort: 0 },
      {
        transport: tap,
        delegate: {
          notifyMsg: (m) => received.push(dec.decode(m)),
          getBroadcasts: (overhead, limit) => queue.getBroadcasts(overhead, limit),
          localState: () => enc.encode(JSON.stringify({ node: 'cmp-ts', items: {} })),
          mergeRemoteState: (buf) => merged.push(dec.decode(buf)),
        },
      },
    );
    assert.equal(ts.config.enableCompression, true, 'compression is on by default, as in Go');
    const tsNode = ts;
    assert.equal(await tsNode.join([go[0].address(), go[1].address()]), 2);
    const goAddrs = new Set(go.map((n) => n.address()));
    await waitForStates(go, [...names(go), 'cmp-ts'], 'alive', 20_000);

    // ---- Go → TS ----
    // The join's push/pull replies came back compressed (Go always compresses streams) and
    // their delegate state was merged.
    const fromGoStreams = tap.streamsIn.filter((s) => goAddrs.has(s.peer));
    assert.ok(fromGoStreams.length >= 2, 'push/pull replies from both Go nodes');
    assert.ok(
      fromGoStreams.every((s) => s.compressed),
      'Go streams are compressed',
    );
    for (const g of go) {
      assert.ok(
        merged.some((s) => s.includes(`"node":"${g.name}"`)),
        `state of ${g.name} merged`,
      );
    }
    // A bulky broadcast from Go travels as compressed gossip, and TS delivers it.
    const goText = bulky('from-go');
    await go[0].request(`broadcast ${goText}`, 'broadcast-queued');
    await waitUntil(
      () => received.some((m) => m.endsWith(`|${goText}`)),
      15_000,
      'Go broadcast at TS',
    );
    const compressedIn = tap.packetsIn.filter((p) => goAddrs.has(p.peer) && p.compressed);
    assert.ok(compressedIn.length > 0, 'TS received compressed datagrams from Go');
    // Each of them is real LZW that our decoder expands to a longer message (Go compresses a
    // datagram only when that makes it shorter) starting with a valid type byte.
    for (const p of compressedIn) {
      const body = p.bytes[0] === MessageType.HasCrc ? p.bytes.subarray(5) : p.bytes;
      const inner = decompressMessage(body);
      assert.ok(inner.length > body.length, `${inner.length} > ${body.length}`);
      assert.ok(inner[0] in MessageType, `inner type ${inner[0]}`);
    }
    const m = tsNode.metrics();
    assert.equal(m.dropped.compression ?? 0, 0, 'no compressed input was dropped');
    assert.equal(m.dropped.decode ?? 0, 0, 'no input failed to decode');

    // ---- TS → Go ----
    // A bulky TS broadcast (Go's payload framing) reaches both Go nodes as compressed gossip.
    const tsText = bulky('from-ts');
    queue.queueBroadcast({ message: enc.encode(`B|cmp-ts|${++nextId}|${tsText}`), unique: true });
    await Promise.all(
      go.map((g) =>
        g.waitFor((ev) => ev.event === 'msg' && ev.data === tsText, 15_000, 'TS broadcast at Go'),
      ),
    );
    assert.ok(
      tap.packetsOut.some((p) => goAddrs.has(p.peer) && p.compressed),
      'TS sent compressed datagrams to Go',
    );
    // A reliable message travels on a compressed stream.
    const relText = bulky('reliable-ts');
    await tsNode.sendReliable('cmp-go1', enc.encode(`R|cmp-ts|${++nextId}|${relText}`));
    await go[1].waitFor(
      (ev) => ev.event === 'msg' && ev.data === relText,
      10_000,
      'reliable at Go',
    );
    const tsStreams = tap.streamsOut.filter((s) => goAddrs.has(s.peer));
    assert.ok(tsStreams.length >= 3, 'join push/pulls and the reliable message went out');
    assert.ok(
      tsStreams.every((s) => s.compressed),
      'TS streams are compressed',
    );
    // Go's push/pull towards TS (served by TS) arrived compressed as well, if one ran already;
    // and nobody was marked failed while all this happened.
    for (const s of tap.streamsIn) assert.ok(s.compressed, `stream from ${s.peer} compressed`);
    for (const g of go) assert.deepEqual(g.find('leave'), [], g.label());
  });
});

/** Polls a condition about in-process state until it holds or the deadline passes. */
async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
