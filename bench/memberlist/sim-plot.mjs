#!/usr/bin/env node
// Draws sim-convergence.svg from two sim-convergence.mjs outputs (JSON lines): convergence time
// per cluster size with Go's scheduling (no catch-up push/pulls) beside isopeer's default.
//
//   node bench/memberlist/sim-plot.mjs <no-catchup.jsonl> <catchup.jsonl> [out.svg]
import { readFileSync, writeFileSync } from 'node:fs';

const [goFile, tsFile, out = new URL('./sim-convergence.svg', import.meta.url).pathname] =
  process.argv.slice(2);
const load = (f) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
const series = [
  { label: 'Go scheduling (catch-up off)', color: '#00add8', rows: load(goFile) },
  { label: 'isopeer default (catch-up on)', color: '#3178c6', rows: load(tsFile) },
];
const sizes = series[1].rows.map((r) => r.n);
const W = 860;
const H = 440;
const m = { l: 80, r: 20, t: 60, b: 60 };
const lo = 100;
const hi = 30_000;
const y = (ms) => {
  const v = Math.min(Math.max(ms, lo), hi);
  return (
    m.t +
    (H - m.t - m.b) * (1 - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)))
  );
};
const gw = (W - m.l - m.r) / sizes.length;
const parts = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  '<title>In-memory convergence time by cluster size, catch-up push/pull off and on</title>',
  `<rect width="${W}" height="${H}" fill="#fff"/>`,
  `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">In-memory convergence (virtual clock), DefaultLocalConfig, joins spread over 300 ms</text>`,
];
for (const t of [100, 300, 1000, 3000, 10000, 30000]) {
  parts.push(
    `<line x1="${m.l}" x2="${W - m.r}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/>`,
    `<text x="${m.l - 6}" y="${y(t) + 4}" text-anchor="end" fill="#555">${t >= 1000 ? `${t / 1000} s` : `${t} ms`}</text>`,
  );
}
sizes.forEach((n, gi) => {
  const gx = m.l + gi * gw;
  parts.push(
    `<text x="${gx + gw / 2}" y="${H - m.b + 20}" text-anchor="middle" font-weight="bold">N = ${n}</text>`,
  );
  series.forEach((s, si) => {
    const row = s.rows.find((r) => r.n === n);
    if (!row) return;
    const cx = gx + gw * (0.3 + 0.4 * si);
    for (const v of row.convergeAll) {
      parts.push(
        `<circle cx="${cx + (Math.random() - 0.5) * 14}" cy="${y(v)}" r="3" fill="${s.color}" fill-opacity="0.6"/>`,
      );
    }
    const med = row.convergeMs.p50;
    parts.push(
      `<line x1="${cx - 12}" x2="${cx + 12}" y1="${y(med)}" y2="${y(med)}" stroke="#000" stroke-width="2"/>`,
      `<text x="${cx}" y="${y(row.convergeMs.max) - 8}" text-anchor="middle" fill="#555" font-size="10">max ${row.convergeMs.max} ms</text>`,
    );
  });
});
series.forEach((s, i) => {
  parts.push(
    `<circle cx="${m.l + 10 + i * 300}" cy="${H - 18}" r="5" fill="${s.color}"/>`,
    `<text x="${m.l + 20 + i * 300}" y="${H - 14}">${s.label}</text>`,
  );
});
parts.push(
  `<text x="${W - m.r}" y="${H - 14}" text-anchor="end" fill="#777" font-size="10">dots = runs, bar = median</text>`,
  '</svg>',
);
writeFileSync(out, `${parts.join('\n')}\n`);
console.log(`wrote ${out}`);
