// The chat peer's errors say what is wrong; the CLI's console adds what to type next.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChatError, createChatPeer, registerChatPeer } from '@isopeer/chat';
import { Console } from '@isopeer/console';
import { chatErrorHint } from '../src/chat/error-hints.js';

describe('hints for chat errors', () => {
  test('a step run too early names the step to run first; other errors are left alone', async (t) => {
    const console = new Console({ errorHint: chatErrorHint });
    const peer = createChatPeer({ name: 'hinted', console });
    registerChatPeer(peer);
    t.after(async () => {
      await peer.close();
      await console.close();
    });
    const error = async (line: string) => (await console.execute(line)).error;
    assert.equal(
      await error('/memberlistcreate'),
      '/memberlistcreate: no configuration yet: run /memberlistconfigure',
    );
    assert.equal(
      await error('/memberliststart'),
      '/memberliststart: no memberlist yet: run /memberlistcreate',
    );
    assert.equal(
      await error('/msg hi'),
      '/msg: the chat is not started: run /init (or /chatstart)',
    );
    assert.equal(
      await error('/bootstrap'),
      '/bootstrap: no bootstrap service configured: start the peer with --bootstrap URL or BOOTSTRAP_DATA_SERVER',
    );
    assert.match(
      (await error('/chatmemberping nobody'))!,
      /no chat member "nobody": \/chatmembers lists them$/,
    );
    // A usage error and an error without a hint read as before.
    assert.match(
      (await error('/memberlistconfigure BindPort x'))!,
      /is not a port number \(0-65535\); usage:/,
    );
    assert.equal(chatErrorHint(new ChatError('CHAT_NETWORK', 'x')), undefined);
    assert.equal(chatErrorHint(new Error('plain')), undefined);
  });
});
