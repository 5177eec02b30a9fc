// Untrusted bytes at a node's UDP and TCP ports: a foreign user message is reported as `raw`,
// garbage is dropped, and the node keeps running (TS node, with the Go peer as reference).
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, describe, test } from 'node:test';
import { goPeerSkip } from '../support/go-peer.js';
import { closeAll, type Impl, LineNode } from '../support/line-node.js';

const goSkip = await goPeerSkip();

async function udp(host: string, port: number, packets: Uint8Array[]): Promise<void> {
  const s = createSocket('udp4');
  try {
    for (const p of packets) {
      await new Promise<void>((resolve, reject) =>
        s.send(p, port, host, (err) => (err ? reject(err) : resolve())),
      );
    }
  } finally {
    s.close();
  }
}

/**
 * Writes bytes on a fresh connection and half-closes it; resolves true when the node closed its
 * side within 5 s (its TCP timeout is 1 s with the local preset), false if we had to.
 */
async function tcp(host: string, port: number, bytes: Uint8Array): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const c = connect(port, host, () => c.end(bytes));
    c.resume(); // read (and discard) any error reply, so the node's FIN is seen
    const timer = setTimeout(() => {
      c.destroy();
      resolve(false);
    }, 5_000);
    c.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    c.on('error', () => {}); // a reset from the node is a fine answer to garbage; close follows
  });
}

/** Deterministic pseudo-random garbage (xorshift), so a failure can be replayed. */
function garbage(seed: number, count: number): Uint8Array[] {
  let x = seed;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  return Array.from({ length: count }, () => {
    const b = new Uint8Array(1 + (next() % 300));
    for (let i = 0; i < b.length; i++) b[i] = next() & 0xff;
    // Mostly valid type bytes, so decoders past the first byte get exercised.
    b[0] = next() % 20;
    return b;
  });
}

const USER_MSG = 8;

for (const impl of ['ts', 'go'] as Impl[]) {
  describe(`${impl} node: hostile and foreign input`, { skip: impl === 'go' && goSkip }, () => {
    after(closeAll);

    test('a user message that is not our payload is reported as raw', async () => {
      const n = await LineNode.start({ impl, name: `raw${impl}` });
      const [host, port] = n.address().split(':');
      const text = 'plain bytes | not a payload';
      await udp(host, Number(port), [Uint8Array.from([USER_MSG, ...Buffer.from(text)])]);
      const ev = await n.waitFor((e) => e.event === 'msg', 5_000);
      assert.equal(ev.kind, 'raw');
      assert.equal(ev.data, text);
      assert.equal(ev.from, null);
    });

    test('garbage datagrams and streams are dropped; the node keeps working', async () => {
      const a = await LineNode.start({ impl, name: `ga${impl}` });
      const [host, port] = a.address().split(':');
      await udp(host, Number(port), garbage(0x1234567, 400));
      const closed = await Promise.all(
        garbage(0x7654321, 20).map((g) => tcp(host, Number(port), g)),
      );
      assert.deepEqual(closed.filter((x) => !x).length, 0, 'the node closes every garbage stream');
      // Still a working member: another node joins it and both see each other.
      const b = await LineNode.start({ impl, name: `gb${impl}`, join: [a.address()] });
      await a.until(() => a.view().get(b.name) === 'alive', 10_000, 'the second node');
      assert.equal((await a.members()).length, 2);
      assert.equal(a.exited, undefined);
      assert.ok(!a.events.some((e) => e.event === 'msg' && e.kind !== 'raw'));
    });
  });
}
