/**
 * A join pointed at something that is not memberlist (an HTTP server such as the bootstrap
 * service, a TLS or SSH port) fails with a plain sentence and the code ERR_NOT_MEMBERLIST,
 * not with "message type 72 cannot arrive on a stream".
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { identifyForeignProtocol, Keyring } from '../src/codec/index.js';
import { createMemberlist, type Memberlist, MemberlistError } from '../src/memberlist.js';
import { StreamError } from '../src/net.js';
import { loopbackConfig } from './helpers.js';
import { KEY16 } from './label-fixtures.js';

function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

/** A TCP server that answers the first bytes it receives with `answer`, then closes. */
function answering(answer: Uint8Array): Server {
  return createServer((s) => {
    s.once('data', () => s.end(answer));
    s.on('error', () => {});
  });
}

/** Joins `port` and returns the error behind the join failure. */
async function joinError(ml: Memberlist, port: number): Promise<StreamError> {
  try {
    await ml.join([`127.0.0.1:${port}`]);
  } catch (e) {
    assert.ok(e instanceof MemberlistError);
    assert.equal(e.code, 'ERR_JOIN');
    assert.ok(e.cause instanceof StreamError, 'the cause is the push/pull error');
    assert.ok(e.message.includes(e.cause.message));
    return e.cause;
  }
  assert.fail('the join succeeded');
}

describe('joining something that is not memberlist', () => {
  const servers: Array<Server | ReturnType<typeof createHttpServer>> = [];
  const nodes: Memberlist[] = [];
  let httpPort = 0;
  before(async () => {
    // A real HTTP server: Node answers memberlist's binary push/pull with 400 Bad Request.
    const http = createHttpServer((_req, res) => res.end('ok'));
    servers.push(http);
    httpPort = await listen(http);
  });
  after(async () => {
    await Promise.all(nodes.map((m) => m.shutdown()));
    for (const s of servers) s.close();
  });

  for (const keyring of [null, new Keyring([KEY16])]) {
    it(`an HTTP server: "answered with HTTP", code ERR_NOT_MEMBERLIST${keyring ? ' (encrypted node)' : ''}`, async () => {
      const ml = await createMemberlist(loopbackConfig(`fp-${nodes.length}`, { keyring }));
      nodes.push(ml);
      const err = await joinError(ml, httpPort);
      assert.equal(err.code, 'ERR_NOT_MEMBERLIST');
      assert.equal(
        err.message,
        `127.0.0.1:${httpPort} answered with HTTP ("HTTP/1.1 400 Bad Request"), not memberlist: is that the port of a web server, such as the bootstrap service, instead of a memberlist node?`,
      );
      assert.doesNotMatch(err.message, /message type/);
      assert.equal(ml.metrics().pushPulls.failed, 1);
    });
  }

  const others: Array<[string, Uint8Array, RegExp]> = [
    // A TLS server's alert record (handshake failure) answering bytes that are not a ClientHello.
    ['TLS', Uint8Array.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]), /answered with TLS/],
    [
      'SSH',
      new TextEncoder().encode('SSH-2.0-OpenSSH_9.2p1\r\n'),
      /answered with SSH \("SSH-2.0-OpenSSH_9.2p1"\)/,
    ],
    [
      'text',
      new TextEncoder().encode('-ERR unknown command\r\n'),
      /answered with text \("-ERR unknown command"\)/,
    ],
    [
      'binary',
      Uint8Array.from([0xfe, 0x01, 0x02]),
      /answered with bytes that are not memberlist \(fe0102…\)/,
    ],
  ];
  for (const [what, answer, pattern] of others) {
    it(`a server answering ${what}: said in plain words`, async () => {
      const server = answering(answer);
      servers.push(server);
      const port = await listen(server);
      const ml = await createMemberlist(loopbackConfig(`fp-${nodes.length}`));
      nodes.push(ml);
      const err = await joinError(ml, port);
      assert.equal(err.code, 'ERR_NOT_MEMBERLIST');
      assert.match(err.message, pattern);
    });
  }

  it('bytes that may start a memberlist stream are left to the parser', () => {
    for (const b of [0, 2, 6, 9, 10, 13, 244])
      assert.equal(identifyForeignProtocol(Uint8Array.of(b)), null);
    assert.equal(identifyForeignProtocol(new Uint8Array(0)), null);
    // One byte is enough to decide; 'H' is taken for HTTP.
    assert.equal(identifyForeignProtocol(Uint8Array.of(72))?.protocol, 'HTTP');
  });
});
