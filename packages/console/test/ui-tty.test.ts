import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { skipIfMissing, TmuxSession, tmuxMissing, waitUntil } from '@isopeer/test-support';
import { demoPath, openFeed, tempDir } from './helpers.js';

/**
 * The terminal UI under a real terminal (tmux): output arriving while a command is half typed,
 * history recall, tab completion, colours, Ctrl-C. Every wait is on a screen condition.
 */
describe('TTY UI under tmux', () => {
  const skip = (t: { skip(msg: string): void }): boolean => skipIfMissing(t, tmuxMissing());

  function start(
    t: { after(fn: () => unknown): void },
    dir: string,
    extra: string[] = [],
    size?: { columns: number; rows: number },
  ): TmuxSession {
    const session = new TmuxSession(
      [
        'env',
        '-u',
        'NO_COLOR',
        process.execPath,
        demoPath,
        '--history',
        join(dir, 'history'),
        ...extra,
      ],
      size,
    );
    t.after(() => session.kill());
    return session;
  }

  test('output arriving while a command is half typed leaves the typed text intact', async (t) => {
    if (skip(t)) return;
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const { fifo, feed } = openFeed(t, dir);
    const tty = start(t, dir, ['--feed', fifo]);
    await tty.waitFor((r) => r.at(-1) === '>', 'the prompt');

    tty.type('/echo hello wor');
    await tty.waitFor((r) => r.at(-1) === '> /echo hello wor', 'the half-typed command');
    const incoming = ['<joined> bob has joined', 'a message from bob', '<left> carol has left'];
    writeSync(feed, `${incoming.join('\n')}\n`);
    let rows = await tty.waitFor((r) => r.includes(incoming[2]), 'the incoming lines');
    assert.equal(rows.at(-1), '> /echo hello wor', 'the input line is intact and last');
    assert.deepEqual(rows.slice(-4, -1), incoming, 'output lines scroll in above the input line');
    assert.equal(
      rows.filter((r) => r.includes('hello wor')).length,
      1,
      'no stray copies of the typed text',
    );

    // More lines than the screen holds: the input line stays at the bottom.
    const flood = Array.from({ length: 60 }, (_, i) => `flood line ${i + 1}`);
    writeSync(feed, `${flood.join('\n')}\n`);
    rows = await tty.waitFor((r) => r.includes('flood line 60'), 'the flood');
    assert.equal(rows.length, 30);
    assert.equal(rows.at(-1), '> /echo hello wor');
    assert.deepEqual(rows.slice(-30, -1), flood.slice(-29));

    // Colours: the status prefix is green on screen.
    writeSync(feed, '<joined> dave has joined\n');
    await tty.waitFor((r) => r.includes('<joined> dave has joined'), 'dave');
    const coloured = tty.screen(true).find((r) => r.includes('dave has joined'))!;
    assert.match(coloured, /\u001b\[32m<joined>\u001b\[39m dave has joined/);

    // Finishing the line runs the command as typed.
    tty.type('ld');
    tty.keys('Enter');
    rows = await tty.waitFor(
      (r) => r.at(-1) === '>' && r.at(-2) === 'hello world',
      'the echo output',
    );
    assert.equal(rows.at(-3), '> /echo hello world');
  });

  test('a pasted line wrapping over several rows, edited in the middle while output arrives', async (t) => {
    if (skip(t)) return;
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const { fifo, feed } = openFeed(t, dir);
    const columns = 60;
    const tty = start(t, dir, ['--feed', fifo], { columns, rows: 15 });
    await tty.waitFor((r) => r.at(-1) === '>', 'the prompt');
    const wrap = (text: string) => text.match(new RegExp(`.{1,${columns}}`, 'g')) ?? [];

    let line = `/echo ${'abcdefghij'.repeat(13)}`;
    tty.type(line); // one write, so it arrives like a paste
    await tty.waitFor(
      (r) => r.slice(-3).join('') === `> ${line}`,
      'the pasted line over three rows',
    );
    tty.keys(...Array<string>(70).fill('Left'));
    writeSync(feed, 'arrived while editing\n');
    await tty.waitFor((r) => r.includes('arrived while editing'), 'the incoming line');
    tty.type('XYZ');
    const at = line.length - 70;
    line = `${line.slice(0, at)}XYZ${line.slice(at)}`;
    const rows = await tty.waitFor(
      (r) => r.slice(-3).join('') === `> ${line}`,
      'the insertion in the middle',
    );
    assert.deepEqual(rows.slice(-4), ['arrived while editing', ...wrap(`> ${line}`)]);
    tty.keys('Enter');
    const echoed = line.slice('/echo '.length);
    await tty.waitFor(
      (r) => r.at(-1) === '>' && r.slice(0, -1).join('').endsWith(echoed),
      'the echo',
    );
  });

  test('lines from a running command while the next one is typed ahead', async (t) => {
    if (skip(t)) return;
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const tty = start(t, dir);
    await tty.waitFor((r) => r.at(-1) === '>', 'the prompt');
    tty.type('/tick 15 40');
    tty.keys('Enter');
    await tty.waitFor((r) => r.includes('tick 1/15'), 'the first tick');
    tty.type('/echo typed during ticks');
    const rows = await tty.waitFor((r) => r.includes('tick 15/15'), 'the last tick');
    assert.equal(rows.at(-1), '> /echo typed during ticks');
    assert.equal(rows.at(-2), 'tick 15/15');
    tty.keys('Enter');
    await tty.waitFor((r) => r.at(-2) === 'typed during ticks', 'the typed-ahead command to run');
  });

  test('history recall with Up survives a restart; tab completes commands and arguments', async (t) => {
    if (skip(t)) return;
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    let tty = start(t, dir);
    await tty.waitFor((r) => r.at(-1) === '>', 'the prompt');
    tty.type('/echo first');
    tty.keys('Enter');
    await tty.waitFor((r) => r.at(-2) === 'first', 'first');
    tty.type('/echo second');
    tty.keys('Enter');
    await tty.waitFor((r) => r.at(-2) === 'second', 'second');
    tty.keys('Up');
    await tty.waitFor((r) => r.at(-1) === '> /echo second', 'Up recalls the last command');
    tty.keys('Up');
    await tty.waitFor((r) => r.at(-1) === '> /echo first', 'Up again recalls the one before');
    tty.keys('Down', 'C-e', 'C-u');
    await tty.waitFor((r) => r.at(-1) === '>', 'the cleared line');

    tty.type('/gre');
    tty.keys('Tab');
    await tty.waitFor((r) => r.at(-1) === '> /greet', 'the command name completed');
    tty.keys('BSpace');
    // Tabs go one per write with a visible effect in between: readline takes several tabs
    // arriving in one read for pasted text and inserts them.
    tty.type(' ch');
    tty.keys('Tab');
    await tty.waitFor((r) => r.at(-1) === '> /greet charl', 'the common prefix of the candidates');
    tty.keys('Tab');
    await tty.waitFor((r) => r.some((l) => /charlotte\s+charly/.test(l)), 'both candidates listed');
    tty.type('o');
    tty.keys('Tab');
    await tty.waitFor((r) => r.at(-1) === '> /greet charlotte', 'the argument completed');
    tty.keys('Enter');
    await tty.waitFor((r) => r.at(-2) === '<info> hello charlotte', 'the greeting');

    tty.type('/exit');
    tty.keys('Enter');
    const historyFile = join(dir, 'history');
    await waitUntil(() => !tty.alive(), 'the demo to exit');
    assert.ok(existsSync(historyFile));
    assert.deepEqual(readFileSync(historyFile, 'utf8').split('\n'), [
      '/echo first',
      '/echo second',
      '/greet charlotte',
      '/exit',
      '',
    ]);

    tty = start(t, dir);
    await tty.waitFor((r) => r.at(-1) === '>', 'the prompt after the restart');
    tty.keys('Up');
    await tty.waitFor((r) => r.at(-1) === '> /exit', 'history from the file');
    tty.keys('Up');
    await tty.waitFor((r) => r.at(-1) === '> /greet charlotte', 'older history from the file');
  });

  test('Ctrl-C aborts the running command, and twice on an empty line leaves', async (t) => {
    if (skip(t)) return;
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const tty = start(t, dir);
    await tty.waitFor((r) => r.at(-1) === '>', 'the prompt');
    tty.type('/sleep 60');
    tty.keys('Enter');
    await tty.waitFor((r) => r.at(-2) === '> /sleep 60', 'sleep running');
    tty.keys('C-c');
    await tty.waitFor((r) => r.includes('/sleep: aborted'), 'the abort');
    tty.keys('C-c');
    await tty.waitFor((r) => r.some((l) => l.includes('press Ctrl-C again')), 'the hint');
    tty.keys('C-c');
    await waitUntil(() => !tty.alive(), 'the demo to leave');
  });
});
