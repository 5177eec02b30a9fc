// SVG pictures for the scale benchmarks, written by hand (no plotting library): convergence
// curves on a log time axis, and bar pairs for idle CPU and peak RSS.

const COLORS = { ts: '#2b6cb0', go: '#c05621', sim: '#2f855a' };
const esc = (s) =>
  String(s).replace(
    /[<>&"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c],
  );

function text(x, y, s, attrs = '') {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;
}

/** Log-scaled x axis from lo to hi ms, labelled in s. */
function logAxis(x0, x1, lo, hi) {
  const l0 = Math.log10(lo);
  const l1 = Math.log10(hi);
  const map = (ms) =>
    x0 + ((Math.log10(Math.min(hi, Math.max(lo, ms))) - l0) / (l1 - l0)) * (x1 - x0);
  const ticks = [];
  for (let e = Math.floor(l0); e <= Math.ceil(l1); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return { map, ticks };
}

const fmtS = (ms) =>
  ms < 1000 ? `${ms / 1000}` : `${Math.round(ms / 100) / 10}`.replace(/\.0$/, '');

/**
 * Convergence curves (nodes converged vs time since the joins started) of every run, and
 * bars for idle CPU s/min and peak RSS per implementation (median, with min–max whiskers).
 */
export function scaleUdpSvg(out) {
  const W = 980;
  const H = 420;
  const parts = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    text(
      20,
      24,
      `${out.count} nodes in one process on real UDP: isopeer (TS) vs Go memberlist 0.2.2 — ${out.runs} run(s) each, ${out.note ?? `${out.when.slice(0, 16)}Z`}`,
      'font-size="14" font-weight="bold"',
    ),
  );
  // ---- convergence curves ----
  const px0 = 60;
  const px1 = 560;
  const py0 = 360;
  const py1 = 60;
  const all = out.results.flatMap((r) => r.curve.map((p) => p[0])).filter((x) => x > 0);
  const hi = Math.max(10_000, ...all, ...out.results.map((r) => r.convergeMs ?? 0)) * 1.2;
  const lo = Math.max(10, Math.min(100, ...all) * 0.8);
  const { map, ticks } = logAxis(px0, px1, lo, hi);
  const ymap = (n) => py0 - (n / out.count) * (py0 - py1);
  parts.push(`<line x1="${px0}" y1="${py0}" x2="${px1}" y2="${py0}" stroke="black"/>`);
  parts.push(`<line x1="${px0}" y1="${py0}" x2="${px0}" y2="${py1}" stroke="black"/>`);
  for (const t of ticks) {
    const x = map(t);
    parts.push(`<line x1="${x}" y1="${py0}" x2="${x}" y2="${py1}" stroke="#eee"/>`);
    parts.push(text(x, py0 + 16, fmtS(t), 'text-anchor="middle"'));
  }
  for (let k = 0; k <= 4; k++) {
    const n = (out.count * k) / 4;
    parts.push(text(px0 - 6, ymap(n) + 4, Math.round(n), 'text-anchor="end"'));
    parts.push(`<line x1="${px0}" y1="${ymap(n)}" x2="${px1}" y2="${ymap(n)}" stroke="#eee"/>`);
  }
  parts.push(
    text(
      (px0 + px1) / 2,
      py0 + 36,
      'seconds since every node was up and the joins started (log scale)',
      'text-anchor="middle"',
    ),
  );
  parts.push(
    text(
      16,
      (py0 + py1) / 2,
      'nodes that see all alive',
      `text-anchor="middle" transform="rotate(-90 16 ${(py0 + py1) / 2})"`,
    ),
  );
  parts.push(text(px0, py1 - 12, 'convergence curves (one line per run)', 'font-weight="bold"'));
  for (const r of out.results) {
    if (r.curve.length === 0) continue;
    const pts = [`${map(lo).toFixed(1)},${ymap(0).toFixed(1)}`];
    let prev = 0;
    for (const [ms, n] of r.curve) {
      const x = map(Math.max(lo, ms)).toFixed(1);
      pts.push(`${x},${ymap(prev).toFixed(1)}`, `${x},${ymap(n).toFixed(1)}`);
      prev = n;
    }
    parts.push(
      `<polyline fill="none" stroke="${COLORS[r.impl]}" stroke-width="1.5" opacity="0.8" points="${pts.join(' ')}"/>`,
    );
  }
  // The issue's figures: Go on this machine when quiet, and the aim for isopeer.
  for (const [ms, label] of [
    [out.reference?.goConvergeMs, 'Go ref'],
    [out.reference?.aimConvergeMs, 'aim'],
  ]) {
    if (!ms) continue;
    const x = map(ms);
    parts.push(
      `<line x1="${x}" y1="${py0}" x2="${x}" y2="${py1}" stroke="#555" stroke-dasharray="4 3"/>`,
    );
    parts.push(text(x + 3, py1 + 12, `${label} ${fmtS(ms)} s`, 'fill="#555"'));
  }
  // legend
  let ly = py1 + 30;
  for (const impl of Object.keys(out.summary)) {
    const s = out.summary[impl].convergeMs;
    const med = s.median === null ? 'none converged' : `median ${fmtS(s.median)} s`;
    parts.push(`<rect x="${px0 + 10}" y="${ly}" width="12" height="12" fill="${COLORS[impl]}"/>`);
    parts.push(
      text(
        px0 + 28,
        ly + 10,
        `${impl === 'ts' ? 'isopeer (TS)' : 'Go 0.2.2'}: ${med}${s.missing ? `, ${s.missing} not converged` : ''}`,
      ),
    );
    ly += 18;
  }
  // ---- bars ----
  const bars = [
    {
      key: 'idleCpuPerMin',
      title: 'idle CPU (s per minute)',
      x0: 620,
      ref: out.reference?.goIdleCpuPerMin,
    },
    { key: 'peakRssMiB', title: 'peak RSS (MiB)', x0: 810, ref: out.reference?.goPeakRssMiB },
  ];
  for (const b of bars) {
    const impls = Object.keys(out.summary);
    const vals = impls.map((i) => out.summary[i][b.key]);
    const max = Math.max(1, b.ref ?? 0, ...vals.map((v) => v.max ?? 0)) * 1.15;
    const bh = (v) => ((v ?? 0) / max) * (py0 - py1);
    parts.push(text(b.x0, py1 - 12, b.title, 'font-weight="bold"'));
    parts.push(`<line x1="${b.x0}" y1="${py0}" x2="${b.x0 + 150}" y2="${py0}" stroke="black"/>`);
    impls.forEach((impl, k) => {
      const v = vals[k];
      const x = b.x0 + 15 + k * 70;
      if (v.median !== null) {
        parts.push(
          `<rect x="${x}" y="${py0 - bh(v.median)}" width="50" height="${bh(v.median)}" fill="${COLORS[impl]}"/>`,
        );
        const cx = x + 25;
        parts.push(
          `<line x1="${cx}" y1="${py0 - bh(v.min)}" x2="${cx}" y2="${py0 - bh(v.max)}" stroke="black"/>`,
        );
        parts.push(text(cx, py0 - bh(v.max) - 6, v.median.toFixed(1), 'text-anchor="middle"'));
      }
      parts.push(text(x + 25, py0 + 16, impl === 'ts' ? 'TS' : 'Go', 'text-anchor="middle"'));
    });
    if (b.ref) {
      const y = py0 - bh(b.ref);
      parts.push(
        `<line x1="${b.x0}" y1="${y}" x2="${b.x0 + 150}" y2="${y}" stroke="#555" stroke-dasharray="4 3"/>`,
      );
      parts.push(text(b.x0 + 150, y - 4, `Go ref ${b.ref}`, 'text-anchor="end" fill="#555"'));
    }
  }
  parts.push(text(620, py0 + 36, 'bars: median (number), whiskers: min–max over runs'));
  parts.push(text(620, py0 + 52, "dashed: the issue's Go figures on this machine when quiet"));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** One convergence curve per in-memory run (virtual time), for the 1,000-node simulation. */
export function simCurveSvg({ title, runs }) {
  const W = 820;
  const H = 380;
  const px0 = 60;
  const px1 = 780;
  const py0 = 320;
  const py1 = 50;
  const n = Math.max(...runs.map((r) => r.n));
  const hi = Math.max(...runs.flatMap((r) => r.curve.map((p) => p[0])), 1000) * 1.05;
  const xmap = (ms) => px0 + (ms / hi) * (px1 - px0);
  const ymap = (k) => py0 - (k / n) * (py0 - py1);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    text(20, 24, title, 'font-size="14" font-weight="bold"'),
    `<line x1="${px0}" y1="${py0}" x2="${px1}" y2="${py0}" stroke="black"/>`,
    `<line x1="${px0}" y1="${py0}" x2="${px0}" y2="${py1}" stroke="black"/>`,
  ];
  const step = hi > 20_000 ? 5000 : hi > 5000 ? 1000 : 500;
  for (let t = 0; t <= hi; t += step) {
    parts.push(`<line x1="${xmap(t)}" y1="${py0}" x2="${xmap(t)}" y2="${py1}" stroke="#eee"/>`);
    parts.push(text(xmap(t), py0 + 16, fmtS(t), 'text-anchor="middle"'));
  }
  for (let k = 0; k <= 4; k++) {
    parts.push(text(px0 - 6, ymap((n * k) / 4) + 4, Math.round((n * k) / 4), 'text-anchor="end"'));
  }
  parts.push(
    text((px0 + px1) / 2, py0 + 36, 'virtual seconds since the first join', 'text-anchor="middle"'),
  );
  parts.push(
    text(
      16,
      (py0 + py1) / 2,
      'nodes that see all alive',
      `text-anchor="middle" transform="rotate(-90 16 ${(py0 + py1) / 2})"`,
    ),
  );
  for (const r of runs) {
    const pts = r.curve.map(([ms, k]) => `${xmap(ms).toFixed(1)},${ymap(k).toFixed(1)}`);
    parts.push(
      `<polyline fill="none" stroke="${COLORS.sim}" stroke-width="1.5" opacity="0.8" points="${pts.join(' ')}"/>`,
    );
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
