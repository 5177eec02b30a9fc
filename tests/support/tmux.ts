// A terminal for the end-to-end tests: a tmux server of our own (its own socket, so the user's
// sessions and other tests are never touched) with one session running a command.
import { spawnSync } from 'node:child_process';

export const haveTmux = spawnSync('tmux', ['-V']).status === 0;

let sessions = 0;

export class Tmux {
  readonly socket = `isopeer-e2e-${process.pid}-${++sessions}`;

  constructor(
    command: string[],
    size: { columns: number; rows: number } = { columns: 110, rows: 30 },
  ) {
    this.run([
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
  }

  run(args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`tmux ${args[0]}: ${r.stderr}`);
    return r.stdout;
  }

  /** Types text literally. */
  type(text: string): void {
    this.run(['send-keys', '-t', 'main', '-l', text]);
  }

  /** Presses named keys: Enter, Up, Tab, C-c, C-d, ... */
  keys(...names: string[]): void {
    this.run(['send-keys', '-t', 'main', ...names]);
  }

  resize(columns: number, rows: number): void {
    this.run(['resize-window', '-t', 'main', '-x', String(columns), '-y', String(rows)]);
  }

  /** The visible screen, one string per row, trailing blanks removed. */
  screen(): string[] {
    return this.run(['capture-pane', '-p', '-t', 'main'])
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => l.trimEnd());
  }

  /** The input line: the last non-empty row of the screen. */
  inputLine(): string {
    return (
      this.screen()
        .filter((l) => l !== '')
        .at(-1) ?? ''
    );
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}
