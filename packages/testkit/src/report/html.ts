import { formatDuration } from '../duration.js';
import { RUNNER_PEER } from '../script.js';
import { escapeXml as esc } from './junit.js';
import type { CaseStatus, ScriptReport, TestReport } from './model.js';
import { timelineData } from './timeline-data.js';
import { drawTimelines } from './timeline-draw.js';

const COLORS = {
  ok: '#2f9e55',
  failed: '#d64040',
  cancelled: '#b07d00',
  eventOk: '#2f6fd6',
  eventBad: '#e08a00',
  joined: '#138a8a',
  left: '#777777',
  failure: '#b00020',
  fault: '#6a3fb5',
};
const BANDS = {
  down: '#fbe1e1',
  frozen: '#e1e8f5',
  cut: '#efe4fb',
  isolated: '#f3dcf0',
  lossy: '#fdf0d5',
  throttled: '#e2f3ee',
};

const statusWord = (s: { ok: boolean; failures: number }) =>
  s.ok ? 'PASSED' : s.failures ? 'FAILED' : 'CANCELLED';
const badge = (word: string) => `<span class="badge ${word.toLowerCase()}">${word}</span>`;
const caseClass = (s: CaseStatus) => s.toLowerCase();

/** JSON inside `<script>`: nothing in it may close the element. */
const scriptJson = (v: unknown) =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028|\u2029/g, ' ');

function counts(s: { passed: number; failures: number; cancelled: number }): string {
  const parts = [`${s.passed} passed`];
  if (s.failures) parts.push(`${s.failures} failed`);
  if (s.cancelled) parts.push(`${s.cancelled} cancelled`);
  return parts.join(', ');
}

/** The table of contents: every script with its outcome, and a link to its first failure. */
function toc(report: TestReport): string {
  const items = report.scripts.map((s, i) => {
    const first = s.cases.findIndex((c) => c.status === 'FAILED');
    const jump =
      first >= 0 ? ` · <a class="first-failure" href="#s${i}-case${first}">first failure</a>` : '';
    return `<li data-script="${esc(s.name)}">${badge(statusWord(s))} <a class="script-link" href="#s${i}">${esc(s.name)}</a> <span class="meta">${counts(s)}</span>${jump}</li>`;
  });
  const firstBad = report.scripts.findIndex((s) => s.failures > 0);
  const top =
    firstBad >= 0
      ? `<p><a class="first-failure global" href="#s${firstBad}-case${report.scripts[firstBad].cases.findIndex((c) => c.status === 'FAILED')}">jump to the first failure</a></p>`
      : '';
  return `<nav class="toc" aria-label="scripts"><h2>Scripts</h2>${top}<ol>${items.join('')}</ol></nav>`;
}

/** The timeline's container: zoom buttons, the data the page script draws, the details line. */
function timeline(s: ScriptReport, i: number): string {
  const d = timelineData(s);
  const buttons = [
    `<button type="button" data-s="0" data-e="${d.end}" data-whole="1">whole run</button>`,
    ...d.episodes.map(
      (e) =>
        `<button type="button" data-s="${e.s}" data-e="${e.e}">${esc(e.label)} <span class="meta">${formatDuration(e.s)}</span></button>`,
    ),
  ];
  return `<div class="tl" id="tl${i}">
<div class="tl-zoom"><span class="meta">zoom:</span> ${buttons.join(' ')} <span class="meta tl-range"></span> <span class="meta">· drag across the picture to zoom, double-click for the whole run</span></div>
<script type="application/json" class="tl-data">${scriptJson(d)}</script>
<noscript><p class="meta">The timeline needs JavaScript; the table below has every case.</p></noscript>
<div class="tl-detail meta" aria-live="polite">hover over or tap a mark for its details</div>
</div>`;
}

