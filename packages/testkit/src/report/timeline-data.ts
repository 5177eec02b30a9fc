import { formatDuration } from '../duration.js';
import { countSatisfied } from '../filter.js';
import type { LogKind } from '../protocol.js';
import type { LogRecord } from '../run.js';
import { RUNNER_PEER } from '../script.js';
import type { FaultDetail, ScriptReport } from './model.js';

/*
 * What the HTML report's timeline draws, in run time (ms from the run's start), without any
 * geometry: the page lays it out to the window's width (timeline-draw.ts), so labels can be
 * measured and never overlap, and so the time axis can zoom.
 */

export type BandKind = 'down' | 'frozen' | 'cut' | 'isolated' | 'lossy' | 'throttled';

export interface TimelineData {
  name: string;
  /** End of the time axis: the last thing that happened, the settle wait included. */
  end: number;
  lanes: { id: string; label: string }[];
  /** Commands: `label` when there is room, else `short` (`L12`); details in `title`. */
  bars: {
    lane: number;
    s: number;
    e: number;
    status: string;
    line: number;
    label: string;
    short: string;
    title: string;
  }[];
  /** Matched events (dots); `ok` false when their filter failed. */
  events: { lane: number; t: number; ok: boolean; title: string }[];
  /** Membership changes seen by a peer. */
  marks: {
    lane: number;
    t: number;
    kind: 'joined' | 'left' | 'failed';
    who: string;
    title: string;
  }[];
  /** Process started, first request for a line. */
  life: { lane: number; t: number; kind: 'started' | 'connected'; title: string }[];
  /** Runner faults on one lane (dashed line and label); `bad` for crashes. */
  faults: { lane: number; t: number; kind: string; label: string; bad: boolean; title: string }[];
  /** Faults on a link between two lanes: an arrow `from` → `to`, both ways unless `oneWay`. */
  links: { from: number; to: number; t: number; oneWay: boolean; label: string; title: string }[];
  /** Periods a peer was down, frozen, cut off, lossy or throttled. */
  bands: { lane: number; s: number; e: number; kind: BandKind; title: string }[];
  /** The wait for expected events after the last line. */
  settle?: { s: number; e: number };
  /** Periods worth zooming to: fault episodes, the settle wait, the first failure. */
  episodes: { label: string; s: number; e: number }[];
}

const MEMBERSHIP = new Set<LogKind>(['joined', 'left', 'failed']);
/** Faults that open a band on the peer's lane, closed by the kind given. */
const OPENS: Partial<Record<LogKind, { kind: BandKind; closedBy: LogKind[]; title: string }>> = {
  killed: { kind: 'down', closedBy: ['started'], title: 'process not running' },
  exited: { kind: 'down', closedBy: ['started'], title: 'process not running' },
  stopped: { kind: 'frozen', closedBy: ['continued'], title: 'process frozen (SIGSTOP)' },
  partitioned: { kind: 'cut', closedBy: ['healed'], title: 'partitioned' },
  isolated: { kind: 'isolated', closedBy: ['healed'], title: 'isolated from every peer' },
  lossy: { kind: 'lossy', closedBy: ['healed'], title: 'losing packets' },
  throttled: { kind: 'throttled', closedBy: ['healed'], title: 'rate limited' },
};

/** Short words for a fault on its lane: `killed`, `loss 10%`, `rate 1mbit`, `isolated`. */
export function faultLabel(kind: string, fault?: FaultDetail): string {
  if (fault?.kind === 'loss') return `loss ${fault.percent ?? '?'}%`;
  if (fault?.kind === 'rate') return `rate ${fault.rate ?? '?'}`;
  return kind;
}

function linkLabel(f: FaultDetail, lanes: string[], heal: boolean): string {
  const name = (p: string) => (p === RUNNER_PEER ? 'runner' : p);
  const arrow = f.oneWay ? '→' : '↔';
  const what = heal ? 'heal' : f.kind === 'loss' ? `loss ${f.percent ?? '?'}%` : 'cut';
  if (!f.from || !f.to || !lanes.includes(f.from) || !lanes.includes(f.to)) return what;
  return `${what} ${name(f.from)}${arrow}${name(f.to)}`;
}

