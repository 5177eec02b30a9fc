import { type CountSpec, formatFilter, MESSAGES_VIEW, parseTextMatcher } from '../filter.js';
import type { FilterRecord } from '../run.js';

/** Lines of a peer's output searched for near misses, from its end; longer lines are cut. */
const SEARCH_LINES = 5_000;
const LINE_CHARS = 400;
const SHOWN_CHARS = 120;

/** `1 line`, `2 lines`, `at least 2 lines`, `at most 3 lines`, `1 to 3 lines`. */
export function describeCount(c: CountSpec): string {
  const lines = (n: number) => `${n} line${n === 1 ? '' : 's'}`;
  if (c.min === c.max) return lines(c.min);
  if (c.max === Infinity) return `at least ${lines(c.min)}`;
  if (c.min === 0) return `at most ${lines(c.max)}`;
  return `${c.min} to ${c.max} lines`;
}

/**
 * Why an expected event failed, as a person reads it:
 * `alice expected 1 line starting "<bob> hello", saw 0; closest: "<bob> helo"`.
 * `output` is what the peer showed (its log); the closest lines are given when too few matched.
 */
export function describeFilterFailure(f: FilterRecord, output?: readonly string[]): string {
  const matcher = parseTextMatcher(f.filter);
  const what = matcher.kind === 'prefix' ? `starting ${quote(f.filter)}` : `matching ${f.filter}`;
  const from = f.source === MESSAGES_VIEW ? '' : ` from source ${quote(f.source)}`;
  let text = `${f.peer} expected ${describeCount(f.count)}${from} ${what}, saw ${f.received}`;
  if (f.received < f.count.min && output) {
    const echo = formatFilter({ source: f.source, count: f.count, match: matcher });
    const near = closestLines(literalOf(f.filter), output, 3, (l) => !l.includes(echo));
    text += near.length
      ? `; closest: ${near.map((l) => quote(cut(l))).join(', ')}`
      : `; nothing like it in ${f.peer}'s output`;
  }
  return text;
}

/**
 * The lines of `output` most like `wanted`: smallest edit distance between `wanted` and any
 * part of the line (so a prefix like `info: ` does not count against it), at most a third
 * of `wanted` changed and at most one edit more than the best, best first. `keep` drops lines (e.g. the
 * test command's own echo of the filter).
 */
export function closestLines(
  wanted: string,
  output: readonly string[],
  n = 3,
  keep: (line: string) => boolean = () => true,
): string[] {
  if (!wanted) return [];
  const limit = Math.max(1, Math.floor(wanted.length / 3));
  const scored: { line: string; d: number; at: number }[] = [];
  const seen = new Set<string>();
  const from = Math.max(0, output.length - SEARCH_LINES);
  for (let i = output.length - 1; i >= from; i--) {
    const line = output[i];
    if (!line.trim() || seen.has(line) || !keep(line)) continue;
    seen.add(line);
    const d = substringDistance(wanted, line.slice(0, LINE_CHARS));
    if (d <= limit) scored.push({ line, d, at: i });
  }
  // Among equally near lines, those about as long as `wanted` first (less else going on), then
  // the later ones.
  const extra = (l: string) => Math.abs(l.length - wanted.length);
  scored.sort((a, b) => a.d - b.d || extra(a.line) - extra(b.line) || b.at - a.at);
  // Lines clearly worse than the best are noise next to it.
  const best = scored[0]?.d ?? 0;
  return scored
    .filter((s) => s.d <= best + 1)
    .slice(0, n)
    .map((s) => s.line);
}

/**
 * Fewest single-character edits turning `pattern` into some substring of `text` (Sellers'
 * approximate substring matching: a match may start and end anywhere in `text`).
 */
export function substringDistance(pattern: string, text: string): number {
  const m = pattern.length;
  let prev = new Array<number>(m + 1);
  let cur = new Array<number>(m + 1);
  for (let i = 0; i <= m; i++) prev[i] = i;
  let best = prev[m];
  for (let j = 1; j <= text.length; j++) {
    cur[0] = 0;
    const c = text.charCodeAt(j - 1);
    for (let i = 1; i <= m; i++) {
      const sub = prev[i - 1] + (pattern.charCodeAt(i - 1) === c ? 0 : 1);
      cur[i] = Math.min(sub, prev[i] + 1, cur[i - 1] + 1);
    }
    best = Math.min(best, cur[m]);
    [prev, cur] = [cur, prev];
  }
  return best;
}

/** The literal text a filter looks for: a prefix as is, a regex without its syntax. */
function literalOf(filter: string): string {
  const m = /^\/(.+)\/[imsu]*$/s.exec(filter);
  if (!m) return filter;
  return m[1].replace(/^\^|\$$/g, '').replace(/\\(.)/g, '$1');
}

function cut(s: string): string {
  return s.length <= SHOWN_CHARS ? s : `${s.slice(0, SHOWN_CHARS - 1)}…`;
}

function quote(s: string): string {
  return JSON.stringify(s);
}
