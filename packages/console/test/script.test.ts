import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { quoteWord } from '../src/index.js';
import { parseScript } from '../src/script.js';
import { makeConsole, tempDir, texts } from './helpers.js';

const node = quoteWord(process.execPath);

describe('/execute', () => {
  test('parseScript skips comments and blank lines and keeps line numbers', () => {
    assert.deepEqual(
      parseScript('# head\n\n  /echo a  \r\necho b # not a comment\n   # indented comment\n'),
      [
        { lineNo: 3, text: '/echo a' },
        { lineNo: 4, text: 'echo b # not a comment' },
      ],
    );
    assert.throws(() => parseScript('a\u0000b', 'x.cmd'), /x.cmd is not a text file/);
  });

  test('runs a script with comments; stops at the failing line and names it', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const c = makeConsole(t);
    const file = join(dir, 'steps.cmd');
    writeFileSync(
      file,
      ['# a comment', '', '/echo one', 'echo "two words"', '/nosuch x', '/echo never'].join('\n'),
    );
    const r = await c.execute(`/execute ${quoteWord(file)}`);
    assert.equal(r.ok, false);
    assert.deepEqual(texts(r.lines, 'text'), ['one', 'two words']);
    const errors = texts(r.lines, 'error');
    assert.match(errors[0], /unknown command \/nosuch/);
    assert.equal(errors[1], `${file}:5: failed: /nosuch x (${errors[0]})`);
    assert.equal(errors[2], `${file}: stopped at line 5 (use --continue to run past failures)`);
    assert.ok(!texts(r.lines).includes('never'));
    assert.match(r.error!, /stopped at line 5/);
  });

  test('--continue runs past failures and reports each failing line and the count', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const c = makeConsole(t);
    const file = join(dir, 'steps.cmd');
    writeFileSync(
      file,
      ['/echo one', '/sleep abc', '# skip', '/echo three', 'shell', '/echo five'].join('\n'),
    );
    const r = await c.execute(`/execute ${quoteWord(file)} --continue`);
    assert.equal(r.ok, false);
    assert.deepEqual(texts(r.lines, 'text'), ['one', 'three', 'five']);
    const failed = texts(r.lines, 'error').filter((l) => l.includes(': failed: '));
    assert.deepEqual(
      failed.map((l) => l.split(' (')[0]),
      [`${file}:2: failed: /sleep abc`, `${file}:5: failed: shell`],
    );
    assert.equal(texts(r.lines, 'info').at(-1), `${file}: 5 command(s) run, 2 failed`);
    const ok = join(dir, 'ok.cmd');
    writeFileSync(ok, '/echo fine\n');
    assert.equal((await c.execute(`/execute --continue ${quoteWord(ok)}`)).ok, true);
  });

  test('scripts may run scripts; a script running itself hits the depth limit', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const c = makeConsole(t, { maxDepth: 4 });
    const inner = join(dir, 'inner.cmd');
    const outer = join(dir, 'outer.cmd');
    const self = join(dir, 'self.cmd');
    writeFileSync(inner, '/echo from inner\n');
    writeFileSync(outer, `/execute ${quoteWord(inner)}\n/echo after\n`);
    writeFileSync(self, `/execute ${quoteWord(self)}\n`);
    const r = await c.execute(`/execute ${quoteWord(outer)}`);
    assert.equal(r.ok, true);
    assert.deepEqual(texts(r.lines, 'text'), ['from inner', 'after']);
    const loop = await c.execute(`/execute ${quoteWord(self)}`);
    assert.equal(loop.ok, false);
    assert.ok(texts(loop.lines, 'error').some((l) => /nested deeper than 4/.test(l)));
  });

  test('missing and binary script files get a clear error', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const c = makeConsole(t);
    const missing = await c.execute(`/execute ${quoteWord(join(dir, 'none.cmd'))}`);
    assert.match(missing.error!, /cannot read script .*none\.cmd: ENOENT/);
    const bin = join(dir, 'bin.cmd');
    writeFileSync(bin, Buffer.from([0x2f, 0x65, 0x00, 0x01]));
    assert.match((await c.execute(`/execute ${quoteWord(bin)}`)).error!, /not a text file/);
    assert.match((await c.execute('/execute a b')).error!, /expected one script file/);
  });

  test('closing the console aborts a running script', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const c = makeConsole(t);
    const file = join(dir, 'long.cmd');
    writeFileSync(file, '/sleep 60\n/echo never\n');
    // The script echoes each line before running it: the first line means /sleep is starting.
    const started = new Promise((resolve) => c.once('line', resolve));
    const p = c.execute(`/execute ${quoteWord(file)}`);
    await started;
    await c.close();
    const r = await p;
    assert.equal(r.ok, false);
    assert.ok(!texts(r.lines).includes('never'));
  });
});

