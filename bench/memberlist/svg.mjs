// A box plot of convergence times per cluster size, Go beside TypeScript, on a log time axis.
// Plain SVG text written here, no plotting library.
import { fmtMs } from './stats.mjs';

const COLORS = { go: '#00add8', ts: '#3178c6' };
const f = (x) => Number(x.toFixed(1));
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * groups: [{ label, series: [{ impl, summary, samples }] }]; times in ms.
 * Boxes span p25..p75 with a median bar, whiskers min..max, dots for every run; runs that hit
 * the cap are drawn as crosses at the top.
 */
export function boxPlotSvg({ title, groups, capMs, yLabel = 'time to full convergence' }) {
  const W = 860;
  const H = 460;
  const m = { l: 80, r: 20, t: 50, b: 70 };
  const lo = 10;
  const hi = Math.max(capMs, 1000);
  const y = (ms) => {
    const v = Math.min(Math.max(ms, lo), hi);
    return f(
      m.t +
        (H - m.t - m.b) *
          (1 - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))),
    );
  };
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  );
  // Grid: decades and 2/5 steps.
  for (let d = lo; d <= hi; d *= 10) {
    for (const k of [1, 2, 5]) {
      const v = d * k;
      if (v > hi) break;
      const yy = y(v).toFixed(1);
      out.push(
        `<line x1="${m.l}" x2="${W - m.r}" y1="${yy}" y2="${yy}" stroke="${k === 1 ? '#ccc' : '#eee'}"/>`,
      );
      out.push(
        `<text x="${m.l - 6}" y="${yy}" dy="4" text-anchor="end" fill="#555">${esc(fmtMs(v))}</text>`,
      );
    }
  }
  out.push(
    `<text transform="translate(18 ${(H - m.b + m.t) / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(yLabel)} (log scale)</text>`,
  );
  const gw = (W - m.l - m.r) / groups.length;
  groups.forEach((g, gi) => {
    const gx = f(m.l + gi * gw);
    out.push(
      `<text x="${gx + gw / 2}" y="${H - m.b + 22}" text-anchor="middle" font-weight="bold">${esc(g.label)}</text>`,
    );
    const bw = f(Math.min(60, gw / (g.series.length * 2 + 1)));
    g.series.forEach((s, si) => {
      const cx = f(gx + gw / 2 + (si - (g.series.length - 1) / 2) * bw * 1.8);
      const c = COLORS[s.impl] ?? '#888';
      const q = s.summary;
      if (q.median !== null) {
        out.push(`<line x1="${cx}" x2="${cx}" y1="${y(q.min)}" y2="${y(q.max)}" stroke="${c}"/>`);
        out.push(
          `<rect x="${cx - bw / 2}" y="${y(q.p75)}" width="${bw}" height="${Math.max(1, y(q.p25) - y(q.p75))}" fill="${c}" fill-opacity="0.25" stroke="${c}"/>`,
        );
        out.push(
          `<line x1="${cx - bw / 2}" x2="${cx + bw / 2}" y1="${y(q.median)}" y2="${y(q.median)}" stroke="${c}" stroke-width="3"/>`,
        );
      }
      s.samples.forEach((v, i) => {
        const jx = cx + (((i * 7) % 11) - 5) * (bw / 14);
        if (v === null) {
          const yy = y(hi);
          out.push(`<path d="M${jx - 3} ${yy - 3}l6 6m0 -6l-6 6" stroke="#c00"/>`);
        } else
          out.push(
            `<circle cx="${jx.toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.2" fill="${c}" fill-opacity="0.8"/>`,
          );
      });
      out.push(
        `<text x="${cx}" y="${H - m.b + 40}" text-anchor="middle" fill="${c}">${esc(s.impl === 'go' ? 'Go' : 'TS')}</text>`,
      );
      out.push(
        `<text x="${cx}" y="${H - m.b + 54}" text-anchor="middle" fill="#555" font-size="10">${esc(fmtMs(q.median))}</text>`,
      );
    });
  });
  out.push(
    `<text x="${W - m.r}" y="${H - 8}" text-anchor="end" fill="#777" font-size="10">box p25–p75, bar median, whiskers min–max, dots = runs, red × = not finished within ${esc(fmtMs(capMs))}</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
