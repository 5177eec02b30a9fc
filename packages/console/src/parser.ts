import { ParseError } from './errors.js';

/**
 * Command-line word splitting.
 *
 * Words are separated by whitespace. A double quote starts a quoted part that runs to the next
 * unescaped double quote; quoted parts join the letters next to them into one word, so
 * `a"b c"d` is the single word `ab cd` and `""` is an empty word. Inside quotes `\"`, `\\`, `\n`
 * and `\t` are escapes; any other backslash is kept as it is, so Windows paths survive.
 * Outside quotes a backslash is an ordinary character.
 */

export interface Tokens {
  words: string[];
  /** True when the line ends inside an open quote (only with `partial`). */
  openQuote: boolean;
  /** True when the line ends with whitespace outside quotes (the next word has not begun). */
  endsWithSpace: boolean;
  /** Index in the line where the last word starts (the line's length when none has begun). */
  lastStart: number;
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t' };

/**
 * Splits `line` into words. With `partial` (used for tab completion of a line being typed) an
 * unterminated quote is accepted; otherwise it is a ParseError naming the column of the quote.
 */
export function tokenize(line: string, opts: { partial?: boolean } = {}): Tokens {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quoteStart = -1;
  let wordStart = line.length;
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (quoteStart >= 0) {
      if (c === '"') {
        quoteStart = -1;
      } else if (c === '\\' && i + 1 < line.length && ESCAPES[line[i + 1]] !== undefined) {
        word += ESCAPES[line[i + 1]];
        i++;
      } else {
        word += c;
      }
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      if (!inWord) wordStart = i;
      inWord = true;
      if (c === '"') quoteStart = i;
      else word += c;
    }
    i++;
  }
  if (quoteStart >= 0 && !opts.partial) {
    throw new ParseError('unterminated quote: a " was opened but never closed', quoteStart + 1);
  }
  const endsWithSpace = !inWord && line.length > 0 && /\s$/.test(line);
  if (inWord) words.push(word);
  return {
    words,
    openQuote: quoteStart >= 0,
    endsWithSpace,
    lastStart: inWord ? wordStart : line.length,
  };
}

/**
 * Parses `/name arg1 "arg 2"` into its command name and arguments. The leading `/` is optional
 * here (script lines may omit it); callers decide whether a line is a command at all.
 * Throws ParseError for an empty line, a missing name or an unterminated quote.
 */
export function parseCommandLine(line: string): { name: string; args: string[] } {
  const lead = line.length - line.trimStart().length;
  const trimmed = line.trim();
  const slash = trimmed.startsWith('/') ? 1 : 0;
  const body = trimmed.slice(slash);
  if (body.length === 0) {
    throw new ParseError('empty command: expected /name [arguments]', lead + 1);
  }
  if (/^\s/.test(body)) {
    throw new ParseError('missing command name after "/"', lead + 2);
  }
  let words: string[];
  try {
    ({ words } = tokenize(body));
  } catch (err) {
    // Columns count from the start of the line the user typed.
    if (err instanceof ParseError) throw new ParseError(err.reason, err.column + lead + slash);
    throw err;
  }
  const [name, ...args] = words;
  if (name === undefined || name.length === 0) {
    throw new ParseError('missing command name', 1);
  }
  return { name, args };
}

/** The text after the command name, for commands that take free text (e.g. `/msg`). */
export function rawArguments(line: string): string {
  const body = line.trim().replace(/^\//, '');
  const m = /^\S+\s*/.exec(body);
  return m ? body.slice(m[0].length).trimEnd() : '';
}

/** Quotes a word so that tokenize() gives it back unchanged (used by completion). */
export function quoteWord(word: string): string {
  if (word.length > 0 && !/[\s"]/.test(word)) return word;
  return `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}
