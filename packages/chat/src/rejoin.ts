/**
 * Finding the group again: when a peer sees every other member fail (its network went away, or
 * the others think it died), it keeps trying to join the bootstrap peers or cached members, with
 * a growing delay, until memberlist shows other members again.
 */
import type { BootstrapDuty } from './bootstrap-duty.js';
import type { PeerContext } from './peer-context.js';

export interface RejoinOptions {
  /** First and longest delay between attempts. */
  delayMs: { min: number; max: number };
  duty: BootstrapDuty;
  /** Tells the group about this peer again once it is back. */
  announce(): void;
}

export class Rejoin {
  #timer: NodeJS.Timeout | undefined;
  #delay = 0;

  constructor(
    private readonly ctx: PeerContext,
    private readonly opts: RejoinOptions,
  ) {}

  start(): void {
    if (this.#timer || this.ctx.stopping()) return;
    this.#delay = this.opts.delayMs.min;
    this.ctx.out.warn('<warn> this peer is alone now; looking for the group again');
    this.#schedule();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => void this.#attempt(), this.#delay);
    this.#timer.unref();
  }

  async #attempt(): Promise<void> {
    const { ctx } = this;
    const ml = ctx.memberlist();
    this.#timer = undefined;
    if (!ml || ctx.stopping()) return;
    if (ml.numMembers() > 1) {
      ctx.out.info(`<info> rejoined the group: ${ml.numMembers()} members`);
      this.opts.announce();
      return;
    }
    let targets: string[] = [];
    if (this.opts.duty.service) {
      try {
        targets = await this.opts.duty.refreshContacts();
      } catch (e) {
        ctx.log.info('rejoin: bootstrap service unavailable', { error: (e as Error).message });
      }
    }
    if (targets.length === 0) targets = this.opts.duty.cacheTargets();
    let contacted = false;
    if (targets.length > 0 && !ctx.closed()) {
      try {
        await ml.join(targets);
        contacted = true;
      } catch (e) {
        ctx.log.info('rejoin failed', { error: (e as Error).message, targets });
      }
    }
    if (ctx.stopping() || this.#timer) return;
    // A push/pull that got through still needs the others to accept us as alive again (they
    // may hold us as dead until we refute), so success is judged at the next check, soon.
    const { min, max } = this.opts.delayMs;
    this.#delay = contacted ? min : Math.min(max, this.#delay * 2);
    ctx.log.info('rejoin attempt', { contacted, targets, nextMs: this.#delay });
    this.#schedule();
  }
}
