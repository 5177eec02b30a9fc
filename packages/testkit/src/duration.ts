import { ScriptSyntaxError } from './errors.js';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/** True when `text` looks like a duration with a unit (`250ms`, `1.5s`, `2m`). */
export function isDuration(text: string): boolean {
  return DURATION.test(text);
}

/**
 * Parses `250ms`, `30s`, `1.5s`, `2m` into milliseconds. A unit is required so that a bare
 * number in a script is never silently read as the wrong unit.
 */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text);
  if (!m) {
    throw new ScriptSyntaxError(
      `bad duration ${JSON.stringify(text)}: expected a number with unit ms, s or m (e.g. 30s)`,
    );
  }
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
  if (ms <= 0) throw new ScriptSyntaxError(`bad duration ${JSON.stringify(text)}: must be > 0`);
  return ms;
}

/** Human form used in reports: `850 ms`, `1.25 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
