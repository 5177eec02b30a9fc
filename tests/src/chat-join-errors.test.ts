// A bootstrap entry that points at something that is not memberlist must give the joining peer a
// plain error naming what is there, never a decoding error such as "message type 72 cannot arrive
// on a stream": a web server (memberlist's ERR_NOT_MEMBERLIST), or the bootstrap service's own
// address (a common slip; isopeer's service does not answer binary input, so memberlist only
// sees a timeout there).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BootstrapProc, ChatProc, cleanEnv } from './chat-procs.js';

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('isopeer chat: bootstrap entries that are not memberlist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-join-errors-'));
  let server: BootstrapProc;
  let web: Server;
  let webPort = 0;
  let alice: ChatProc;

  before(async () => {
    server = await BootstrapProc.start(cleanEnv({}));
    web = createServer((_req, res) => res.end('a web page'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    webPort = (web.address() as { port: number }).port;
    const now = Math.floor(Date.now() / 1000);
    const { hostname, port } = new URL(server.url);
    // The bytes the original client sends for /join.
    for (const [name, ip, p] of [
      ['web', '127.0.0.1', String(webPort)],
      ['service', hostname, port],
    ]) {
      const id = randomUUID();
      await server.call('/join', `${id} ${name}-${id} ${ip} ${p} tcp 0 ${now}`);
    }
  });
  after(async () => {
    web?.close();
    await Promise.all([alice?.stop(), server?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('says in plain words what is at each address, and starts alone', async () => {
    alice = new ChatProc(
      'alice',
      ['--bootstrap', server.url, '--state-dir', join(dir, 'a')],
      cleanEnv({}),
    );
    await alice.ready();
    const webLine = await alice.waitFor((t) => t.startsWith('<warn> bootstrap peer web-'));
    assert.match(
      webLine.text,
      new RegExp(
        `^<warn> bootstrap peer web-\\S+ is not a memberlist node: ${literal(`127.0.0.1:${webPort}`)} answered with HTTP \\("HTTP/1\\.1 400 Bad Request"\\), not memberlist: is that the port of a web server, such as the bootstrap service, instead of a memberlist node\\?$`,
      ),
    );
    const serviceLine = await alice.waitFor((t) => t.startsWith('<warn> bootstrap peer service-'));
    const { hostname, port } = new URL(server.url);
    assert.match(
      serviceLine.text,
      new RegExp(
        `^<warn> bootstrap peer service-\\S+ is not a memberlist node: ${literal(`${hostname}:${port}`)} is the bootstrap service \\(${literal(server.url)}\\) itself$`,
      ),
    );
    const alone = await alice.waitFor('could not join anyone');
    assert.match(alone.text, /is not a memberlist node: /);
    assert.equal(
      alice.count((t) => /message type|cannot arrive|refused the join/.test(t)),
      0,
      alice.tail(),
    );
  });
});
