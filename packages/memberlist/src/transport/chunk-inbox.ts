/**
 * The read side every `StreamConn` shares: chunks queue up until `read()` takes them, one
 * pending reader at a time (the protocol reads a stream sequentially), and `end()` turns the
 * pending and every later read into `null` once the queue is drained.
 */
export class ChunkInbox {
  private readonly chunks: Uint8Array[] = [];
  private waiter: ((v: Uint8Array | null) => void) | null = null;
  private ended = false;

  get isEnded(): boolean {
    return this.ended;
  }

  push(c: Uint8Array): void {
    if (this.ended) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(c);
    } else this.chunks.push(c);
  }

  /** Marks end of stream; returns false if it had already ended. */
  end(): boolean {
    if (this.ended) return false;
    this.ended = true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(null);
    }
    return true;
  }

  read(): Promise<Uint8Array | null> {
    const c = this.chunks.shift();
    if (c) return Promise.resolve(c);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}
