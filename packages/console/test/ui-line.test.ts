import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { waitUntil } from '@isopeer/test-support';
import { Console } from '../src/index.js';
import { colorize, runInteractive, sanitize } from '../src/ui.js';
import { runDemo, tempDir } from './helpers.js';

describe('line mode (no TTY)', () => {
  test('the demo over pipes: commands from stdin in order, plain lines on stdout, no escape codes', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const log = join(dir, 'demo.log');
    const input = [
      '/tick 3 20',
      '/echo after ticks',
      '/greet bob',
      'hello "world"',
      '/grete',
      '/help greet',
      'evil \u001b[31mred\u0007',
      '',
    ].join('\n');
    const r = await runDemo(['--log', log], input);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.ok(!r.stdout.includes('\u001b'), 'no escape codes');
    // The log file opens while the first commands run, so its notice may come before or after
    // any of the ticks: it must be there once; every other line in order.
    const notice = `logging to ${log}`;
    const lines = r.stdout.split('\n');
    assert.equal(lines.filter((l) => l === notice).length, 1, r.stdout);
    assert.deepEqual(
      lines.filter((l) => l !== notice),
      [
        'tick 1/3',
        'tick 2/3',
        'tick 3/3',
        'after ticks',
        '<info> hello bob',
        '<me> hello "world"',
        'unknown command /grete; did you mean /greet? (/help lists all commands)',
        'usage: /greet <member>',
        '  greet a member (tab completes member names) (group demo)',
        '<me> evil ?[31mred?',
        '',
      ],
    );
    const records = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      records.map((x) => [x.subsystem, x.msg, x.member ?? x.command]),
      [
        ['demo', 'greeted', 'bob'],
        // A failed command is logged at the default level, by its name only.
        ['console', 'command failed', '/grete'],
      ],
    );
  });

  test('in-process over streams: queued lines run one after another, the session ends with the input', async (t) => {
    const c = new Console();
    t.after(() => c.close());
    c.setDefaultHandler((line, { out }) => out.message(line));
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (b) => (text += b));
    const done = runInteractive(c, { input, output });
    input.write('/sleep 0.05\nfirst\n');
    input.write('second\n');
    c.write('warn', 'from the network');
    await waitUntil(() => text.includes('second'), 'the queued lines');
    input.end();
    await done;
    assert.deepEqual(text.split('\n'), ['from the network', 'first', 'second', '']);
  });

  test('aborting the signal ends the session at once: the running command is aborted, queued lines dropped', async (t) => {
    const c = new Console();
    t.after(() => c.close());
    c.register({
      name: 'block',
      group: 'test',
      usage: 'block',
      description: 'waits until aborted',
      async run(_args, { out, signal }) {
        out.text('blocking');
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        out.text('unblocked');
        return false;
      },
    });
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (b) => (text += b));
    const ac = new AbortController();
    const done = runInteractive(c, { input, output, signal: ac.signal });
    input.write('/echo first\n/block\n/echo never\n');
    await waitUntil(() => text.includes('blocking'), 'the blocking command');
    ac.abort();
    await done;
    assert.deepEqual(text.split('\n'), ['first', 'blocking', 'unblocked', '/block failed', '']);
  });

  test('a closed output does not crash the session; closing the console ends it', async () => {
    const c = new Console();
    const input = new PassThrough();
    const output = new PassThrough();
    const done = runInteractive(c, { input, output });
    output.destroy(new Error('EPIPE'));
    c.write('text', 'nobody reads this');
    input.write('/echo still works\n');
    await waitUntil(() => c.output.some((l) => l.text === 'still works'), 'the command to run');
    await c.close();
    await done;
  });
});

describe('rendering', () => {
  test('control characters are neutralised; tabs become spaces', () => {
    assert.equal(sanitize('a\tb\u001b[2Jc\r\u009bd'), 'a    b?[2Jc??d');
  });

  test('status prefixes and line kinds get colours', () => {
    const ts = 0;
    assert.equal(
      colorize({ kind: 'message', text: '<joined> bob', ts }),
      '\u001b[32m<joined>\u001b[0m bob',
    );
    assert.equal(
      colorize({ kind: 'message', text: '<left> bob', ts }),
      '\u001b[35m<left>\u001b[0m bob',
    );
    assert.equal(colorize({ kind: 'error', text: 'bad', ts }), '\u001b[31mbad\u001b[0m');
    assert.equal(colorize({ kind: 'text', text: 'plain', ts }), 'plain');
  });
});
