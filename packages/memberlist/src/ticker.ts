// The periodic loops of a node (probe scheduling aside): gossip rounds, push/pull, reconnects.
// Each runs like a Go ticker, and the gossip loop may park while there is nothing to send, so an
// idle node does not wake every gossip interval to find its queues empty (issue 17).
import type { Clock, TimerHandle } from './clock.js';

/** Schedules a callback on the node's clock; the state's `after`, which tracks and guards it. */
export type After = (ms: number, fn: () => void) => TimerHandle;

/**
 * Runs `tick` every `intervalMs()`, first after `firstMs`, like Go's tickers: each tick falls
 * due one interval after the previous one was *due*, so a late wake-up (the clock's timer
 * slack, a busy event loop) delays that tick only, not every later one; if a whole interval was
 * missed it runs at once and the cadence starts again from there (Go's ticker drops missed
 * ticks).
 *
 * A tick that returns false parks the ticker: no timer stays armed until `wake()`, which
 * resumes it at the next tick of the same cadence (so a woken ticker runs within one interval,
 * as a running one would have). A tick that throws is reported to `onError` and the ticker
 * keeps running: one failing callback must not end a node's gossip for good.
 */
export class Ticker {
  private due: number;
  private timer: TimerHandle | null;
  private running = false;
  /** `wake()` was called while the tick ran: a parking tick must not park. */
  private woken = false;

  constructor(
    private readonly clock: Clock,
    private readonly after: After,
    private readonly intervalMs: () => number,
    firstMs: number,
    private readonly tick: () => boolean,
    private readonly onError: (err: unknown) => void,
  ) {
    this.due = clock.now() + firstMs;
    this.timer = after(firstMs, this.run);
  }

  /** Resumes a parked ticker at its next tick on the original cadence; no-op if running. */
  wake(): void {
    if (this.running) this.woken = true;
    else if (this.timer === null) this.schedule(true);
  }

  private readonly run = (): void => {
    this.timer = null;
    this.running = true;
    this.woken = false;
    let more = true;
    try {
      more = this.tick();
    } catch (err) {
      this.onError(err);
    } finally {
      this.running = false;
    }
    if (more || this.woken) this.schedule(false);
  };

  /** Arms the next tick: one interval after the last due time, or (if that passed) at once
   * when running, at the next point of the cadence when resuming from a park. */
  private schedule(resume: boolean): void {
    const now = this.clock.now();
    const interval = this.intervalMs();
    this.due += interval;
    if (this.due < now) {
      this.due = resume ? this.due + Math.ceil((now - this.due) / interval) * interval : now;
    }
    this.timer = this.after(this.due - now, this.run);
  }
}
