// Interop with encryption (issue 7, --key): Go and TS nodes sharing a key form one cluster and
// talk; a wrong key is refused with a clear error both ways; nodes holding the same two keys
// with different primaries (the middle of a key rotation) still understand each other.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { goPeerSkip } from '../support/go-peer.js';
import { closeAll, LineNode, waitForStates } from '../support/line-node.js';

const skip = await goPeerSkip();

const k1 = Buffer.alloc(16, 0x11).toString('base64'); // AES-128
const k2 = Buffer.alloc(32, 0x22).toString('base64'); // AES-256

describe('interop: encrypted clusters', { skip }, () => {
  after(closeAll);

  test('Go and TS nodes with a shared key converge and exchange messages', async () => {
    const g = await LineNode.start({ impl: 'go', name: 'eg', keys: [k1] });
    const t = await LineNode.start({ impl: 'ts', name: 'et', keys: [k1], join: [g.address()] });
    const g2 = await LineNode.start({ impl: 'go', name: 'eg2', keys: [k1], join: [t.address()] });
    await waitForStates([g, t, g2], ['eg', 'et', 'eg2'], 'alive', 10_000);
    assert.equal((await t.request('send eg sealed', 'sent')).ok, true);
    await g.waitFor((e) => e.event === 'msg' && e.data === 'sealed' && e.from === 'et', 5_000);
    assert.equal((await g2.request('sendbest et sealed too', 'sent')).ok, true);
    await t.waitFor((e) => e.event === 'msg' && e.data === 'sealed too' && e.from === 'eg2', 5_000);
  });

  test('a node with the wrong key cannot join, either way', async () => {
    const g = await LineNode.start({ impl: 'go', name: 'wg', keys: [k1] });
    const t = await LineNode.start({ impl: 'ts', name: 'wt', keys: [k1] });
    const badTs = await LineNode.start({ impl: 'ts', name: 'bt', keys: [k2], join: [g.address()] });
    const badGo = await LineNode.start({ impl: 'go', name: 'bg', keys: [k2], join: [t.address()] });
    const [a, b] = await Promise.all([
      badTs.waitFor((e) => e.event === 'joined', 15_000),
      badGo.waitFor((e) => e.event === 'joined', 15_000),
    ]);
    assert.equal(a.ok, false);
    assert.match(String(a.error), /key|decrypt/i);
    assert.equal(b.ok, false);
    assert.ok(!g.view().has('bt') && !t.view().has('bg'));
  });

  test('mid-rotation: both keys installed, different primaries, one cluster', async () => {
    const g = await LineNode.start({ impl: 'go', name: 'rg', keys: [k1, k2] });
    const t = await LineNode.start({ impl: 'ts', name: 'rt', keys: [k2, k1], join: [g.address()] });
    const g2 = await LineNode.start({
      impl: 'go',
      name: 'rg2',
      keys: [k2, k1],
      join: [t.address()],
    });
    await waitForStates([g, t, g2], ['rg', 'rt', 'rg2'], 'alive', 10_000);
    // One stream (TCP) and one packet (UDP) message, each decrypted with the secondary key.
    assert.equal((await t.request('send rg rotated', 'sent')).ok, true);
    await g.waitFor((e) => e.event === 'msg' && e.data === 'rotated', 5_000);
    assert.equal((await g2.request('sendbest rt rotated back', 'sent')).ok, true);
    await t.waitFor((e) => e.event === 'msg' && e.data === 'rotated back', 5_000);
  });
});
