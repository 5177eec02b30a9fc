// Documents of the test server protocol. The original's documents (run, results, event filters,
// summary) keep its field names and Go's `omitempty` behaviour; the rest is ours.
import { BadRequestError } from './errors.js';
import { parseCount } from './filter.js';
import type { FaultDetail } from './report/model.js';

export type Status = 'OK' | 'FAILED';
export const RUN_READY = 'READY';
export const RUN_EMPTY = 'EMPTY';

export interface RunDocument {
  id?: string;
  name?: string;
  /** Remaining lines as `<peer> <command line>`; the first one is being executed. */
  commands?: string[];
  currentpeer?: string;
  status?: string;
}

export interface CommandResultDocument {
  peer?: string;
  status?: string;
  data?: string;
}

export interface ResultsDocument {
  id?: string;
  name?: string;
  CommandResults?: CommandResultDocument[];
}

export interface EventFilterDocument {
  id?: string;
  name?: string;
  peer?: string;
  source?: string;
  filter?: string;
  event?: string;
  num_expected_events?: number;
  num_received_events?: number;
  /** Ours: the expected count when it is not exact (`>=2`, `1..3`); an original client omits it. */
  expected?: string;
}

export interface SummaryEntry {
  id?: string;
  name?: string;
  peer?: string;
  status?: Status;
  kind?: 'command' | 'event';
  test?: string;
  result?: string;
  comment?: string;
}

/** What a peer's long-poll (`/next`) hands out: its next script line or a runner control line. */
export interface Dispatch {
  type: 'line' | 'control';
  /** Run id. */
  id: string;
  name: string;
  /** Line sequence number within the run (for `line`), control id (for `control`). */
  seq: number;
  peer: string;
  command: string;
  /** 1-based line number in the script; 0 for control lines. */
  line: number;
  /** The line deadline, and how much of it is left now (the peer stops the command then). */
  deadlineMs: number;
  remainingMs: number;
}

/** Body of `/complete`: the result of a dispatched line or control line. */
export interface Completion {
  id: string;
  seq: number;
  peer: string;
  type: 'line' | 'control';
  status: Status;
  /** Why it failed, one line. */
  error?: string;
}

/** Membership changes and runner faults shown on the report's lanes. */
export type LogKind =
  | 'joined'
  | 'left'
  | 'failed'
  | 'killed'
  | 'stopped'
  | 'continued'
  | 'started'
  | 'exited'
  | 'connected'
  | 'partitioned'
  | 'healed'
  | 'isolated'
  | 'lossy'
  | 'throttled';
export const LOG_KINDS: readonly LogKind[] = [
  'joined',
  'left',
  'failed',
  'killed',
  'stopped',
  'continued',
  'started',
  'exited',
  'connected',
  'partitioned',
  'healed',
  'isolated',
  'lossy',
  'throttled',
];

/** Body of `/putlog`. */
export interface LogEntry {
  id?: string;
  peer: string;
  kind: LogKind;
  text: string;
  /** Milliseconds since the epoch, set by the server when absent. */
  ts?: number;
  /** Set by the runner on the entries of a network fault (never read from `/putlog`). */
  fault?: FaultDetail;
}

/** Go's `omitempty`: drops empty strings, zero numbers, false, null and empty arrays. */
export function omitEmpty<T extends object>(doc: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (v === undefined || v === null || v === '' || v === 0 || v === false) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out as T;
}

export const MAX_FIELD = 4096;
const PEER = /^[@A-Za-z0-9][\w.@-]{0,63}$/;

function field(obj: Record<string, unknown>, key: string, required: boolean): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (required) throw new BadRequestError(`missing field "${key}"`);
    return undefined;
  }
  if (typeof v !== 'string') throw new BadRequestError(`field "${key}" must be a string`);
  if (v.length > MAX_FIELD) throw new BadRequestError(`field "${key}" longer than ${MAX_FIELD}`);
  return v;
}

function count(obj: Record<string, unknown>, key: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1e9) {
    throw new BadRequestError(`field "${key}" must be a non-negative integer`);
  }
  return v;
}

export function parsePeerName(text: string): string {
  const peer = text.trim();
  if (!PEER.test(peer)) throw new BadRequestError(`bad peer name ${JSON.stringify(peer)}`);
  return peer;
}

function parseJsonObject(body: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw new BadRequestError('body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new BadRequestError('body must be a JSON object');
  }
  return v as Record<string, unknown>;
}

export function parseEventFilterBody(body: string): EventFilterDocument {
  const o = parseJsonObject(body);
  const doc: EventFilterDocument = {
    id: field(o, 'id', false),
    name: field(o, 'name', false),
    peer: parsePeerName(field(o, 'peer', true)!),
    source: field(o, 'source', true),
    filter: field(o, 'filter', true),
    event: field(o, 'event', false),
    num_expected_events: count(o, 'num_expected_events'),
    num_received_events: count(o, 'num_received_events'),
    expected: field(o, 'expected', false),
  };
  if (!doc.source) throw new BadRequestError('field "source" is empty');
  if (!doc.filter) throw new BadRequestError('field "filter" is empty');
  if (doc.expected !== undefined) {
    try {
      parseCount(doc.expected);
    } catch (err) {
      throw new BadRequestError(`field "expected": ${(err as Error).message}`);
    }
  }
  return doc;
}

export function parseCompletionBody(body: string): Completion {
  const o = parseJsonObject(body);
  const status = field(o, 'status', true);
  if (status !== 'OK' && status !== 'FAILED') {
    throw new BadRequestError('field "status" must be "OK" or "FAILED"');
  }
  const type = field(o, 'type', false) ?? 'line';
  if (type !== 'line' && type !== 'control') {
    throw new BadRequestError('field "type" must be "line" or "control"');
  }
  const seq = count(o, 'seq');
  if (seq === undefined) throw new BadRequestError('missing field "seq"');
  const error = field(o, 'error', false);
  return {
    id: field(o, 'id', true)!,
    seq,
    peer: parsePeerName(field(o, 'peer', true)!),
    type,
    status,
    ...(error ? { error: error.split('\n')[0] } : {}),
  };
}

export function parseLogBody(body: string): LogEntry {
  const o = parseJsonObject(body);
  const kind = field(o, 'kind', true) as LogKind;
  if (!LOG_KINDS.includes(kind)) {
    throw new BadRequestError(`field "kind" must be one of ${LOG_KINDS.join(', ')}`);
  }
  const ts = o.ts;
  if (ts !== undefined && (typeof ts !== 'number' || !Number.isFinite(ts))) {
    throw new BadRequestError('field "ts" must be a number (ms since epoch)');
  }
  return {
    id: field(o, 'id', false),
    peer: parsePeerName(field(o, 'peer', true)!),
    kind,
    text: field(o, 'text', false) ?? '',
    ...(ts === undefined ? {} : { ts: ts as number }),
  };
}

/** `/putresult` body of the original: `ID NAME PEER STATUS COMMAND...`. */
export function parsePutResultBody(body: string): {
  id: string;
  name: string;
  peer: string;
  status: Status;
  command: string;
} {
  const words = body.trim().split(' ');
  if (words.length < 5) {
    throw new BadRequestError('expected "ID NAME PEER STATUS COMMAND..." separated by spaces');
  }
  const [id, name, peer, status] = words;
  if (status !== 'OK' && status !== 'FAILED') {
    throw new BadRequestError(`STATUS must be OK or FAILED, got ${JSON.stringify(status)}`);
  }
  return { id, name, peer: parsePeerName(peer), status, command: words.slice(4).join(' ') };
}
