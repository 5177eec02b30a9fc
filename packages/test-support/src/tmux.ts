/**
 * A real terminal for tests: a tmux server of our own (its own socket name, so tests never touch
 * the user's sessions or each other's) with one session running a command. Used by the console's
 * terminal UI tests and by the end-to-end tests of `isopeer chat`.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { waitUntil } from './wait.js';

let available: boolean | undefined;

/** True when tmux can run here. */
export function haveTmux(): boolean {
  available ??= spawnSync('tmux', ['-V']).status === 0;
  return available;
}

/** For the skip contract (`partMissing`, `skipIfMissing`): why tmux tests cannot run, or null. */
export function tmuxMissing(): string | null {
  return haveTmux() ? null : 'tmux is not installed; the terminal tests cannot run';
}

let sessions = 0;

export class TmuxSession {
  readonly socket = `isopeer-test-${process.pid}-${++sessions}`;
  readonly #socketPath: string;

  /** Starts `command` in a window of `size` (default 120 columns, 30 rows). */
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

  /** Presses named keys: Enter, Up, Tab, C-u, C-c, C-d, ... */
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

  /** Whether the session still runs (it ends with its command unless the command keeps it). */
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
