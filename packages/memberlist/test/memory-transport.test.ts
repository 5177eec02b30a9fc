import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualClock } from '../src/clock.js';
import { MemoryNetwork } from '../src/transport/memory-transport.js';

function sink() {
  const got: { data: string; from: string }[] = [];
  return {
    got,
    handlers: {
      packet: (d: Uint8Array, from: string) => got.push({ data: Buffer.from(d).toString(), from }),
      stream: () => {},
    },
  };
}

describe('in-memory network', () => {
  it('delivers packets after the link delay, from the sender address', async () => {
    const clock = new VirtualClock();
    const net = new MemoryNetwork({ clock, defaultFault: { delayMs: 5 } });
    const a = net.createTransport();
    const b = net.createTransport();
    const s = sink();
    b.setHandlers(s.handlers);
    await a.sendPacket(b.address, Buffer.from('x'));
    await clock.advance(4);
    assert.equal(s.got.length, 0);
    await clock.advance(1);
    assert.deepEqual(s.got, [{ data: 'x', from: a.address }]);
  });

  it('drop rate is seeded and deterministic', async () => {
    const delivered = async (seed: number) => {
      const clock = new VirtualClock();
      const net = new MemoryNetwork({ clock, seed, defaultFault: { dropRate: 0.3 } });
      const a = net.createTransport();
      const b = net.createTransport();
      const s = sink();
      b.setHandlers(s.handlers);
      for (let i = 0; i < 1000; i++) await a.sendPacket(b.address, Buffer.from(String(i)));
      await clock.advance(1);
      return s.got.map((g) => g.data).join(',');
    };
    const one = await delivered(42);
    assert.equal(one, await delivered(42));
    const n = one.split(',').length;
    assert.ok(n > 620 && n < 780, `about 70% delivered, got ${n}`);
  });

  it('partitions block packets and make dials time out; heal restores both', async () => {
    const clock = new VirtualClock();
    const net = new MemoryNetwork({ clock });
    const a = net.createTransport();
    const b = net.createTransport();
    const s = sink();
    const accepted: string[] = [];
    b.setHandlers({
      ...s.handlers,
      stream: async (c) => {
        const chunk = await c.read();
        accepted.push(Buffer.from(chunk!).toString());
        await c.write(Buffer.from('pong'));
        c.close();
      },
    });
    net.partition([[a.address], [b.address]]);
    await a.sendPacket(b.address, Buffer.from('lost'));
    const dial = a.dialStream(b.address, 100).then(
      () => 'connected',
      (e: { code: string }) => e.code,
    );
    await clock.advance(100);
    assert.equal(await dial, 'ERR_DIAL_TIMEOUT');
    assert.equal(s.got.length, 0);
    net.heal();
    const conn = await a.dialStream(b.address, 100);
    await conn.write(Buffer.from('ping'));
    const reply = await conn.read();
    assert.equal(Buffer.from(reply!).toString(), 'pong');
    assert.equal(await conn.read(), null, 'end of stream after the peer closed');
    assert.deepEqual(accepted, ['ping']);
  });

  it('a closed transport refuses dials at once and rejects its pending dials', async () => {
    const clock = new VirtualClock();
    const net = new MemoryNetwork({ clock });
    const a = net.createTransport();
    const b = net.createTransport();
    const c = net.createTransport();
    await b.close();
    await assert.rejects(a.dialStream(b.address, 1000), { code: 'ERR_DIAL' });
    net.partition([[a.address], [c.address]]);
    const pending = assert.rejects(a.dialStream(c.address, 1000), { code: 'ERR_CLOSED' });
    await a.close();
    await pending;
    assert.equal(clock.pending(), 0, 'no timers left behind');
  });
});
