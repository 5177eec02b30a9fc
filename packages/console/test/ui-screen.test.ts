import assert from 'node:assert/strict';
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { wordWrap } from '../src/ui.js';
import { demoPath, tempDir } from './helpers.js';
import { runToEnd } from './proc.js';
import { openFeed, skipWithoutTmux, TmuxSession } from './tmux.js';

/**
 * What the terminal UI leaves on a real screen (tmux): resizing with a wrapped input line keeps
 * every received line on screen exactly once and the input line once; leaving leaves no stray
 * prompt; help text breaks between words. Every wait is on a screen condition.
 */
describe('the screen under tmux', () => {
  test('resizing with a wrapped input line: every received line on screen exactly once', async (t) => {
    if (skipWithoutTmux(t)) return;
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const { fifo, feed } = openFeed(t, dir);
    const tty = new TmuxSession(['env', 'NO_COLOR=1', process.execPath, demoPath, '--feed', fifo], {
      columns: 100,
      rows: 24,
    });
    t.after(() => tty.kill());
    await tty.waitFor((r) => r.at(-1) === '>', 'the prompt');
    const received = ['received one', 'received two', 'received three'];
    writeSync(feed, `${received.join('\n')}\n`);
    await tty.waitFor((r) => r.includes('received three'), 'the received lines');
    const typed = Array.from({ length: 30 }, (_, i) => `word${String(i).padStart(3, '0')}`).join(
      ' ',
    );
    tty.type(typed);
    const input = `> ${typed}`;
    await tty.waitFor(
      (r) => r.join('').replace(/ /g, '').endsWith(input.replace(/ /g, '')),
      'the typed line',
    );

    const check = async (columns: number, also: string[] = []) => {
      const lines = [...received, ...also];
      // The terminal breaks the input line every `columns` characters (rows lose trailing blanks).
      const inputRows = (input.match(new RegExp(`.{1,${columns}}`, 'g')) ?? []).map((r) =>
        r.trimEnd(),
      );
      const rows = await tty.waitFor(
        // The terminal reflows at once and the demo redraws a moment later: wait for the end state.
        (r) =>
          r.filter((l) => l.startsWith('> ')).length === 1 &&
          r.slice(-inputRows.length).join('\n') === inputRows.join('\n') &&
          lines.every((l) => r.filter((x) => x === l).length === 1),
        `the screen at ${columns} columns`,
      );
      for (const l of lines) {
        assert.equal(
          rows.filter((r) => r === l).length,
          1,
          `${l} once at ${columns}: ${rows.join('\n')}`,
        );
      }
      const start = rows.findIndex((r) => r.startsWith('> '));
      assert.deepEqual(rows.slice(start), inputRows, `input at ${columns}`);
      assert.deepEqual(rows.slice(0, start), lines, `only the received lines above the input`);
    };
    await check(100);
    tty.resize(40, 24);
    await check(40);
    tty.resize(100, 24);
    await check(100);
    tty.resize(40, 24);
    await check(40);
    writeSync(feed, 'received four\n');
    await check(40, ['received four']);
    tty.resize(70, 24);
    await check(70, ['received four']);
  });

  test('leaving leaves no stray prompt below the last line', async (t) => {
    if (skipWithoutTmux(t)) return;
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const tty = new TmuxSession([
      'sh',
      '-c',
      `NO_COLOR=1 ${process.execPath} ${demoPath} --history ${join(dir, 'h')}; echo DEMO-ENDED; sleep 60`,
    ]);
    t.after(() => tty.kill());
    await tty.waitFor((r) => r.at(-1) === '>', 'the prompt');
    tty.type('/echo bye');
    tty.keys('Enter');
    await tty.waitFor((r) => r.includes('bye'), 'the echo');
    tty.type('/exit');
    tty.keys('Enter');
    const rows = await tty.waitFor((r) => r.includes('DEMO-ENDED'), 'the end');
    const after = rows.slice(rows.indexOf('> /exit') + 1, rows.indexOf('DEMO-ENDED'));
    assert.deepEqual(after, [], `nothing between the command and the shell: ${rows.join('\n')}`);
  });

  test('help text breaks between words at the terminal edge', async (t) => {
    if (skipWithoutTmux(t)) return;
    // The same text without a terminal: one line per entry, as the console wrote it.
    const plain = await runToEnd(process.execPath, [demoPath], '/help\n/help groups cli\n');
    const words = plain.stdout.split(/\s+/).filter(Boolean).sort();
    const tty = new TmuxSession(['env', 'NO_COLOR=1', process.execPath, demoPath], {
      columns: 40,
      rows: 60,
    });
    t.after(() => tty.kill());
    await tty.waitFor((r) => r.at(-1) === '>', 'the prompt');
    tty.type('/help');
    tty.keys('Enter');
    await tty.waitFor((r) => r.some((l) => l.includes('/help <command> shows')), 'the help');
    tty.type('/help groups cli');
    tty.keys('Enter');
    const rows = await tty.waitFor(
      (r) => r.at(-1) === '>' && r.some((l) => l.startsWith('cli:')),
      'the group help',
    );
    const shown = rows
      .filter((l) => !l.startsWith('>'))
      .join(' ')
      .split(/\s+/)
      .filter(Boolean)
      .sort();
    assert.deepEqual(shown, words, 'the same words, none cut in two');
    assert.ok(rows.every((r) => r.length <= 40));
  });
});

describe('wordWrap', () => {
  test('breaks between words, indents continuation rows, cuts only words longer than a row', () => {
    assert.deepEqual(wordWrap('short', 10), ['short']);
    assert.deepEqual(wordWrap('cli: /help /log /loglevel /script', 16, 5), [
      'cli: /help /log',
      '     /loglevel',
      '     /script',
    ]);
    assert.deepEqual(wordWrap('abcdefghijklmnop qr', 6, 2), [
      'abcdef',
      '  ghij',
      '  klmn',
      '  op',
      '  qr',
    ]);
    for (const row of wordWrap('a '.repeat(50), 7, 3)) assert.ok(row.length <= 7, row);
  });
});
