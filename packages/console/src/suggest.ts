/** Levenshtein edit distance (insert, delete, substitute), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    prev = cur;
  }
  return prev[t.length];
}

/**
 * The known names closest to `input`: names it is a prefix of, and names within an edit
 * distance that grows with the length of the input (a third of it, at least 2), best first.
 */
export function closestNames(input: string, known: Iterable<string>, max = 3): string[] {
  const limit = Math.max(2, Math.floor(input.length / 3));
  const lower = input.toLowerCase();
  const scored: { name: string; score: number }[] = [];
  for (const name of known) {
    const d = editDistance(input, name);
    const prefix = lower.length > 0 && name.toLowerCase().startsWith(lower);
    if (d <= limit || prefix) scored.push({ name, score: prefix ? Math.min(d, 1) : d });
  }
  scored.sort((x, y) => x.score - y.score || x.name.localeCompare(y.name));
  return scored.slice(0, max).map((s) => s.name);
}

/**
 * Commands to suggest for a name that is not one: the closest names, then names containing it
 * (`/help member` finds every command with "member" in its name), at most `max`.
 */
export function suggestCommands(input: string, names: readonly string[], max = 5): string[] {
  const lower = input.toLowerCase();
  const containing = lower.length >= 3 ? names.filter((n) => n.toLowerCase().includes(lower)) : [];
  return [...new Set([...closestNames(input, names), ...containing])].slice(0, max);
}

/** `; did you mean /a, /b?` for the suggestions, or '' when there are none. */
export function didYouMean(input: string, names: readonly string[]): string {
  const near = suggestCommands(input, names);
  return near.length ? `; did you mean ${near.map((n) => `/${n}`).join(', ')}?` : '';
}
