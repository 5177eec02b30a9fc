// Distribution summaries for benchmark samples.

/** Linear-interpolated quantile of sorted numbers (q in [0, 1]). */
export function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * min/p25/median/p75/max of the finished samples; `missing` counts runs that did not finish
 * within the cap (null samples), which the quantiles cannot include.
 */
export function summarize(samples) {
  const done = samples.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  return {
    runs: samples.length,
    missing: samples.length - done.length,
    min: done[0] ?? null,
    p25: quantile(done, 0.25),
    median: quantile(done, 0.5),
    p75: quantile(done, 0.75),
    max: done.at(-1) ?? null,
  };
}

/** Milliseconds as a short human string. */
export function fmtMs(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
