import type { TestCoordinator } from './coordinator.js';
import { BadRequestError, ConflictError, ScriptSyntaxError, TestkitError } from './errors.js';
import { RunLimitError } from './limits.js';
import {
  parseCompletionBody,
  parseEventFilterBody,
  parseLogBody,
  parsePeerName,
  parsePutResultBody,
} from './protocol.js';

export type FetchHandler = (request: Request) => Promise<Response>;

/** Longest a `/next` long-poll is held before answering 204 (the client simply asks again). */
export const MAX_POLL_MS = 25_000;

const json = (doc: unknown, status = 200) =>
  new Response(JSON.stringify(doc), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
const text = (body: string, status: number) =>
  new Response(`${body}\n`, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });

/**
 * The test server as one runtime-agnostic handler on Web Request/Response. Endpoints of the
 * original accept GET and POST (it ignored the method); bodies are plain text unless JSON.
 * Ours: `/next?peer=P&after=SEQ&wait=MS&run=ID` (long-poll delivery), `/complete` (a line's result, tied to its sequence
 * number so a late answer cannot end the wrong line), `/putlog`, `/timeline`.
 */
export function createTestHandler(coord: TestCoordinator): FetchHandler {
  const routes: Record<string, (req: Request, url: URL) => Promise<Response>> = {
    '/init': async (req) => {
      const name = (await req.text()).trim();
      if (!name) throw new BadRequestError('body must be the test name');
      return json((await coord.init(name)).document());
    },
    '/getcommand': async () => json(coord.run?.document() ?? {}),
    '/getrun': async () => json(coord.run?.document() ?? {}),
    '/removecommand': async (req) => {
      const run = coord.requireRun();
      run.legacyRemoveCommand(parsePeerName(await req.text()));
      return json(run.document());
    },
    '/putresult': async (req) => {
      const r = parsePutResultBody(await req.text());
      const run = coord.requireRun();
      if (r.id !== run.id) throw new ConflictError(`run ${r.id} is not the current run`);
      run.legacyPutResult(r.peer, r.status);
      return json(run.results());
    },
    '/getresults': async () => json(coord.run?.results() ?? {}),
    '/putevent': async (req) => {
      const doc = parseEventFilterBody(await req.text());
      coord.requireRun().putEvent(doc);
      return json(doc);
    },
    '/getevents': async () => json(coord.run?.eventFilters() ?? []),
    '/preparesummary': async (req, url) => {
      // Ours: `?run=ID` keeps a peer of an earlier run from summarising the next one.
      const asked = url.searchParams.get('run');
      if (asked && asked !== coord.run?.id) {
        throw new ConflictError(`run ${asked} is not the current run`);
      }
      const body = (await req.text()).trim();
      return json(await coord.prepareSummary(body ? parsePeerName(body) : undefined));
    },
    '/getsummary': async () => json(coord.summary()),
    '/resetrun': async () => {
      coord.resetRun();
      return json({});
    },
    '/next': async (req, url) => {
      const peer = parsePeerName(url.searchParams.get('peer') ?? '');
      const after = intParam(url, 'after', 0, Number.MAX_SAFE_INTEGER) ?? 0;
      const wait = intParam(url, 'wait', 0, MAX_POLL_MS) ?? MAX_POLL_MS;
      // A client of a run that was reset or replaced is told that its run is over.
      const asked = url.searchParams.get('run');
      if (asked && asked !== coord.run?.id) return json({ type: 'end', id: asked });
      const run = coord.requireRun();
      // A name the script does not use has no lines here; it is not remembered either.
      if (!run.peers.includes(peer)) return json({ type: 'end', id: run.id, name: run.name });
      const d = await run.next(peer, after, wait, req.signal);
      if (d === 'none') return new Response(null, { status: 204 });
      return json(d === 'end' ? { type: 'end', id: run.id, name: run.name } : d);
    },
    '/complete': async (req) => {
      coord.requireRun().complete(parseCompletionBody(await req.text()));
      return json({ ok: true });
    },
    '/putlog': async (req) => {
      const run = coord.requireRun();
      return json(run.putClientLog(parseLogBody(await req.text())));
    },
    '/timeline': async () => json(coord.requireRun().timeline()),
  };

  return async (req) => {
    const url = new URL(req.url);
    const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
    if (!route) return text(`unknown endpoint ${url.pathname}`, 404);
    if (req.method !== 'GET' && req.method !== 'POST') {
      return text(`method ${req.method} not allowed; use GET or POST`, 405);
    }
    try {
      return await route(req, url);
    } catch (err) {
      return errorResponse(err);
    }
  };
}

function intParam(url: URL, key: string, min: number, max: number): number | undefined {
  const v = url.searchParams.get(key);
  if (v === null) return undefined;
  if (!/^\d{1,16}$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new BadRequestError(`query parameter ${key} must be an integer in ${min}..${max}`);
  }
  return Number(v);
}

function errorResponse(err: unknown): Response {
  const oneLine = (s: string) => s.split('\n')[0];
  if (err instanceof BadRequestError || err instanceof ScriptSyntaxError) {
    return text(oneLine(err.message), 400);
  }
  if (err instanceof ConflictError || err instanceof RunLimitError) {
    return text(oneLine(err.message), 409);
  }
  if (err instanceof TestkitError && err.code === 'SCRIPT_NOT_FOUND') return text(err.message, 404);
  return text(`internal error: ${oneLine(err instanceof Error ? err.message : String(err))}`, 500);
}
