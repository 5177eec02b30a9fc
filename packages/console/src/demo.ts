#!/usr/bin/env node
/**
 * A small program embedding the console, for trying the UI and for the UI tests:
 *
 *   node packages/console/dist/src/demo.js [--history FILE] [--log FILE] [--feed FILE]
 *
 * `--feed` reads lines from a file or FIFO and shows each as an incoming message, the way a chat
 * peer shows messages from the network. Lines that are not commands are echoed as `<me> text`.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Console } from './console.js';
import { UsageError } from './errors.js';
import { runInteractive } from './ui.js';

const MEMBERS = ['alice', 'bob', 'charly', 'charlotte'];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      history: { type: 'string' },
      log: { type: 'string' },
      feed: { type: 'string' },
      prompt: { type: 'string' },
    },
  });
  const console = new Console({ historyFile: values.history, logFile: values.log });
  const log = console.logger.child('demo');
  console.register([
    {
      name: 'greet',
      group: 'demo',
      usage: 'greet <member>',
      description: 'greet a member (tab completes member names)',
      minArgs: 1,
      maxArgs: 1,
      run([member], { out }) {
        if (!MEMBERS.includes(member)) throw new UsageError(`no member ${member}`);
        log.info('greeted', { member });
        out.message(`<info> hello ${member}`);
      },
      complete: (argIndex) => (argIndex === 0 ? MEMBERS : []),
    },
    {
      name: 'tick',
      group: 'demo',
      usage: 'tick <count> [<interval-ms>]',
      description: 'emit numbered message lines on a timer',
      minArgs: 1,
      maxArgs: 2,
      async run([count, interval = '100'], { out, signal }) {
        const n = Number(count);
        const ms = Number(interval);
        if (!Number.isInteger(n) || n < 1 || !Number.isFinite(ms) || ms < 0) throw new UsageError();
        for (let i = 1; i <= n; i++) {
          await delay(ms, undefined, { signal });
          out.message(`tick ${i}/${n}`);
        }
      },
    },
    {
      name: 'exit',
      group: 'demo',
      usage: 'exit',
      description: 'leave the demo',
      maxArgs: 0,
      run() {
        void console.close();
      },
    },
  ]);
  console.setDefaultHandler((line, { out }) => out.message(`<me> ${line}`));

  let feed: ReturnType<typeof createReadStream> | undefined;
  if (values.feed) {
    feed = createReadStream(values.feed);
    feed.on('error', (err) => console.write('error', `feed: ${err.message}`, 'demo'));
    createInterface({ input: feed, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (l) =>
      console.write('message', l, 'feed'),
    );
  }
  await runInteractive(console, { prompt: values.prompt ?? '> ' });
  feed?.destroy();
  await console.close();
}

await main();
