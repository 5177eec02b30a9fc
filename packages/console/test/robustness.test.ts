import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { HistoryFile } from '../src/history.js';
import { Console } from '../src/index.js';
import { runProgram } from '../src/shell.js';
import { tempDir } from './helpers.js';

describe('untrusted input never escapes as an exception', () => {
  test('property: execute() resolves for any line, with an error message when it fails', async () => {
    const c = new Console();
    c.register({ name: 'ok', group: 'x', usage: 'ok', description: 'does nothing', run() {} });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.string(),
            fc.string().map((s) => `/${s}`),
            fc.string().map((s) => `/help ${s}`),
          ),
          async (line) => {
            const r = await c.execute(line);
            assert.equal(typeof r.ok, 'boolean');
            if (!r.ok) assert.ok(r.error && r.error.length > 0);
          },
        ),
        { numRuns: 500 },
      );
    } finally {
      await c.close();
    }
  });
});

describe('HistoryFile', () => {
  test('keeps the newest entries up to the limit, drops consecutive duplicates and multi-line entries', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const file = join(dir, 'h');
    const h = new HistoryFile(file, 3);
    assert.deepEqual(h.load(), []);
    for (const e of ['/a', '/a', '/b  ', '', 'x\ny', '/c', '/d']) h.add(e);
    await h.flush();
    assert.deepEqual(readFileSync(file, 'utf8'), '/b\n/c\n/d\n');
    assert.deepEqual(new HistoryFile(file, 2).load(), ['/c', '/d']);
  });

  test('a history path that cannot be read or written is reported, not thrown', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    // A directory where the file should be: fails for every user, root included.
    const path = join(dir, 'history');
    mkdirSync(path);
    const errors: string[] = [];
    const h = new HistoryFile(path, 10, (e) => errors.push(e.message));
    assert.deepEqual(h.load(), []);
    h.add('/new');
    await h.flush();
    assert.match(errors[0], /cannot read history .*EISDIR/);
    assert.match(errors[1], /cannot save history/);
    assert.deepEqual(h.entries, ['/new']);
    assert.deepEqual(readdirSync(dir), ['history'], 'no temporary file left behind');
  });
});

describe('runProgram', () => {
  test('an abort signal stops the program and says so', async () => {
    const ac = new AbortController();
    const lines: string[] = [];
    const p = runProgram(
      process.execPath,
      ['-e', 'console.log("up"); setInterval(() => {}, 1000)'],
      {
        signal: ac.signal,
        onStdout: (l) => {
          lines.push(l);
          ac.abort();
        },
        onStderr: () => {},
      },
    );
    const r = await p;
    assert.deepEqual(lines, ['up']);
    assert.equal(r.aborted, true);
    assert.equal(r.signal, 'SIGTERM');
  });

  test('output split across reads and without a final newline comes out as whole lines', async () => {
    const lines: string[] = [];
    const r = await runProgram(
      process.execPath,
      [
        '-e',
        'process.stdout.write("a"); setTimeout(() => process.stdout.write("b\\r\\nc\\u00e9"), 20)',
      ],
      { onStdout: (l) => lines.push(l), onStderr: () => {} },
    );
    assert.equal(r.code, 0);
    assert.deepEqual(lines, ['ab', 'cé']);
  });
});
