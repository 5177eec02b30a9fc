// A peer process for runner tests that do not need the chat application: a real Console with
// a few commands, driven by a real TestClient. Usage: node fake-peer-main.js <peer> <script> <url>
import { Console } from '@isopeer/console';
import { attachTestClient } from '../src/client.js';

const [peer, scriptName, serverUrl] = process.argv.slice(2);
const console = new Console();
const partitioned = new Set<string>();
console.register([
  {
    name: 'init',
    group: 'development',
    usage: 'init',
    description: 'say hello',
    run: (_args, ctx) => ctx.out.message(`<joined> ${peer} has joined`),
  },
  {
    name: 'say',
    group: 'development',
    usage: 'say <text>',
    description: 'write a line to this peer',
    run: (_args, ctx) => ctx.out.message(ctx.rawArgs),
  },
  {
    name: 'later',
    group: 'development',
    usage: 'later <ms> <text>',
    description: 'finish at once, write <text> after <ms> (a message arriving late)',
    minArgs: 2,
    run: (args, ctx) => {
      const text = ctx.rawArgs.slice(args[0].length).trim();
      setTimeout(() => console.write('message', text), Number(args[0]));
    },
  },
  {
    name: 'hang',
    group: 'development',
    usage: 'hang',
    description: 'never finish (until aborted)',
    run: (_args, ctx) =>
      new Promise<void>((_resolve, reject) =>
        ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))),
      ),
  },
  {
    name: 'suicide',
    group: 'development',
    usage: 'suicide',
    description: 'SIGKILL this process in the middle of the line',
    run: () => {
      process.kill(process.pid, 'SIGKILL');
    },
  },
  {
    name: 'testpartition',
    group: 'test',
    usage: 'testpartition <peer> on|off',
    description: 'record a partition',
    minArgs: 2,
    maxArgs: 2,
    run: (args, ctx) => {
      if (args[1] === 'on') partitioned.add(args[0]);
      else partitioned.delete(args[0]);
      ctx.out.message(`partitioned from: ${[...partitioned].join(',') || 'none'}`);
    },
  },
]);
console.on('line', (l) => process.stdout.write(`${l.kind}: ${l.text}\n`));
const client = attachTestClient(console, { serverUrl, peerName: peer, scriptName });
client.ready.catch(() => process.exit(3));
process.on('SIGTERM', () => {
  void client
    .close()
    .then(() => console.close())
    .then(() => process.exit(0));
});