function legend(): string {
  const sw = (cls: string, style: string) => `<span class="sw ${cls}" style="${style}"></span>`;
  const items: [string, string][] = [
    [sw('bar', `background:${COLORS.ok}`), 'command OK'],
    [sw('bar', `background:${COLORS.failed}`), 'command FAILED'],
    [sw('bar', `background:${COLORS.cancelled}`), 'cut off (run stopped)'],
    [sw('dot', `background:${COLORS.eventOk}`), 'expected event seen'],
    [sw('dot', `background:${COLORS.eventBad}`), 'event of a failed filter'],
    [`<span style="color:${COLORS.joined}">▲</span>`, 'member joined'],
    [`<span style="color:${COLORS.left}">▼</span>`, 'member left'],
    [`<span style="color:${COLORS.failure}">✖</span>`, 'member failed'],
    [sw('line', `border-color:${COLORS.fault}`), 'runner fault'],
    [`<span style="color:${COLORS.fault}">↕</span>`, 'link cut (→ one way)'],
    ...Object.entries(BANDS).map(([k, c]): [string, string] => [sw('band', `background:${c}`), k]),
    [sw('band settle', ''), 'settle wait'],
    [sw('dot', 'background:#999'), 'process started'],
    [sw('tick', ''), 'asked for its first line'],
  ];
  return `<ul class="legend">${items.map(([m, t]) => `<li>${m} ${esc(t)}</li>`).join('')}</ul>`;
}

