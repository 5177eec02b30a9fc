import { formatDuration } from '../duration.js';
import { countSatisfied } from '../filter.js';
import type { LogKind } from '../protocol.js';
import { RUNNER_PEER } from '../script.js';
import { escapeXml as esc } from './junit.js';
import type { ScriptReport, TestReport } from './model.js';

// Geometry of the timeline picture, in SVG user units (pixels at 100 %).
const WIDTH = 1100;
const LABEL = 130;
const RIGHT = 30;
const PLOT = WIDTH - LABEL - RIGHT;
const AXIS = 34;
const LANE = 66;
const LEGEND = 58;
/** Rough width of one label character at 10 px, to decide whether a command's label fits. */
const CHAR_PX = 5.6;

const COLORS = {
  ok: '#2f9e55',
  failed: '#d64040',
  eventOk: '#2f6fd6',
  eventBad: '#e08a00',
  joined: '#138a8a',
  left: '#777777',
  failure: '#b00020',
  fault: '#6a3fb5',
};

const BANDS = { down: '#fbe1e1', frozen: '#e1e8f5', cut: '#efe4fb' };

const MEMBERSHIP: Partial<Record<LogKind, { mark: string; color: string; label: string }>> = {
  joined: { mark: '▲', color: COLORS.joined, label: '+' },
  left: { mark: '▼', color: COLORS.left, label: '−' },
  failed: { mark: '✖', color: COLORS.failure, label: '' },
};

