import type { Console } from './console.js';

/** What a command handler may return: false (or a throw) means failure. */
// biome-ignore lint/suspicious/noConfusingVoidType: lets handlers be plain `async` functions.
export type RunReturn = Promise<void | boolean> | void | boolean;

/** The kinds of output lines; the UI colours them and test filters select on them. */
export type LineKind = 'text' | 'message' | 'info' | 'warn' | 'error';

export const LINE_KINDS: readonly LineKind[] = ['text', 'message', 'info', 'warn', 'error'];

export interface OutputLine {
  kind: LineKind;
  text: string;
  /** Milliseconds since the epoch when the line was emitted. */
  ts: number;
  /** Who produced the line: the command name, or a subsystem such as `chat`. */
  source?: string;
  /**
   * Set for text that may be broken between words to fit a terminal (help, descriptions); rows
   * after the first are indented by this many spaces. Lines without it are never re-broken.
   */
  wrapIndent?: number;
}

export interface LineOptions {
  /** See `OutputLine.wrapIndent`. */
  wrapIndent?: number;
}

export interface CommandResult {
  ok: boolean;
  /** Every line the command (and commands it ran, e.g. from a script) wrote. */
  lines: OutputLine[];
  error?: string;
}

/** Writes typed lines to the console's output stream. */
export interface LineWriter {
  text(s: string, opts?: LineOptions): void;
  info(s: string, opts?: LineOptions): void;
  warn(s: string, opts?: LineOptions): void;
  error(s: string, opts?: LineOptions): void;
  message(s: string, opts?: LineOptions): void;
}

export interface CommandContext {
  console: Console;
  out: LineWriter;
  /** Aborted when the console closes or the caller cancels the command (Ctrl-C in the UI). */
  signal: AbortSignal;
  /** The command name as typed (without `/`). */
  name: string;
  /** The text after the command name, unsplit and trimmed (for commands taking free text). */
  rawArgs: string;
}

export interface CommandSpec {
  name: string;
  group: string;
  /** Usage line, e.g. `broadcastadd <key> <message>` (the leading command name is optional). */
  usage: string;
  /** One-line description shown by `/help`. */
  description: string;
  /** Throw or return false for failure. Throwing a UsageError prints the usage line. */
  run(args: string[], ctx: CommandContext): RunReturn;
  /**
   * Completion candidates for the argument at `argIndex` (0-based) that starts with `partial`;
   * `args` holds the complete arguments before it.
   */
  complete?(argIndex: number, partial: string, ctx: CommandContext, args: string[]): string[];
  /** When set, the console checks the argument count and prints the usage on a mismatch. */
  minArgs?: number;
  maxArgs?: number;
}
