// In-process peers for testing the test server and client without the chat application: each is
// a real Console with `init` and `msg` commands that deliver lines to the other peers' consoles,
// after `delayMs` (as a network would), tagged with source `chat` like the chat layer's lines.
import { Console } from '@isopeer/console';
import { attachTestClient, type TestClient } from '../src/client.js';

export interface FakePeer {
  name: string;
  console: Console;
  client: TestClient;
  close(): Promise<void>;
}

export function fakePeers(
  names: string[],
  serverUrl: string,
  scriptName: string,
  delayMs = 0,
): FakePeer[] {
  const peers: FakePeer[] = [];
  const pending = new Set<NodeJS.Timeout>();
  const deliver = (from: string, text: string) => {
    for (const p of peers) {
      if (p.name === from || p.console.closed) continue;
      const t = setTimeout(() => {
        pending.delete(t);
        if (!p.console.closed) p.console.write('message', text, 'chat');
      }, delayMs);
      pending.add(t);
    }
  };
  for (const name of names) {
    const console = new Console();
    console.register([
      {
        name: 'init',
        group: 'development',
        usage: 'init',
        description: 'announce this peer',
        run: () => deliver(name, `<joined> ${name} has joined`),
      },
      {
        name: 'msg',
        group: 'chat',
        usage: 'msg <text>',
        description: 'send a line to every other peer',
        run: (_args, ctx) => deliver(name, `<${name}> ${ctx.rawArgs}`),
      },
      {
        name: 'crash',
        group: 'development',
        usage: 'crash',
        description: 'fail',
        run: () => {
          throw new Error('crashed on purpose');
        },
      },
    ]);
    const client = attachTestClient(console, { serverUrl, peerName: name, scriptName });
    peers.push({
      name,
      console,
      client,
      async close() {
        await client.close();
        await console.close();
      },
    });
  }
  const closeAll = peers.map((p) => p.close);
  for (const p of peers) {
    p.close = async () => {
      await closeAll[peers.indexOf(p)]();
      if (peers.every((x) => x.console.closed)) for (const t of pending) clearTimeout(t);
    };
  }
  return peers;
}
