import { ConsoleError } from './errors.js';

export interface ScriptLine {
  /** 1-based line number in the file. */
  lineNo: number;
  /** The command as written (trimmed). */
  text: string;
}

/** Largest script accepted; a bigger file is almost certainly the wrong file. */
export const MAX_SCRIPT_BYTES = 1024 * 1024;

/**
 * Splits a script into its command lines: one command per line, the leading `/` optional, lines
 * whose first non-blank character is `#` are comments, blank lines are skipped. A `#` later in a
 * line is part of the command (chat text may contain it).
 */
export function parseScript(text: string, source = 'script'): ScriptLine[] {
  if (text.includes('\u0000')) {
    throw new ConsoleError(
      'CONSOLE_SCRIPT',
      `${source} is not a text file (it contains NUL bytes)`,
    );
  }
  const lines: ScriptLine[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const t = raw.trim();
      if (t === '' || t.startsWith('#')) return;
      lines.push({ lineNo: i + 1, text: t });
    });
  return lines;
}
