import { deadlineSignal } from './abort.js';
import { TestServerError } from './errors.js';
import type {
  Completion,
  Dispatch,
  EventFilterDocument,
  LogEntry,
  RunDocument,
  SummaryEntry,
} from './protocol.js';

/** Typed calls to a test server. Errors come back as TestServerError (status when it answered). */
export class TestServerClient {
  readonly url: string;
  private readonly timeoutMs: number;

  constructor(url: string, opts: { timeoutMs?: number } = {}) {
    this.url = url.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  async request(
    path: string,
    body?: string,
    opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<Response> {
    const deadline = deadlineSignal(opts.timeoutMs ?? this.timeoutMs, opts.signal);
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method: 'POST',
        body: body ?? '',
        signal: deadline.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const why = deadline.timedOut() ? 'timed out' : (err as Error).message;
      throw new TestServerError(`test server ${this.url}${path}: ${why}`);
    } finally {
      deadline.clear();
    }
    if (res.status >= 400) {
      const text = (await res.text()).trim();
      throw new TestServerError(`test server ${path}: ${res.status} ${text}`, res.status);
    }
    return res;
  }

  async json<T>(
    path: string,
    body?: string,
    opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<T> {
    const res = await this.request(path, body, opts);
    try {
      return (await res.json()) as T;
    } catch {
      throw new TestServerError(`test server ${path}: answer is not JSON`);
    }
  }

  init(name: string): Promise<RunDocument> {
    return this.json('/init', name);
  }

  /** Long-poll: the next line or control line for `peer`, `end`, or undefined (ask again). */
  async next(
    peer: string,
    after: number,
    waitMs: number,
    signal?: AbortSignal,
    runId?: string,
  ): Promise<Dispatch | 'end' | undefined> {
    const run = runId ? `&run=${encodeURIComponent(runId)}` : '';
    const q = `/next?peer=${encodeURIComponent(peer)}&after=${after}&wait=${waitMs}${run}`;
    const res = await this.request(q, undefined, { signal, timeoutMs: waitMs + this.timeoutMs });
    if (res.status === 204) return undefined;
    const doc = (await res.json()) as Dispatch | { type: 'end' };
    return doc.type === 'end' ? 'end' : (doc as Dispatch);
  }

  async complete(c: Completion): Promise<void> {
    await this.request('/complete', JSON.stringify(c));
  }

  async putEvent(doc: EventFilterDocument): Promise<void> {
    await this.request('/putevent', JSON.stringify(doc));
  }

  async putLog(entry: LogEntry): Promise<void> {
    await this.request('/putlog', JSON.stringify(entry));
  }

  getRun(): Promise<RunDocument> {
    return this.json('/getrun');
  }

  getEvents(): Promise<EventFilterDocument[]> {
    return this.json('/getevents');
  }

  getSummary(): Promise<SummaryEntry[]> {
    return this.json('/getsummary');
  }

  /** `runId` makes the server refuse (409) when another run has replaced that one. */
  prepareSummary(peer?: string, runId?: string): Promise<SummaryEntry[]> {
    const run = runId ? `?run=${encodeURIComponent(runId)}` : '';
    return this.json(`/preparesummary${run}`, peer ?? '');
  }

  async resetRun(): Promise<void> {
    await this.request('/resetrun');
  }
}
