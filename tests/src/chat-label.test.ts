// `isopeer chat --label X` (memberlist >= 0.3 labels): peers with the same label form a group;
// a peer without it cannot join them; the label is part of the Go-format configuration
// (`/showconfig`, `/saveconfig`), and a configuration without a label is saved as 0.2.2 does.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BootstrapProc, ChatProc, cleanEnv, until } from './chat-procs.js';

describe('isopeer chat --label', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-label-'));
  let server: BootstrapProc;
  const peers: ChatProc[] = [];
  const peer = (name: string, extra: string[]) => {
    const p = new ChatProc(
      name,
      ['--bootstrap', server.url, '--state-dir', join(dir, name), ...extra],
      cleanEnv({}),
    );
    peers.push(p);
    return p;
  };

  before(async () => {
    server = await BootstrapProc.start(cleanEnv({}));
  });
  after(async () => {
    await Promise.all([...peers.map((p) => p.stop()), server?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('peers with the same label chat; one without it cannot join them', async () => {
    const alice = peer('alice', ['--label', 'team1']);
    await alice.ready();
    const bob = peer('bob', ['--label', 'team1']);
    await bob.ready();
    await until(
      'alice and bob in one group',
      async () => (await bob.command('/chatmembers'))[0] === '2 chat member(s)',
    );
    bob.send('labelled hello');
    await alice.waitFor('<bob> labelled hello');

    const carol = peer('carol', []);
    await carol.ready();
    await carol.waitFor('could not join anyone');
    assert.equal((await carol.command('/chatmembers'))[0], '1 chat member(s)');
  });

  it('shows and saves the label in the Go-format configuration', async () => {
    const alice = peers[0]!;
    const shown = await alice.command('/showconfig');
    // The 0.3 fields come last, each only when set (SkipInboundLabelCheck is false here); a
    // terminal shows tabs as four spaces.
    const end = shown.indexOf('}');
    assert.deepEqual(shown.slice(end - 2, end), [
      '    "CIDRsAllowed": null,',
      '    "Label": "team1"',
    ]);
    const file = join(dir, 'alice-config.json');
    await alice.command(`/saveconfig ${file}`);
    assert.match(readFileSync(file, 'utf8'), /\t"CIDRsAllowed": null,\n\t"Label": "team1"\n}\n$/);
    // Without a label the document is memberlist 0.2.2's: no label fields at all.
    const carol = peers[2]!;
    const lines = await carol.command('/showconfig');
    const plain = lines.slice(0, lines.indexOf('}') + 1).join('\n');
    assert.doesNotMatch(plain, /Label/);
    assert.match(plain, /"CIDRsAllowed": null\n}/);
  });
});
