/**
 * Typed errors of the console. Every error carries a stable `code` so applications and tests can
 * react to the kind of failure without matching message text.
 */
export class ConsoleError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ConsoleError';
    this.code = code;
  }
}

/** A command line or script line that cannot be split into words. */
export class ParseError extends ConsoleError {
  /** 1-based column of the character that made the line invalid. */
  readonly column: number;
  /** The message without the column. */
  readonly reason: string;
  constructor(reason: string, column: number) {
    super('CONSOLE_PARSE', `${reason} (column ${column})`);
    this.name = 'ParseError';
    this.column = column;
    this.reason = reason;
  }
}

/**
 * Thrown by a command (or by the console for `minArgs`/`maxArgs`) when its arguments do not fit;
 * the console answers with the command's usage line.
 */
export class UsageError extends ConsoleError {
  constructor(message = 'wrong arguments') {
    super('CONSOLE_USAGE', message);
    this.name = 'UsageError';
  }
}

/** A command registered under a name another command already has. */
export class DuplicateCommandError extends ConsoleError {
  /** The name that is taken. */
  readonly command: string;
  constructor(command: string) {
    super('CONSOLE_DUPLICATE_COMMAND', `command /${command} is already registered`);
    this.name = 'DuplicateCommandError';
    this.command = command;
  }
}
