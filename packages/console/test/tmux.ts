import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitUntil } from './proc.js';

/** True when tmux can run here. */
export function haveTmux(): boolean {
  return spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
}

/**
 * True when the test must be skipped because tmux is missing (it says so); in CI a missing tmux
 * is a broken environment, not a reason to pass, so the test fails instead.
 */
export function skipWithoutTmux(t: { skip(msg: string): void }): boolean {
  if (haveTmux()) return false;
  if (process.env.CI === 'true') assert.fail('tmux is required for the terminal UI test (CI=true)');
  t.skip('tmux is not installed; the terminal UI is untested here');
  return true;
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

/**
 * One tmux server of our own (its own socket name), so tests never touch the user's sessions or
 * each other's, with a single session running `command` in a window of `size` (120x30).
 */
export class TmuxSession {
  readonly socket = `isopeer-console-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(
    command: string[],
    size: { columns: number; rows: number } = { columns: 120, rows: 30 },
  ) {
    this.#tmux([
      'new-session',
      '-d',
      '-x',
      String(size.columns),
      '-y',
      String(size.rows),
      '-s',
      'main',
      ...command,
    ]);
    this.#socketPath = this.#tmux(['display-message', '-p', '#{socket_path}']).trim();
  }

  readonly #socketPath: string;

  #tmux(args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
    });
    if (r.status !== 0)
      throw new Error(`tmux ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
    return r.stdout;
  }

  /** Types text literally (no key names). */
  type(text: string): void {
    this.#tmux(['send-keys', '-t', 'main', '-l', text]);
  }

  /** Presses named keys: Enter, Up, Tab, C-u, C-c, ... */
  keys(...names: string[]): void {
    this.#tmux(['send-keys', '-t', 'main', ...names]);
  }

  /** Resizes the window (and so the terminal the program runs in). */
  resize(columns: number, rows: number): void {
    this.#tmux(['resize-window', '-t', 'main', '-x', String(columns), '-y', String(rows)]);
  }

  /** The visible screen, one string per row, trailing blanks removed; `escapes` keeps colours. */
  screen(escapes = false): string[] {
    const out = this.#tmux(['capture-pane', '-p', '-t', 'main', ...(escapes ? ['-e'] : [])]);
    return out
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => l.trimEnd());
  }

  /** Rows up to the last non-empty one. */
  rows(): string[] {
    const s = this.screen();
    while (s.length > 0 && s[s.length - 1] === '') s.pop();
    return s;
  }

  /** The last non-empty row: where the input line is. */
  inputLine(): string {
    return this.rows().at(-1) ?? '';
  }

  alive(): boolean {
    return spawnSync('tmux', ['-L', this.socket, 'has-session', '-t', 'main']).status === 0;
  }

  /** Waits until `pred` holds for the screen; on timeout the message shows the screen. */
  waitFor(pred: (rows: string[]) => boolean, what: string, ms = 10_000): Promise<string[]> {
    return waitUntil(
      () => {
        const rows = this.alive() ? this.rows() : [];
        return pred(rows) ? rows : undefined;
      },
      () => `${what}; screen:\n${this.alive() ? this.rows().join('\n') : '(session ended)'}`,
      ms,
    );
  }

  /** Stops the server and removes its socket file, which tmux leaves behind. */
  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
    rmSync(this.#socketPath, { force: true });
  }
}
