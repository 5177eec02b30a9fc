// Issue 17, part 2: `leave 500` right after a join, in 2-node clusters, answers ok, as Go's
// Leave(500 ms) does: the leave counts as done once the message was sent Go's transmit count,
// not once isopeer's extra retransmits (the gossipMinTransmits floor) were all sent.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { goPeerSkip } from '../support/go-peer.js';
import { closeAll, type Impl, LineNode, waitForStates } from '../support/line-node.js';

const skip = await goPeerSkip();

async function leaveRightAfterJoin(leaverImpl: Impl, peerImpl: Impl, run: number, busy: boolean) {
  const tag = `lt${run}-${leaverImpl}${peerImpl}${busy ? 'b' : ''}`;
  const peer = await LineNode.start({ impl: peerImpl, name: `${tag}-peer` });
  const leaver = await LineNode.start({
    impl: leaverImpl,
    name: `${tag}-leaver`,
    join: [peer.address()],
  });
  try {
    const joined = await leaver.waitFor((e) => e.event === 'joined', 10_000, 'joined');
    assert.equal(joined.ok, true, JSON.stringify(joined));
    // Optionally fill the broadcast queue first: the leave must not wait behind it.
    if (busy) for (let i = 0; i < 5; i++) leaver.send(`broadcast busy-${i}-${'x'.repeat(200)}`);
    const left = await leaver.request('leave 500', 'left', 10_000);
    assert.equal(left.ok, true, `${tag}: ${JSON.stringify(left)}`);
    await waitForStates([peer], [leaver.name], 'left', 5_000);
  } finally {
    await Promise.all([leaver.close(), peer.close()]);
  }
}

describe('interop: leave right after a join (2-node clusters)', { skip }, () => {
  after(closeAll);

  for (const [leaverImpl, peerImpl] of [
    ['ts', 'ts'],
    ['ts', 'go'],
    ['go', 'ts'],
  ] as const) {
    test(`${leaverImpl} leaving a ${peerImpl} peer: leave 500 answers ok, the peer sees left`, async () => {
      for (let run = 0; run < 3; run++) {
        await leaveRightAfterJoin(leaverImpl, peerImpl, run, run === 2);
      }
    });
  }
});
