// memberlist's Go configuration format through the console's /showconfig, /saveconfig and
// /loadconfig, as the chat peer registers them (no node is created: nothing binds a socket).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Console, quoteWord } from '@isopeer/console';
import { GO_FIELD_NAMES, parseGoConfig } from '@isopeer/memberlist';
import { registerChatPeer } from '../src/commands/index.js';
import { createChatPeer } from '../src/peer.js';
import { goConfigVector } from './vectors.js';

const vector = readFileSync(goConfigVector, 'utf8');
const VECTOR_NAME = 'alice-host-6ba7b810-9dad-11d1-80b4-00c04fd430c8';

function setup(t: { after(fn: () => unknown): void }) {
  const console = new Console();
  const peer = createChatPeer({
    name: 'me',
    console,
    uuid: '00000000-0000-4000-8000-000000000001',
  });
  registerChatPeer(peer);
  const dir = mkdtempSync(join(tmpdir(), 'chat-config-'));
  t.after(async () => {
    await peer.close();
    await console.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const texts = (r: { lines: { kind: string; text: string }[] }, kind?: string) =>
    r.lines.filter((l) => kind === undefined || l.kind === kind).map((l) => l.text);
  return { console, peer, dir, texts };
}

describe('the Go memberlist configuration through the console commands', () => {
  test('/loadconfig of the Go file reports the changes and that they wait for memberlistcreate', async (t) => {
    const { console, peer, texts } = setup(t);
    const all: { kind: string; text: string }[] = [];
    console.on('line', (l) => all.push(l));
    const r = await console.execute(`/loadconfig ${quoteWord(goConfigVector)}`);
    assert.equal(r.ok, true, r.error);
    // The node name stays the peer's own: it carries the bootstrap id.
    assert.deepEqual(peer.currentGoConfig(), {
      ...parseGoConfig(vector).config,
      Name: peer.nodeName,
    });
    // The peer starts from the same Local preset; only the name and the port differ.
    assert.match(texts(r, 'info')[0], /go-memberlist-config\.json: changed Name, BindPort$/);
    assert.deepEqual(texts(r, 'warn'), [
      'take effect on the next /memberlistcreate only: Name, BindPort',
    ]);
    assert.equal(
      texts({ lines: all }, 'warn')[0],
      `Name "${VECTOR_NAME}" from the file is not used: this peer is ${peer.nodeName}`,
    );
  });

  test('/showconfig shows the Go JSON and /saveconfig writes the Go file byte for byte', async (t) => {
    const { console, peer, dir, texts } = setup(t);
    await console.execute(`/loadconfig ${quoteWord(goConfigVector)}`);
    const ours = vector.replace(VECTOR_NAME, peer.nodeName);
    const shown = await console.execute('/showconfig');
    assert.deepEqual(texts(shown, 'text'), ours.trimEnd().split('\n'));
    assert.deepEqual(texts(shown, 'info'), [
      `take effect on the next /memberlistcreate only: ${GO_FIELD_NAMES.join(', ')}`,
    ]);
    const file = join(dir, 'saved.json');
    assert.equal((await console.execute(`/saveconfig ${quoteWord(file)}`)).ok, true);
    assert.equal(readFileSync(file, 'utf8'), ours);
    const doc = await console.execute('/showconfig ProbeInterval');
    assert.match(texts(doc)[0], /^ProbeInterval: failure probe period/);
  });

  test('a broken file is rejected naming every wrong field and nothing changes', async (t) => {
    const { console, peer, dir } = setup(t);
    const before = peer.currentGoConfig();
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      vector
        .replace('"ProtocolVersion": 2', '"ProtocolVersion": 9')
        .replace('"ProbeTimeout": 200000000', '"ProbeTimeout": -5'),
    );
    const r = await console.execute(`/loadconfig ${quoteWord(file)}`);
    assert.equal(r.ok, false);
    assert.match(
      r.error!,
      /bad\.json: invalid memberlist configuration: ProtocolVersion: must be between 1 and 5, got 9; ProbeTimeout: negative duration -5/,
    );
    assert.deepEqual(peer.currentGoConfig(), before);
  });

  test('the secret key is hidden by /showconfig and saved with owner-only permissions', async (t) => {
    const { console, dir, texts } = setup(t);
    const key = Buffer.alloc(16, 7).toString('base64');
    writeFileSync(join(dir, 'key.json'), JSON.stringify({ SecretKey: key }));
    assert.equal(
      (await console.execute(`/loadconfig ${quoteWord(join(dir, 'key.json'))}`)).ok,
      true,
    );
    const shown = texts(await console.execute('/showconfig')).join('\n');
    assert.ok(!shown.includes(key));
    assert.match(shown, /"SecretKey": "\(hidden/);
    const file = join(dir, 'secret.json');
    await console.execute(`/saveconfig ${quoteWord(file)}`);
    assert.equal(parseGoConfig(readFileSync(file, 'utf8')).config.SecretKey, key);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });
});
