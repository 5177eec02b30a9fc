import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Finished, runToEnd } from '@isopeer/test-support';
import { Console, type ConsoleOptions } from '../src/index.js';

export const demoPath = fileURLToPath(new URL('../src/demo.js', import.meta.url));

/** Runs the demo over pipes with `stdin` as its input, to its end (it must end within 20 s). */
export async function runDemo(args: string[], stdin: string): Promise<Finished> {
  const r = await runToEnd(process.execPath, [demoPath, ...args], {
    stdin,
    env: { ...process.env, NO_COLOR: '' },
  });
  if (r.timedOut) throw new Error(`the demo did not end with its input; output:\n${r.output}`);
  return r;
}

/** A fresh temporary directory removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'isopeer-console-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A console with the built-in commands, closed after the test. */
export function makeConsole(
  t: { after(fn: () => unknown): void },
  opts: ConsoleOptions = {},
): Console {
  const c = new Console(opts);
  t.after(() => c.close());
  return c;
}

/** Texts of a result's lines, optionally of one kind. */
export function texts(lines: { kind: string; text: string }[], kind?: string): string[] {
  return lines.filter((l) => kind === undefined || l.kind === kind).map((l) => l.text);
}

/**
 * A FIFO in `dir` for the demo's `--feed` and a descriptor to write incoming lines to; both are
 * closed after the test. Opened read-write so the open does not block on Linux.
 */
export function openFeed(
  t: { after(fn: () => unknown): void },
  dir: string,
): { fifo: string; feed: number } {
  const fifo = join(dir, 'feed');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  const feed = openSync(fifo, 'r+');
  t.after(() => closeSync(feed));
  return { fifo, feed };
}