function caseTable(s: ScriptReport, i: number): string {
  const rows = s.cases.map((c, k) => {
    return `<tr id="s${i}-case${k}" class="case ${caseClass(c.status)}" data-status="${c.status}" data-kind="${c.kind}" data-peer="${esc(c.peer)}"><td class="status">${c.status}</td><td>${c.line ?? ''}</td><td>${esc(c.peer === RUNNER_PEER ? 'runner' : c.peer)}</td><td>${c.kind}</td><td><code>${esc(c.test)}</code></td><td>${esc(c.result)}</td><td>${c.durationMs === undefined ? '' : formatDuration(c.durationMs)}</td><td>${esc(c.comment ?? '')}</td></tr>`;
  });
  return `<div class="scroll"><table class="cases"><thead><tr><th>status</th><th>line</th><th>peer</th><th>kind</th><th>test</th><th>result</th><th>took</th><th>comment</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
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
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px;color:#1d1f23;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:17px;margin:24px 0 6px} nav.toc h2{margin-top:12px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:12px;vertical-align:middle}
.badge.passed{background:${COLORS.ok}} .badge.failed{background:${COLORS.failed}} .badge.cancelled{background:${COLORS.cancelled}}
.meta{color:#555} p.meta{margin:0 0 8px}
nav.toc ol{margin:4px 0;padding-left:22px} nav.toc li{margin:2px 0}
a.first-failure{color:${COLORS.failed};font-weight:600}
.tl{width:100%;margin:6px 0} .tl-zoom{font-size:12.5px;margin:4px 0;display:flex;flex-wrap:wrap;gap:4px;align-items:center}
.tl-zoom button{font:inherit;font-size:12px;padding:1px 7px;border:1px solid #c9ccd1;border-radius:10px;background:#f6f7f9;cursor:pointer}
.tl-detail{font-size:12.5px;min-height:1.4em;margin:2px 0 6px;overflow-wrap:anywhere}
svg.timeline{display:block;width:100%;border:1px solid #e3e5e8;border-radius:4px;touch-action:pan-y;user-select:none}
.timeline .tick{font-size:10px;fill:#666} .timeline .lane-label{font-size:12px;font-weight:600;fill:#222}
.timeline .cmd-label{font-size:10px;fill:#234} .timeline .cmd-label.bad{fill:${COLORS.failed};font-weight:600}
.timeline .who{font-size:10px} .timeline .who.joined{fill:${COLORS.joined}} .timeline .who.left{fill:${COLORS.left}} .timeline .who.failed{fill:${COLORS.failure};font-weight:600}
.timeline .fault-label{font-size:10px;fill:${COLORS.fault};font-weight:600} .timeline .settle-label{font-size:10px;fill:#555}
.timeline .bar.OK{fill:${COLORS.ok}} .timeline .bar.FAILED{fill:${COLORS.failed}} .timeline .bar.CANCELLED{fill:${COLORS.cancelled}}
.timeline circle.event[data-ok="true"]{fill:${COLORS.eventOk}} .timeline circle.event[data-ok="false"]{fill:${COLORS.eventBad}}
.timeline .mark.joined{fill:${COLORS.joined}} .timeline .mark.left{fill:${COLORS.left}} .timeline .mark.failed{stroke:${COLORS.failure};stroke-width:2.5;fill:none}
.timeline .fault-line{stroke:${COLORS.fault};stroke-width:2;stroke-dasharray:4 2} .timeline .fault-line.bad{stroke:${COLORS.failure}}
.timeline .link-line{stroke:${COLORS.fault};stroke-width:2;stroke-dasharray:5 3} .timeline .link-line.heal{stroke:${COLORS.joined}}
${Object.entries(BANDS)
  .map(([k, c]) => `.timeline rect.band[data-kind="${k}"]{fill:${c}}`)
  .join(' ')}
.timeline rect.settle{fill:#8a8f98;fill-opacity:.12} .timeline .settle-bracket{stroke:#8a8f98;fill:none}
.timeline rect.brush{fill:#2f6fd6;fill-opacity:.15}
ul.legend{list-style:none;padding:0;margin:6px 0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:#333}
.sw{display:inline-block;vertical-align:middle} .sw.bar{width:16px;height:10px;border-radius:2px} .sw.dot{width:8px;height:8px;border-radius:50%}
.sw.line{width:0;height:12px;border-left:2px dashed} .sw.band{width:16px;height:10px} .sw.band.settle{background:rgba(138,143,152,.25)}
.sw.tick{width:2px;height:12px;background:#999}
.scroll{overflow-x:auto}
table.cases{border-collapse:collapse;margin-top:10px;font-size:12.5px;width:100%;min-width:720px}
.cases th,.cases td{border-bottom:1px solid #e6e6e6;padding:3px 8px;text-align:left;vertical-align:top}
.cases tr.failed td{background:#fdecec} .cases tr.cancelled td{background:#fdf6e3} .cases td.status{font-weight:700}
.cases tr.ok td.status{color:${COLORS.ok}} .cases tr.failed td.status{color:${COLORS.failed}} .cases tr.cancelled td.status{color:${COLORS.cancelled}}
.cases tr:target td{outline:2px solid ${COLORS.failed}}
code{font:12px ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.logs{margin-top:8px} details.log summary{cursor:pointer;color:#444;font-size:12.5px}
details.log pre{font:11.5px/1.35 ui-monospace,Menlo,Consolas,monospace;background:#f6f7f9;padding:8px;overflow-x:auto;margin:4px 0 8px}
`;

/**
 * A self-contained HTML page (inline CSS, SVG and one inline script, no external requests): a
 * table of contents, then per script its timeline, drawn by the page to the window's width
 * (zoomable), the table of every case and each peer's last lines of output.
 */
export function toHtml(report: TestReport): string {
  const sections = report.scripts.map((s, i) => {
    const peers = s.timeline.peers.length;
    return `<section class="script" id="s${i}" data-script="${esc(s.name)}" data-ok="${s.ok}">
<h2>${esc(s.name)} ${badge(statusWord(s))}</h2>
<p class="meta">${s.file ? `<code>${esc(s.file)}</code> · ` : ''}${peers} peers · ${s.cases.length} cases: ${counts(s)} · ${formatDuration(s.durationMs)} · line deadline ${formatDuration(s.lineDeadlineMs)} · run ${esc(s.runId)}</p>
${timeline(s, i)}
${caseTable(s, i)}
${peerLogs(s)}
</section>`;
  });
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>isopeer test report</title>
<style>${STYLE}</style></head>
<body>
<h1>isopeer test report ${badge(statusWord(report))}</h1>
<p class="meta">${report.scripts.length} script(s) · ${report.cases} cases: ${counts(report)} · ${formatDuration(report.durationMs)} · ${esc(new Date(report.startedAt).toISOString())}</p>
${toc(report)}
${legend()}
${sections.join('\n')}
<script>(${drawTimelines.toString()})();</script>
</body></html>
`;
}