export function timelineData(s: ScriptReport): TimelineData {
  const tl = s.timeline;
  const t0 = tl.startedAt;
  const rel = (ts: number) => Math.max(0, ts - t0);
  const hasRunner = tl.lines.some((l) => l.peer === RUNNER_PEER);
  const ids = [...tl.peers, ...(hasRunner ? [RUNNER_PEER] : [])];
  const lane = (peer: string) => ids.indexOf(peer);
  const settle =
    s.settledAt !== undefined && tl.endedAt !== undefined
      ? { s: rel(tl.endedAt), e: rel(s.settledAt) }
      : undefined;
  const end = Math.max(
    s.durationMs,
    settle?.e ?? 0,
    ...tl.events.map((e) => rel(e.ts)),
    ...tl.logs.map((l) => rel(l.ts)),
    ...tl.lines.map((l) => rel(l.endedAt ?? t0)),
    1,
  );
  const data: TimelineData = {
    name: s.name,
    end,
    lanes: ids.map((id) => ({ id, label: id === RUNNER_PEER ? 'runner' : id })),
    bars: [],
    events: [],
    marks: [],
    life: [],
    faults: [],
    links: [],
    bands: [],
    ...(settle ? { settle } : {}),
    episodes: [],
  };
  for (const l of tl.lines) {
    if (l.startedAt === undefined) continue;
    const status = l.status ?? 'CANCELLED';
    const e = rel(l.endedAt ?? t0 + end);
    const took = formatDuration(e - rel(l.startedAt));
    const who = l.peer === RUNNER_PEER ? '' : `${l.peer} `;
    data.bars.push({
      lane: lane(l.peer),
      s: rel(l.startedAt),
      e,
      status,
      line: l.lineNo,
      label: `${l.command} ${status === 'OK' ? '' : `${status} `}(${took})`,
      short: `L${l.lineNo}`,
      title: `line ${l.lineNo}: ${who}${l.command} — ${status} in ${took}${l.comment ? ` — ${l.comment}` : ''}`,
    });
  }
  const filterOk = new Map(
    tl.filters.map((f) => [
      `${f.peer}\0${f.source}\0${f.filter}`,
      countSatisfied(f.count, f.received),
    ]),
  );
  for (const e of tl.events) {
    if (lane(e.peer) < 0) continue;
    const ok = filterOk.get(`${e.peer}\0${e.source}\0${e.filter}`) ?? false;
    data.events.push({
      lane: lane(e.peer),
      t: rel(e.ts),
      ok,
      title: `${e.peer} saw "${e.text}" (filter ${e.filter}${ok ? '' : ', count wrong'})`,
    });
  }
  addLogs(data, tl.logs, ids, rel, end);
  addEpisodes(data, s);
  return data;
}

function addLogs(
  data: TimelineData,
  logs: LogRecord[],
  ids: string[],
  rel: (ts: number) => number,
  end: number,
): void {
  const lane = (peer: string) => ids.indexOf(peer);
  const seenLinks = new Set<string>();
  const open = new Map<
    string,
    { at: number; kind: BandKind; title: string; closedBy: LogKind[] }
  >();
  for (const l of logs) {
    const i = lane(l.peer);
    if (i < 0) continue;
    const t = rel(l.ts);
    const title = `${l.peer}: ${l.text}`;
    if (l.kind === 'started' || l.kind === 'connected') {
      data.life.push({ lane: i, t, kind: l.kind, title });
      continue;
    }
    if (MEMBERSHIP.has(l.kind)) {
      const who = /^<\w+>\s+(\S+)/.exec(l.text)?.[1] ?? '';
      data.marks.push({ lane: i, t, kind: l.kind as 'joined' | 'left' | 'failed', who, title });
      continue;
    }
    // Bands: a fault opens one on the peer's lane; its counterpart (or any heal) closes it.
    for (const [key, b] of open) {
      if (key.startsWith(`${i}\0`) && b.closedBy.includes(l.kind)) {
        data.bands.push({
          lane: i,
          s: b.at,
          e: Math.max(t, b.at + 1),
          kind: b.kind,
          title: b.title,
        });
        open.delete(key);
      }
    }
    const opens = OPENS[l.kind];
    if (opens && !open.has(`${i}\0${opens.kind}`)) {
      open.set(`${i}\0${opens.kind}`, { at: t, ...opens });
    }
    // A fault on a link between two lanes is drawn once, as an arrow between them.
    const f = l.fault;
    if (f?.from && f.to && lane(f.from) >= 0 && lane(f.to) >= 0) {
      const key = `${l.ts}\0${f.kind}\0${f.from}\0${f.to}`;
      if (!seenLinks.has(key)) {
        seenLinks.add(key);
        data.links.push({
          from: lane(f.from),
          to: lane(f.to),
          t,
          oneWay: Boolean(f.oneWay),
          label: linkLabel(f, ids, l.kind === 'healed'),
          title: l.text,
        });
      }
      continue;
    }
    const bad = l.kind === 'killed' || (l.kind === 'exited' && !/\(code 0,/.test(l.text));
    data.faults.push({ lane: i, t, kind: l.kind, label: faultLabel(l.kind, f), bad, title });
  }
  for (const [key, b] of open) {
    const i = Number(key.split('\0')[0]);
    data.bands.push({ lane: i, s: b.at, e: Math.max(end, b.at + 1), kind: b.kind, title: b.title });
  }
}

/** Zoom targets: each band (merged across lanes when they coincide), the settle wait, the first failure. */
function addEpisodes(data: TimelineData, s: ScriptReport): void {
  const seen = new Set<string>();
  for (const b of [...data.bands].sort((x, y) => x.s - y.s)) {
    const key = `${b.kind}\0${Math.round(b.s / 50)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const who = data.bands
      .filter((o) => o.kind === b.kind && Math.round(o.s / 50) === Math.round(b.s / 50))
      .map((o) => data.lanes[o.lane].label);
    data.episodes.push({ label: `${b.kind}: ${who.join(', ')}`, s: b.s, e: b.e });
  }
  if (data.settle) data.episodes.push({ label: 'settle wait', ...data.settle });
  const failed = data.bars.find((b) => b.status === 'FAILED');
  if (failed)
    data.episodes.push({ label: `first failure (line ${failed.line})`, s: failed.s, e: failed.e });
  else if (!s.ok) {
    const bad = data.events.find((e) => !e.ok);
    if (bad) data.episodes.push({ label: 'first failed event', s: bad.t, e: bad.t });
  }
}
