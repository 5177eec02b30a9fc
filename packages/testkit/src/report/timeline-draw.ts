/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { TimelineData } from './timeline-data.js';

/**
 * The HTML report's timeline, drawn in the browser: this function is embedded in the page as
 * its source text (`drawTimelines.toString()`), so it must not use anything from outside its
 * own body (types only). It lays each `.tl` container's data out to the container's width,
 * measures every label and places it where it overlaps nothing (or leaves it out: hovering or
 * tapping any mark shows its details below the picture), and zooms the time axis by dragging
 * across the picture or with the episode buttons; double-click or "whole run" resets.
 */
export function drawTimelines(): void {
  const NS = 'http://www.w3.org/2000/svg';
  const BAR = 14;
  const ROW = 13;
  const DOTS = 11;
  const AXIS = 24;
  const FOOT = 18;
  const MAX_ROWS = 3;
  const GAP = 4;

  type Data = TimelineData;
  type Box = [number, number];

  const measurer = document.createElementNS(NS, 'svg');
  measurer.setAttribute('class', 'timeline');
  measurer.setAttribute('aria-hidden', 'true');
  measurer.style.cssText = 'position:absolute;left:-10000px;top:0;visibility:hidden';
  document.body.appendChild(measurer);
  const widths = new Map<string, number>();
  /** Width of `text` as drawn with CSS class `cls` (measured once). */
  const measure = (text: string, cls: string): number => {
    const key = `${cls}\0${text}`;
    let w = widths.get(key);
    if (w === undefined) {
      const t = document.createElementNS(NS, 'text');
      t.setAttribute('class', cls);
      t.textContent = text;
      measurer.appendChild(t);
      w = t.getBBox().width;
      t.remove();
      widths.set(key, w);
    }
    return w;
  };

  const el = (
    name: string,
    attrs: Record<string, string | number | boolean>,
    parent?: Element,
  ): Element => {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    parent?.appendChild(e);
    return e;
  };
  const titled = (g: Element, title: string) => {
    el('title', {}, g).textContent = title;
    g.setAttribute('data-title', title);
  };
  const fmt = (ms: number) =>
    ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const tickText = (ms: number, step: number) =>
    step < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(step % 1000 === 0 ? 0 : 1)} s`;

  /** Label rows of one lane: row 0 is the bar row, rows 1.. lie below the dots. */
  class Rows {
    rows: Box[][] = [[]];
    used = 0;
    take(row: number, a: number, b: number): boolean {
      while (this.rows.length <= row) this.rows.push([]);
      if (this.rows[row].some(([x, y]) => a < y + GAP && b > x - GAP)) return false;
      this.rows[row].push([a, b]);
      if (row > this.used) this.used = row;
      return true;
    }
  }

  interface Placed {
    text: string;
    cls: string;
    x: number;
    row: number;
  }

  function render(box: HTMLElement, d: Data, from: number, to: number): void {
    box.querySelector('svg.timeline')?.remove();
    const W = Math.max(240, box.clientWidth);
    const laneLabels = d.lanes.map((l) => measure(l.label, 'lane-label'));
    const labelCol = Math.max(...laneLabels, 0) + 20;
    // Lane names go above their lane when a left column would take too much of the width.
    const above = W < 640 || labelCol > 170;
    const plotX = above ? 8 : labelCol;
    const plotW = W - plotX - 12;
    const right = plotX + plotW;
    const span = Math.max(1, to - from);
    const x = (t: number) => plotX + ((t - from) / span) * plotW;
    const shown = (a: number, b: number) => a >= plotX && b <= right;

    // Place every label first: lane heights follow from the rows they need.
    const rows = d.lanes.map(() => new Rows());
    const placed: Placed[][] = d.lanes.map(() => []);
    /** Puts a label at `at` in the first of rows `first`..`last` with room; false if none. */
    const put = (
      lane: number,
      text: string,
      cls: string,
      at: number,
      first: number,
      last = MAX_ROWS,
    ) => {
      // What lies outside the shown time range gets no label (zooming shows it).
      if (at < plotX - 4 || at > right) return false;
      const w = measure(text, cls);
      for (let row = first; row <= last; row++) {
        let a = at;
        if (a + w > right) a = right - w;
        if (a < plotX || !shown(a, a + w)) return false;
        if (rows[lane].take(row, a, a + w)) {
          placed[lane].push({ text, cls, x: a, row });
          return true;
        }
      }
      return false;
    };
    // Bars occupy the bar row, so labels there never cover another bar.
    for (const b of d.bars) {
      rows[b.lane].take(0, x(b.s), Math.max(x(b.e), x(b.s) + 3));
    }
    const items: { lane: number; at: number; place: () => void }[] = [];
    for (const b of d.bars) {
      const x1 = x(b.s);
      const x2 = Math.max(x(b.e), x1 + 3);
      if (x2 < plotX || x1 > right) continue;
      const cls = b.status === 'OK' ? 'cmd-label' : 'cmd-label bad';
      items.push({
        lane: b.lane,
        at: x1,
        place: () => {
          // After the bar, else below it; the line number when the whole label fits nowhere.
          put(b.lane, b.label, cls, x2 + GAP + 1, 0, 0) ||
            put(b.lane, b.label, cls, x1, 1) ||
            put(b.lane, b.short, `${cls} short`, x2 + GAP + 1, 0, 0) ||
            put(b.lane, b.short, `${cls} short`, x1, 1);
        },
      });
    }
    /** A titled group on a lane: hovering or tapping it shows `title`. */
    const item = (cls: string, lane: number, kind: string, title: string) => {
      const g = el('g', { class: cls, 'data-peer': d.lanes[lane].id, 'data-kind': kind }, plot);
      titled(g, title);
      return g;
    };
    for (const m of d.marks) {
      if (m.who)
        items.push({
          lane: m.lane,
          at: x(m.t),
          place: () => put(m.lane, m.who, `who ${m.kind}`, x(m.t) - 3, 1),
        });
    }
    for (const f of d.faults) {
      items.push({
        lane: f.lane,
        at: x(f.t),
        place: () => put(f.lane, f.label, 'fault-label', x(f.t) + 3, 1),
      });
    }
    for (const l of d.links) {
      const top = Math.min(l.from, l.to);
      items.push({
        lane: top,
        at: x(l.t),
        place: () => put(top, l.label, 'fault-label', x(l.t) + 3, 1),
      });
    }
    items.sort((a, b) => a.at - b.at);
    for (const it of items) it.place();

    // Lane geometry.
    const head = above ? 16 : 4;
    const laneTop: number[] = [];
    const laneH: number[] = [];
    let y = AXIS;
    d.lanes.forEach((_l, i) => {
      laneTop.push(y);
      laneH.push(head + BAR + 3 + DOTS + rows[i].used * ROW + 6);
      y += laneH[i];
    });
    const lanesEnd = y;
    const H = lanesEnd + (d.settle ? FOOT : 4);
    const barY = (i: number) => laneTop[i] + head;
    const rowY = (i: number, row: number) =>
      row === 0 ? barY(i) + 11 : barY(i) + BAR + 3 + DOTS + (row - 1) * ROW + 10;

    const svg = el('svg', {
      class: 'timeline',
      'data-script': d.name,
      width: W,
      height: H,
      viewBox: `0 0 ${W} ${H}`,
      role: 'img',
      'aria-label': `timeline of ${d.name}`,
    }) as SVGSVGElement;
    const clipId = `clip-${box.id}`;
    const defs = el('defs', {}, svg);
    el('rect', { x: plotX, y: 0, width: plotW, height: H }, el('clipPath', { id: clipId }, defs));
    for (const [id, color] of [
      ['arrow-fault', '#6a3fb5'],
      ['arrow-heal', '#138a8a'],
    ]) {
      const m = el(
        'marker',
        {
          id: `${id}-${box.id}`,
          viewBox: '0 0 8 8',
          refX: 7,
          refY: 4,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto-start-reverse',
        },
        defs,
      );
      el('path', { d: 'M0,0 L8,4 L0,8 z', fill: color }, m);
    }

    // Lanes and their names.
    d.lanes.forEach((l, i) => {
      const g = el('g', { class: 'lane', 'data-peer': l.id }, svg);
      el(
        'rect',
        { x: 0, y: laneTop[i], width: W, height: laneH[i], fill: i % 2 ? '#f6f7f9' : '#ffffff' },
        g,
      );
      el(
        'text',
        { x: 8, y: above ? laneTop[i] + 12 : barY(i) + 11, class: 'lane-label' },
        g,
      ).textContent = l.label;
    });
    // Axis: ticks far enough apart for their labels.
    const minGap = measure('000.0 s', 'tick') + 16;
    const raw = Math.max((span * minGap) / plotW, 1);
    const p = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
    const axis = el('g', { class: 'axis' }, svg);
    for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
      const tx = x(t);
      el('line', { x1: tx, y1: AXIS - 5, x2: tx, y2: lanesEnd, stroke: '#ddd' }, axis);
      const text = tickText(t, step);
      const w = measure(text, 'tick');
      if (tx - w / 2 >= plotX - 4 && tx + w / 2 <= W - 2) {
        el(
          'text',
          { x: tx, y: AXIS - 9, 'text-anchor': 'middle', class: 'tick' },
          axis,
        ).textContent = text;
      }
    }
    const plot = el('g', { 'clip-path': `url(#${clipId})` }, svg);
    const band = (x1: number, x2: number) => ({ x: x1, width: Math.max(1, x2 - x1) });
    if (d.settle) {
      const g = el('g', { class: 'settle' }, plot);
      titled(
        g,
        `settle wait: ${fmt(d.settle.e - d.settle.s)} for expected events after the last line`,
      );
      el(
        'rect',
        {
          class: 'settle',
          y: AXIS,
          height: lanesEnd - AXIS,
          ...band(x(d.settle.s), x(d.settle.e)),
        },
        g,
      );
    }
    for (const b of d.bands) {
      const r = el(
        'rect',
        {
          class: 'band',
          'data-peer': d.lanes[b.lane].id,
          'data-kind': b.kind,
          y: laneTop[b.lane] + 1,
          height: laneH[b.lane] - 2,
          ...band(x(b.s), x(b.e)),
        },
        plot,
      );
      titled(r, `${d.lanes[b.lane].label}: ${b.title} (${fmt(b.e - b.s)})`);
    }
    for (const b of d.bars) {
      const g = el(
        'g',
        {
          class: 'cmd',
          'data-peer': d.lanes[b.lane].id,
          'data-line': b.line,
          'data-status': b.status,
        },
        plot,
      );
      titled(g, b.title);
      const x1 = x(b.s);
      const x2 = Math.max(x(b.e), x1 + 3);
      el(
        'rect',
        { class: `bar ${b.status}`, x: x1, y: barY(b.lane), width: x2 - x1, height: BAR, rx: 2 },
        g,
      );
      // A short bar is hard to hit: a wider invisible target around it.
      if (x2 - x1 < 10) {
        el(
          'rect',
          { x: (x1 + x2) / 2 - 5, y: barY(b.lane), width: 10, height: BAR, fill: 'transparent' },
          g,
        );
      }
    }
    const dotY = (i: number) => barY(i) + BAR + 3 + DOTS / 2;
    for (const e of d.events) {
      const c = el(
        'circle',
        {
          class: 'event',
          'data-peer': d.lanes[e.lane].id,
          'data-ok': e.ok,
          cx: x(e.t),
          cy: dotY(e.lane),
          r: 4,
        },
        plot,
      );
      titled(c, e.title);
    }
    for (const m of d.marks) {
      const g = item('member', m.lane, m.kind, m.title);
      const mx = x(m.t);
      const my = dotY(m.lane);
      const shape =
        m.kind === 'joined'
          ? `M${mx - 5},${my + 4} L${mx + 5},${my + 4} L${mx},${my - 5} z`
          : m.kind === 'left'
            ? `M${mx - 5},${my - 4} L${mx + 5},${my - 4} L${mx},${my + 5} z`
            : `M${mx - 4},${my - 4} L${mx + 4},${my + 4} M${mx + 4},${my - 4} L${mx - 4},${my + 4}`;
      el('path', { class: `mark ${m.kind}`, d: shape }, g);
    }
    for (const l of d.life) {
      const g = item('life', l.lane, l.kind, l.title);
      const lx = x(l.t);
      const by = barY(l.lane) + BAR / 2;
      if (l.kind === 'started') el('circle', { cx: lx, cy: by, r: 3, fill: '#999' }, g);
      else
        el(
          'line',
          { x1: lx, y1: by - 7, x2: lx, y2: by + 7, stroke: '#999', 'stroke-width': 2 },
          g,
        );
    }
    for (const f of d.faults) {
      const g = item('fault', f.lane, f.kind, f.title);
      const fx = x(f.t);
      el(
        'line',
        {
          class: `fault-line${f.bad ? ' bad' : ''}`,
          x1: fx,
          y1: laneTop[f.lane] + 2,
          x2: fx,
          y2: laneTop[f.lane] + laneH[f.lane] - 2,
        },
        g,
      );
    }
    for (const l of d.links) {
      const heal = l.label.startsWith('heal');
      const g = el(
        'g',
        { class: 'link', 'data-kind': heal ? 'heal' : 'fault', 'data-oneway': l.oneWay },
        plot,
      );
      titled(g, l.title);
      const lx = x(l.t);
      const marker = `url(#arrow-${heal ? 'heal' : 'fault'}-${box.id})`;
      el(
        'line',
        {
          class: `link-line${heal ? ' heal' : ''}`,
          x1: lx,
          y1: barY(l.from) + BAR / 2,
          x2: lx,
          y2: barY(l.to) + BAR / 2,
          'marker-end': marker,
          ...(l.oneWay ? {} : { 'marker-start': marker }),
        },
        g,
      );
    }
    // Labels, each where it was placed.
    const labels = el('g', { class: 'labels' }, svg);
    placed.forEach((ps, i) => {
      for (const p of ps)
        el('text', { x: p.x, y: rowY(i, p.row), class: p.cls }, labels).textContent = p.text;
    });
    if (d.settle && d.settle.e >= from && d.settle.s <= to) {
      const a = Math.max(plotX, x(d.settle.s));
      const b = Math.min(right, x(d.settle.e));
      el('path', { class: 'settle-bracket', d: `M${a},${lanesEnd + 3} v4 H${b} v-4` }, svg);
      for (const text of [`settle wait ${fmt(d.settle.e - d.settle.s)}`, 'settle']) {
        const w = measure(text, 'settle-label');
        const tx = Math.min(Math.max(a, plotX), right - w);
        if (tx >= plotX) {
          el('text', { x: tx, y: lanesEnd + 16, class: 'settle-label' }, svg).textContent = text;
          break;
        }
      }
    }
    const sel = el(
      'rect',
      { class: 'brush', y: AXIS, height: lanesEnd - AXIS, x: 0, width: 0 },
      svg,
    );
    box.insertBefore(svg, box.querySelector('.tl-detail'));
    box.dataset.from = String(from);
    box.dataset.to = String(to);
    const cap = box.querySelector('.tl-range');
    if (cap) {
      cap.textContent =
        from <= 0 && to >= d.end
          ? `whole run, ${fmt(d.end)}`
          : `showing ${fmt(from)} – ${fmt(to)} of ${fmt(d.end)}`;
    }
    // Zoom by dragging across the picture.
    const tAt = (px: number) =>
      from + ((Math.min(right, Math.max(plotX, px)) - plotX) / plotW) * span;
    let x0: number | undefined;
    const local = (ev: PointerEvent) => ev.clientX - svg.getBoundingClientRect().left;
    svg.addEventListener('pointerdown', (ev) => {
      if (local(ev) < plotX) return;
      x0 = local(ev);
      svg.setPointerCapture(ev.pointerId);
    });
    svg.addEventListener('pointermove', (ev) => {
      if (x0 === undefined) return;
      const x1 = local(ev);
      sel.setAttribute('x', String(Math.min(x0, x1)));
      sel.setAttribute('width', String(Math.abs(x1 - x0)));
    });
    svg.addEventListener('pointerup', (ev) => {
      if (x0 === undefined) return;
      const start = x0;
      x0 = undefined;
      const x1 = local(ev);
      const a = tAt(Math.min(start, x1));
      const b = tAt(Math.max(start, x1));
      // A click is not a zoom: a few pixels at least.
      if (Math.abs(x1 - start) >= 6 && b > a) render(box, d, a, b);
      else sel.setAttribute('width', '0');
    });
    svg.addEventListener('dblclick', () => render(box, d, 0, d.end));
  }

  const boxes: { box: HTMLElement; d: Data }[] = [];
  for (const box of document.querySelectorAll<HTMLElement>('.tl')) {
    const src = box.querySelector('script.tl-data');
    if (!src?.textContent) continue;
    const d = JSON.parse(src.textContent) as Data;
    boxes.push({ box, d });
    render(box, d, 0, d.end);
    // Details of whatever is under the pointer (or tapped), also for marks too small for a label.
    const detail = box.querySelector('.tl-detail');
    const show = (ev: Event) => {
      const hit = (ev.target as Element).closest?.('[data-title]');
      if (hit && detail) detail.textContent = hit.getAttribute('data-title');
    };
    box.addEventListener('pointerover', show);
    box.addEventListener('click', show);
    for (const b of box.querySelectorAll<HTMLButtonElement>('button[data-s]')) {
      b.addEventListener('click', () => {
        const s = Number(b.dataset.s);
        const e = Number(b.dataset.e);
        if (b.dataset.whole) return render(box, d, 0, d.end);
        // The episode takes about two thirds of the width; a moment gets a second around it.
        const pad = e > s ? Math.max((e - s) * 0.25, 5) : 500;
        render(box, d, Math.max(0, s - pad), Math.min(d.end, e + pad));
      });
    }
  }
  let queued = false;
  window.addEventListener('resize', () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      for (const { box, d } of boxes)
        render(box, d, Number(box.dataset.from), Number(box.dataset.to));
    });
  });
}
