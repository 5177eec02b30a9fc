import type { OutputLine } from './types.js';

/**
 * The scrollback: the last `limit` output lines, oldest first. Old lines are dropped so a peer
 * that runs for days holds a bounded amount of memory.
 */
export class OutputBuffer {
  readonly limit: number;
  readonly lines: OutputLine[] = [];
  #dropped = 0;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`output limit must be a positive integer, got ${limit}`);
    }
    this.limit = limit;
  }

  push(line: OutputLine): void {
    if (this.lines.length >= this.limit) {
      this.lines.shift();
      this.#dropped++;
    }
    this.lines.push(line);
  }

  /** How many lines fell out of the buffer since it was created. */
  get dropped(): number {
    return this.#dropped;
  }

  clear(): void {
    this.lines.length = 0;
  }
}
