// Untrusted bytes from the group never crash a peer or corrupt its state: a bare memberlist node
// (no chat layer) joins a chat peer, sends garbage user messages and a garbage push/pull state,
// then a valid record; the peer keeps working throughout.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Console, type OutputLine } from '@isopeer/console';
import { createMemberlist, defaultLocalConfig, type Memberlist } from '@isopeer/memberlist';
import { registerChatPeer } from '../src/commands/index.js';
import { encodeMemberRecord } from '../src/member-record.js';
import { createChatPeer } from '../src/peer.js';

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('garbage from the group', () => {
  const console = new Console();
  const lines: OutputLine[] = [];
  console.on('line', (l: OutputLine) => lines.push(l));
  const peer = createChatPeer({ name: 'alice', console });
  registerChatPeer(peer);
  let rogue: Memberlist;

  before(async () => {
    for (const l of [
      '/memberlistconfigure',
      '/memberlistcreate',
      '/memberliststart',
      '/chatstart',
    ]) {
      assert.ok((await console.execute(l)).ok, l);
    }
    rogue = await createMemberlist(
      { ...defaultLocalConfig(), name: 'rogue', bindAddr: '127.0.0.1', bindPort: 0 },
      {
        delegate: {
          // Its push/pull state is garbage of every kind.
          localState: () =>
            Buffer.from(
              '{"rogue":{"name":5},"x":[1,2],"alice-fake":{"name":"other","sender":"h:1"}',
            ),
        },
      },
    );
    await rogue.join([peer.requireMemberlist().advertiseAddress]);
    await until('alice sees rogue', () => peer.requireMemberlist().numMembers() === 2);
  });
  after(async () => {
    await rogue.shutdown();
    await peer.close();
    await console.close();
  });

  it('drops garbage user messages and keeps its state', async () => {
    const before = new Map(peer.members);
    const payloads = [
      Buffer.from('not json'),
      Buffer.from('d'),
      Buffer.from('d[{"Action":"add","Data":{"k":7}}]'),
      Buffer.from('{"msgType":9,"name":"x"}'),
      Buffer.from(`{"name":"${'x'.repeat(1000)}","sender":"nope"}`),
      Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
      randomBytes(1200),
      Buffer.alloc(0),
    ];
    for (const p of payloads) await rogue.sendReliable(peer.nodeName, p);
    // A valid record afterwards still gets through: the peer is alive and processing.
    await rogue.sendReliable(
      peer.nodeName,
      encodeMemberRecord({
        msgType: 0,
        name: 'rogue',
        sender: '127.0.0.1:9',
        timestamp: { seconds: 1, nanos: 0 },
      }),
    );
    await until('the valid record arrives', () => peer.members.has('rogue'));
    for (const [name, r] of before) assert.deepEqual(peer.members.get(name), r);
    assert.equal(peer.members.size, before.size + 1);
    assert.equal(peer.items.size, 0);
    assert.ok(!lines.some((l) => l.kind === 'error'), 'nothing reached the screen as an error');
    assert.ok((await console.execute('/chatmembers')).ok);
  });
});
