import { isDuration, parseDuration } from './duration.js';
import { ScriptSyntaxError } from './errors.js';

/**
 * How many matching lines a filter expects, as an inclusive range. The original only knew an
 * exact count; `>=2`, `<=3`, `>1`, `<4` and `1..3` are ours. `max` is Infinity when open.
 */
export interface CountSpec {
  min: number;
  max: number;
  /** As written in the script, e.g. `2`, `>=2`, `1..3`. */
  text: string;
}

/** What a line must look like: start with `text` (the original) or match a regular expression. */
export type TextMatcher =
  | { kind: 'prefix'; text: string }
  | { kind: 'regex'; text: string; re: RegExp };

export interface FilterSpec {
  /** `messagesView` (every line the user sees) or the `source` tag of a console line. */
  source: string;
  count: CountSpec;
  match: TextMatcher;
}

/** The source name of the original: the messages pane, i.e. every output line of the peer. */
export const MESSAGES_VIEW = 'messagesView';

const INT = '(0|[1-9]\\d{0,8})';
const EXACT = new RegExp(`^${INT}$`);
const RANGE = new RegExp(`^${INT}\\.\\.${INT}$`);
const BOUND = new RegExp(`^(>=|<=|>|<)${INT}$`);

export function parseCount(text: string): CountSpec {
  let m = EXACT.exec(text);
  if (m) return { min: Number(m[1]), max: Number(m[1]), text };
  m = RANGE.exec(text);
  if (m) {
    const min = Number(m[1]);
    const max = Number(m[2]);
    if (min > max)
      throw new ScriptSyntaxError(`bad count ${JSON.stringify(text)}: ${min} > ${max}`);
    return { min, max, text };
  }
  m = BOUND.exec(text);
  if (m) {
    const n = Number(m[2]);
    switch (m[1]) {
      case '>=':
        return { min: n, max: Infinity, text };
      case '>':
        return { min: n + 1, max: Infinity, text };
      case '<=':
        return { min: 0, max: n, text };
      default:
        if (n === 0)
          throw new ScriptSyntaxError(`bad count ${JSON.stringify(text)}: nothing is < 0`);
        return { min: 0, max: n - 1, text };
    }
  }
  throw new ScriptSyntaxError(
    `bad count ${JSON.stringify(text)}: expected N, >=N, <=N, >N, <N or A..B`,
  );
}

export function countSatisfied(count: CountSpec, received: number): boolean {
  return received >= count.min && received <= count.max;
}

const REGEX_LITERAL = /^\/(.+)\/([imsu]*)$/s;

export function parseTextMatcher(text: string): TextMatcher {
  if (text.length === 0) throw new ScriptSyntaxError('empty filter text');
  const m = REGEX_LITERAL.exec(text);
  if (!m) return { kind: 'prefix', text };
  try {
    return { kind: 'regex', text, re: new RegExp(m[1], m[2]) };
  } catch (err) {
    throw new ScriptSyntaxError(`bad regular expression ${text}: ${(err as Error).message}`);
  }
}

export function textMatches(match: TextMatcher, line: string): boolean {
  return match.kind === 'prefix' ? line.startsWith(match.text) : match.re.test(line);
}

/** Does an output line (its text and optional source tag) count for this filter? */
export function filterMatches(filter: FilterSpec, text: string, source?: string): boolean {
  if (filter.source !== MESSAGES_VIEW && filter.source !== source) return false;
  return textMatches(filter.match, text);
}

/** Canonical text of a filter, `<source> <count> <text>`, as shown in summaries. */
export function formatFilter(filter: FilterSpec): string {
  return `${filter.source} ${filter.count.text} ${filter.match.text}`;
}

const SOURCE = /^[A-Za-z][\w.-]*$/;

/**
 * Parses the arguments of `testfilter <source> <count> <text...>`. The text is the remaining
 * arguments joined by one space, as the original read the rest of the line.
 */
export function parseFilterArgs(args: readonly string[]): FilterSpec {
  if (args.length < 3) {
    throw new ScriptSyntaxError('usage: testfilter <source> <count> <text>');
  }
  if (!SOURCE.test(args[0])) throw new ScriptSyntaxError(`bad source ${JSON.stringify(args[0])}`);
  return {
    source: args[0],
    count: parseCount(args[1]),
    match: parseTextMatcher(args.slice(2).join(' ')),
  };
}

/**
 * Parses `testwait <source> <count> <text...> [timeout]`. The last argument is a timeout when it
 * is a duration with a unit and some text remains before it; quote the text to end it with one.
 */
export function parseWaitArgs(args: readonly string[]): { filter: FilterSpec; timeoutMs?: number } {
  if (args.length < 3) {
    throw new ScriptSyntaxError('usage: testwait <source> <count> <text> [timeout]');
  }
  const last = args[args.length - 1];
  if (args.length >= 4 && isDuration(last)) {
    return { filter: parseFilterArgs(args.slice(0, -1)), timeoutMs: parseDuration(last) };
  }
  return { filter: parseFilterArgs(args) };
}