/** Nice tick step (1, 2 or 5 × 10^k ms) giving about eight ticks over `span`. */
function tickStep(span: number): number {
  const raw = Math.max(span / 8, 1);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

function tickLabel(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}

/** The run as a picture: one lane per peer, commands as bars, events and membership as marks. */
export function timelineSvg(s: ScriptReport): string {
  const tl = s.timeline;
  const hasRunner = tl.lines.some((l) => l.peer === RUNNER_PEER);
  const lanes = [...tl.peers, ...(hasRunner ? [RUNNER_PEER] : [])];
  const t0 = tl.startedAt;
  const lastTs = Math.max(
    s.durationMs,
    ...tl.events.map((e) => e.ts - t0),
    ...tl.logs.map((l) => l.ts - t0),
    ...tl.lines.map((l) => (l.endedAt ?? t0) - t0),
    1,
  );
  const span = lastTs * 1.02;
  const x = (ms: number) => LABEL + (Math.max(0, ms) / span) * PLOT;
  const laneY = (peer: string) => AXIS + lanes.indexOf(peer) * LANE;
  const height = AXIS + lanes.length * LANE + LEGEND;
  const out: string[] = [];
  out.push(
    `<svg class="timeline" data-script="${esc(s.name)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="timeline of ${esc(s.name)}">`,
  );
  // Axis with ticks.
  const step = tickStep(span);
  out.push(`<g class="axis">`);
  for (let t = 0; t <= span; t += step) {
    const tx = x(t).toFixed(1);
    out.push(
      `<line x1="${tx}" y1="${AXIS - 6}" x2="${tx}" y2="${AXIS + lanes.length * LANE}" stroke="#ddd"/>`,
      `<text x="${tx}" y="${AXIS - 10}" text-anchor="middle" class="tick">${tickLabel(t)}</text>`,
    );
  }
  out.push('</g>');
  // Lanes.
  lanes.forEach((peer, i) => {
    const y = laneY(peer);
    const name = peer === RUNNER_PEER ? 'runner' : peer;
    out.push(`<g class="lane" data-peer="${esc(peer)}">`);
    out.push(
      `<rect x="0" y="${y}" width="${WIDTH}" height="${LANE}" fill="${i % 2 ? '#f6f7f9' : '#ffffff'}"/>`,
    );
    out.push(`<text x="10" y="${y + 24}" class="lane-label">${esc(name)}</text>`);
    out.push('</g>');
  });
  // States between runner faults, as bands behind the bars: down (killed or exited until started
  // again), frozen (stopped until continued), cut off (partitioned until healed).
  const end = t0 + lastTs;
  for (const peer of lanes) {
    const logs = tl.logs.filter((l) => l.peer === peer);
    const band = (from: number, to: number, kind: string, fill: string, title: string) =>
      out.push(
        `<rect class="band" data-peer="${esc(peer)}" data-kind="${kind}" x="${x(from - t0).toFixed(1)}" y="${laneY(peer) + 1}" width="${Math.max(1, x(to - t0) - x(from - t0)).toFixed(1)}" height="${LANE - 2}" fill="${fill}"><title>${esc(title)}</title></rect>`,
      );
    const pairs: [LogKind[], LogKind, string, string, string][] = [
      [['killed', 'exited'], 'started', 'down', BANDS.down, 'process not running'],
      [['stopped'], 'continued', 'frozen', BANDS.frozen, 'process frozen (SIGSTOP)'],
      [['partitioned'], 'healed', 'cut', BANDS.cut, 'partitioned'],
    ];
    for (const [opens, closes, kind, fill, title] of pairs) {
      let from: number | undefined;
      for (const l of logs) {
        if (opens.includes(l.kind) && from === undefined) from = l.ts;
        else if (l.kind === closes && from !== undefined) {
          band(from, l.ts, kind, fill, title);
          from = undefined;
        }
      }
      if (from !== undefined) band(from, Math.max(end, from + 1), kind, fill, title);
    }
  }
  // Commands: bars from start to end, label to the right when it fits before the next bar.
  const linesByPeer = new Map<string, typeof tl.lines>();
  for (const l of tl.lines) linesByPeer.set(l.peer, [...(linesByPeer.get(l.peer) ?? []), l]);
  for (const [peer, lines] of linesByPeer) {
    const y = laneY(peer);
    lines.forEach((l, i) => {
      if (l.startedAt === undefined) return;
      const status = l.status ?? 'FAILED';
      const x1 = x(l.startedAt - t0);
      const x2 = Math.max(x(((l.endedAt ?? t0 + lastTs) as number) - t0), x1 + 3);
      const took = formatDuration((l.endedAt ?? t0 + lastTs) - l.startedAt);
      const title = `line ${l.lineNo}: ${peer === RUNNER_PEER ? '' : `${peer} `}${l.command} — ${status} in ${took}${l.comment ? ` — ${l.comment}` : ''}`;
      out.push(
        `<g class="cmd" data-peer="${esc(peer)}" data-line="${l.lineNo}" data-status="${status}"><title>${esc(title)}</title>`,
        `<rect x="${x1.toFixed(1)}" y="${y + 6}" width="${(x2 - x1).toFixed(1)}" height="16" rx="2" fill="${status === 'OK' ? COLORS.ok : COLORS.failed}"/>`,
      );
      const next = lines[i + 1]?.startedAt;
      const room = (next === undefined ? LABEL + PLOT + RIGHT : x(next - t0)) - x2 - 4;
      const label = `${l.command} ${status === 'OK' ? '' : 'FAILED '}(${took})`;
      const fits = Math.floor(room / CHAR_PX);
      const inside = Math.floor((x2 - x1 - 6) / CHAR_PX);
      const cut = (n: number) => (label.length <= n ? label : `${label.slice(0, n - 1)}…`);
      if (fits >= Math.min(label.length, 12) || (fits >= 4 && inside < fits)) {
        out.push(
          `<text x="${(x2 + 3).toFixed(1)}" y="${y + 18}" class="cmd-label${status === 'OK' ? '' : ' bad'}">${esc(cut(fits))}</text>`,
        );
      } else if (inside >= 6) {
        // No room after the bar, but the bar is long: the label goes inside it.
        out.push(
          `<text x="${(x1 + 3).toFixed(1)}" y="${y + 18}" class="cmd-label in">${esc(cut(inside))}</text>`,
        );
      } else {
        out.push(`<text x="${x1.toFixed(1)}" y="${y + 4}" class="line-no">${l.lineNo}</text>`);
      }
      out.push('</g>');
    });
  }
  // Matched events: dots on the receiving peer's lane.
  const filterOk = new Map(
    tl.filters.map((f) => [
      `${f.peer}\0${f.source}\0${f.filter}`,
      countSatisfied(f.count, f.received),
    ]),
  );
  for (const e of tl.events) {
    if (!lanes.includes(e.peer)) continue;
    const ok = filterOk.get(`${e.peer}\0${e.source}\0${e.filter}`) ?? false;
    out.push(
      `<circle class="event" data-peer="${esc(e.peer)}" data-ok="${ok}" cx="${x(e.ts - t0).toFixed(1)}" cy="${laneY(e.peer) + 33}" r="4" fill="${ok ? COLORS.eventOk : COLORS.eventBad}"><title>${esc(`${e.peer} saw "${e.text}" (filter ${e.filter}${ok ? '' : ', count wrong'})`)}</title></circle>`,
    );
  }
  // Membership changes seen by a peer, and faults the runner caused. Marks close together on a
  // lane go to alternate rows so their labels stay readable.
  const placed = new Map<string, number[][]>();
  const rowFor = (peer: string, px: number) => {
    const rows = placed.get(peer) ?? [[], []];
    placed.set(peer, rows);
    const free = rows.findIndex((r) => r.every((o) => Math.abs(o - px) > 46));
    const row = free === -1 ? 0 : free;
    rows[row].push(px);
    return row;
  };
  for (const l of tl.logs) {
    if (!lanes.includes(l.peer)) continue;
    const lx = x(l.ts - t0).toFixed(1);
    const y = laneY(l.peer);
    const m = MEMBERSHIP[l.kind];
    if (l.kind === 'connected') {
      // The peer's first poll: its process is up. A small tick on the lane's baseline.
      out.push(
        `<g class="life" data-peer="${esc(l.peer)}" data-kind="connected"><title>${esc(`${l.peer}: ${l.text}`)}</title><line x1="${lx}" y1="${y + LANE - 12}" x2="${lx}" y2="${y + LANE - 2}" stroke="#999" stroke-width="2"/></g>`,
      );
    } else if (l.kind === 'started') {
      // Process start: the lane begins here (a thin line up to the first poll).
      out.push(
        `<g class="life" data-peer="${esc(l.peer)}" data-kind="started"><title>${esc(`${l.peer}: ${l.text}`)}</title><circle cx="${lx}" cy="${y + LANE - 7}" r="3" fill="#999"/></g>`,
      );
    } else if (m) {
      const who = /^<\w+>\s+(\S+)/.exec(l.text)?.[1] ?? '';
      const row = rowFor(l.peer, Number(lx));
      out.push(
        `<g class="member" data-peer="${esc(l.peer)}" data-kind="${l.kind}"><title>${esc(`${l.peer}: ${l.text}`)}</title>`,
        `<text x="${lx}" y="${y + 48 + row * 12}" text-anchor="middle" class="mark" fill="${m.color}">${m.mark}<tspan class="who">${esc(m.label + who)}</tspan></text></g>`,
      );
    } else {
      out.push(
        `<g class="fault" data-peer="${esc(l.peer)}" data-kind="${l.kind}"><title>${esc(`${l.peer}: ${l.text}`)}</title>`,
        `<line x1="${lx}" y1="${y + 2}" x2="${lx}" y2="${y + LANE - 2}" stroke="${l.kind === 'killed' || (l.kind === 'exited' && !/\(code 0,/.test(l.text)) ? COLORS.failure : COLORS.fault}" stroke-width="2" stroke-dasharray="4 2"/>`,
        `<text x="${lx}" y="${y + 36 + rowFor(`${l.peer}\0fault`, Number(lx)) * 11}" dx="3" class="fault-label">${esc(l.kind)}</text></g>`,
      );
    }
  }
  // Legend.
  const ly = AXIS + lanes.length * LANE + 24;
  const legend: [string, string][] = [
    [`<rect x="0" y="-10" width="18" height="12" fill="${COLORS.ok}"/>`, 'command OK'],
    [`<rect x="0" y="-10" width="18" height="12" fill="${COLORS.failed}"/>`, 'command FAILED'],
    [`<circle cx="8" cy="-4" r="4" fill="${COLORS.eventOk}"/>`, 'expected event seen'],
    [`<circle cx="8" cy="-4" r="4" fill="${COLORS.eventBad}"/>`, 'event of a failed filter'],
    [`<text y="0" fill="${COLORS.joined}">▲</text>`, 'member joined'],
    [`<text y="0" fill="${COLORS.left}">▼</text>`, 'member left'],
    [`<text y="0" fill="${COLORS.failure}">✖</text>`, 'member failed'],
    [
      `<line x1="8" y1="-12" x2="8" y2="2" stroke="${COLORS.fault}" stroke-width="2" stroke-dasharray="4 2"/>`,
      'runner fault',
    ],
    [`<rect x="0" y="-10" width="18" height="12" fill="${BANDS.down}"/>`, 'down'],
    [`<rect x="0" y="-10" width="18" height="12" fill="${BANDS.frozen}"/>`, 'frozen'],
    [`<rect x="0" y="-10" width="18" height="12" fill="${BANDS.cut}"/>`, 'partitioned'],
    [`<circle cx="8" cy="-4" r="3" fill="#999"/>`, 'process started'],
    [
      `<line x1="8" y1="-10" x2="8" y2="0" stroke="#999" stroke-width="2"/>`,
      'asked for its first line',
    ],
  ];
  out.push(`<g class="legend" transform="translate(20,${ly})">`);
  let lx = 0;
  let row = 0;
  for (const [mark, text] of legend) {
    const w = 36 + text.length * 7;
    if (lx + w > WIDTH - 40) {
      lx = 0;
      row++;
    }
    out.push(
      `<g transform="translate(${lx},${row * 18})">${mark}<text x="22" y="0" class="legend-text">${esc(text)}</text></g>`,
    );
    lx += w;
  }
  out.push('</g></svg>');
  return out.join('\n');
}

function caseTable(s: ScriptReport): string {
  const rows = s.cases.map((c) => {
    const cls = c.status === 'OK' ? 'ok' : 'failed';
    return `<tr class="case ${cls}" data-status="${c.status}" data-kind="${c.kind}" data-peer="${esc(c.peer)}"><td class="status">${c.status}</td><td>${c.line ?? ''}</td><td>${esc(c.peer === RUNNER_PEER ? 'runner' : c.peer)}</td><td>${c.kind}</td><td><code>${esc(c.test)}</code></td><td>${esc(c.result)}</td><td>${c.durationMs === undefined ? '' : formatDuration(c.durationMs)}</td><td>${esc(c.comment ?? '')}</td></tr>`;
  });
  return `<table class="cases"><thead><tr><th>status</th><th>line</th><th>peer</th><th>kind</th><th>test</th><th>result</th><th>took</th><th>comment</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

function peerLogs(s: ScriptReport): string {
  const logs = Object.entries(s.peerLogs ?? {});
  if (logs.length === 0) return '';
  const items = logs.map(
    ([peer, text]) =>
      `<details class="log" data-peer="${esc(peer)}"><summary>${esc(peer)}: last lines of output</summary><pre>${esc(text)}</pre></details>`,
  );
  return `<div class="logs">${items.join('\n')}</div>`;
}

const STYLE = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d1f23;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 6px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:12px;vertical-align:middle}
.badge.ok{background:${COLORS.ok}} .badge.failed{background:${COLORS.failed}}
.meta{color:#555;margin:0 0 8px}
.timeline{display:block;max-width:100%;height:auto;border:1px solid #e3e5e8;border-radius:4px}
.timeline .tick{font-size:10px;fill:#666} .timeline .lane-label{font-size:13px;font-weight:600;fill:#222}
.timeline .cmd-label{font-size:10px;fill:#234} .timeline .cmd-label.bad{fill:${COLORS.failed};font-weight:600} .timeline .cmd-label.in{fill:#fff;font-weight:600}
.timeline .line-no{font-size:8px;fill:#555} .timeline .mark{font-size:11px} .timeline .who{font-size:9px}
.timeline .fault-label{font-size:10px;fill:${COLORS.fault};font-weight:600} .timeline .legend-text{font-size:11px;fill:#333}
table.cases{border-collapse:collapse;margin-top:10px;font-size:12.5px;width:100%}
.cases th,.cases td{border-bottom:1px solid #e6e6e6;padding:3px 8px;text-align:left;vertical-align:top}
.cases tr.failed td{background:#fdecec} .cases td.status{font-weight:700}
.cases tr.ok td.status{color:${COLORS.ok}} .cases tr.failed td.status{color:${COLORS.failed}}
code{font:12px ui-monospace,Menlo,Consolas,monospace}
.logs{margin-top:8px} details.log summary{cursor:pointer;color:#444;font-size:12.5px}
details.log pre{font:11.5px/1.35 ui-monospace,Menlo,Consolas,monospace;background:#f6f7f9;padding:8px;overflow-x:auto;margin:4px 0 8px}
`;

/** A self-contained HTML page (inline CSS and SVG, no scripts or external assets). */
export function toHtml(report: TestReport): string {
  const status = (ok: boolean) =>
    `<span class="badge ${ok ? 'ok' : 'failed'}">${ok ? 'PASSED' : 'FAILED'}</span>`;
  const sections = report.scripts.map((s) => {
    const peers = s.timeline.peers.length;
    return `<section class="script" data-script="${esc(s.name)}" data-ok="${s.ok}">
<h2>${esc(s.name)} ${status(s.ok)}</h2>
<p class="meta">${s.file ? `<code>${esc(s.file)}</code> · ` : ''}${peers} peers · ${s.cases.length} cases, ${s.failures} failed · ${formatDuration(s.durationMs)} · line deadline ${formatDuration(s.lineDeadlineMs)} · run ${esc(s.runId)}</p>
${timelineSvg(s)}
${caseTable(s)}
${peerLogs(s)}
</section>`;
  });
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>isopeer test report</title>
<style>${STYLE}</style></head>
<body>
<h1>isopeer test report ${status(report.ok)}</h1>
<p class="meta">${report.scripts.length} script(s) · ${report.cases} cases · ${report.failures} failed · ${formatDuration(report.durationMs)} · ${esc(new Date(report.startedAt).toISOString())}</p>
${sections.join('\n')}
</body></html>
`;
}