describe('/echo and /sleep', () => {
  test('/echo joins its arguments; no arguments prints an empty line', async (t) => {
    const c = makeConsole(t);
    assert.deepEqual(texts((await c.execute('/echo a   "b  c"')).lines), ['a b  c']);
    assert.deepEqual(texts((await c.execute('/echo')).lines), ['']);
  });

  test('/sleep waits, accepts fractions, rejects bad values with the usage', async (t) => {
    const c = makeConsole(t);
    const t0 = performance.now();
    assert.equal((await c.execute('/sleep 0.05')).ok, true);
    assert.ok(performance.now() - t0 >= 45);
    for (const bad of ['-1', 'abc', '1e3', '100000']) {
      const r = await c.execute(`/sleep ${bad}`);
      assert.equal(r.ok, false, bad);
      assert.match(r.error!, /usage: \/sleep <seconds>/);
    }
  });
});

describe('/shell', () => {
  test('passes any number of arguments verbatim (no shell) and shows stdout, stderr and exit code', async (t) => {
    const c = makeConsole(t);
    const script = quoteWord(
      'const a = process.argv.slice(1); console.log(JSON.stringify(a)); console.error("to stderr"); process.exit(0)',
    );
    const r = await c.execute(`/shell ${node} -e ${script} one "two words" '$HOME' "*" ""`);
    assert.equal(r.ok, true, r.error);
    assert.deepEqual(texts(r.lines, 'text'), [
      JSON.stringify(['one', 'two words', "'$HOME'", '*', '']),
    ]);
    assert.deepEqual(texts(r.lines, 'warn'), ['to stderr']);
    assert.match(texts(r.lines, 'info').at(-1)!, /exit code 0$/);
  });

  test('a non-zero exit code fails the command and is shown', async (t) => {
    const c = makeConsole(t);
    const r = await c.execute(
      `/shell ${node} -e "process.stdout.write('partial'); process.exit(7)"`,
    );
    assert.equal(r.ok, false);
    assert.deepEqual(texts(r.lines, 'text'), ['partial']);
    assert.match(r.error!, /exit code 7$/);
  });

  test('timeout kills the program and everything it started', async (t) => {
    const c = makeConsole(t);
    const started = performance.now();
    const r = await c.execute(`/shell --timeout 0.5 sh -c "sleep 30 & echo $!; wait"`);
    assert.equal(r.ok, false);
    assert.match(r.error!, /timed out after 0.5 s and was killed/);
    assert.ok(performance.now() - started < 10_000, 'did not wait for sleep 30');
    const grandchild = Number(texts(r.lines, 'text')[0]);
    assert.ok(grandchild > 0);
    const deadline = Date.now() + 5000;
    while (isAlive(grandchild)) {
      assert.ok(Date.now() < deadline, `grandchild ${grandchild} survived the timeout`);
      await delay(20);
    }
  });

  test('a program that ignores SIGTERM is killed with SIGKILL', async (t) => {
    const c = makeConsole(t);
    const r = await c.execute(
      `/shell --timeout 0.3 ${node} -e "process.on('SIGTERM', () => console.log('ignoring')); setInterval(() => {}, 1000)"`,
    );
    assert.equal(r.ok, false);
    assert.match(r.error!, /timed out/);
  });

  test('errors: missing program, bad options', async (t) => {
    const c = makeConsole(t);
    assert.match(
      (await c.execute('/shell no-such-program-xyz')).error!,
      /cannot run no-such-program-xyz: program not found/,
    );
    assert.match((await c.execute('/shell --timeout x ls')).error!, /--timeout must be a number/);
    assert.match((await c.execute('/shell --bogus ls')).error!, /unknown option --bogus/);
    assert.match((await c.execute('/shell --timeout 1')).error!, /missing program/);
    assert.equal((await c.execute(`/shell -- ${node} -e 0`)).ok, true);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
