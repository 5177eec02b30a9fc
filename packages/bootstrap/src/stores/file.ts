import * as nodeFs from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { formatDocument, parseDocument } from '../codec.js';
import {
  type BootstrapOp,
  expirePeers,
  initialData,
  type LeaseTimes,
  normalize,
  step,
} from '../semantics.js';
import { type Store, type StoreOptions, StoreUnavailableError } from '../store.js';
import type { BootstrapData, PeerRecord } from '../types.js';

/**
 * The file-system calls the file store makes, so tests can inject a failure or a crash at each
 * step of a write. Node's `fs/promises` is the default and the only production implementation.
 */
export interface FileStoreFs {
  readFile(path: string, encoding: 'utf8'): Promise<string>;
  /** `w` creates or truncates a file for writing; `r` opens (also a directory) for fsync. */
  open(path: string, flags: 'r' | 'w', mode?: number): Promise<FileStoreHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

export interface FileStoreHandle {
  writeFile(data: string): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FileStoreOptions extends StoreOptions {
  /** File-system calls; default node:fs/promises. For fault-injection tests. */
  fs?: FileStoreFs;
}

interface Pending {
  op: BootstrapOp;
  now: number;
  resolve: (data: BootstrapData) => void;
  reject: (err: unknown) => void;
}

/**
 * State in a file in the original `peers.json` format (Go's MarshalIndent plus a newline), so
 * the original server and this one can take turns on the same file.
 *
 * Durability: every state change is written to a temporary file, fsynced, renamed over the
 * file, and the directory is fsynced; an operation is acknowledged only after that. A crash at
 * any instant therefore leaves either the previous or the new complete file, and the file always
 * holds every acknowledged operation and nothing but a prefix of the serial order.
 *
 * Concurrency: one in-process writer. Operations queue up in arrival order; the writer applies
 * all queued operations one after another in memory and commits the result with one durable
 * write (group commit), then acknowledges them, each with the document right after it. Reads
 * (`list`) answer from the last committed state, so nobody sees a change that is not yet on
 * disk. One server process per file: two processes writing one file would overwrite each
 * other's changes (the same as the original).
 *
 * Lease times (peer TTL) are kept in memory only, so the file stays in the original format; a
 * restart starts every stored peer's lease afresh, which can only keep a peer longer, never
 * drop it early.
 */
export class FileStore implements Store {
  private committed: BootstrapData;
  private leases: LeaseTimes = new Map();
  private queue: Pending[] = [];
  private writer: Promise<void> | undefined;
  private closed = false;
  private readonly tmpPath: string;

  private constructor(
    readonly path: string,
    initial: BootstrapData,
    private readonly dir: FileStoreHandle,
    private readonly ttlMs: number,
    private readonly fs: FileStoreFs,
  ) {
    this.committed = initial;
    this.tmpPath = join(dirname(path), `.${basename(path)}.tmp`);
  }

  /**
   * Opens (or creates, with the original's default config) the state file. An empty file — what
   * the original left behind when it crashed mid-write — counts as "no state yet". A file that
   * is not a bootstrap document is refused rather than overwritten.
   */
  static async open(path: string, opts: FileStoreOptions = {}): Promise<FileStore> {
    const fs = opts.fs ?? nodeFs;
    const full = resolve(path);
    let text: string | undefined;
    try {
      text = await fs.readFile(full, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new StoreUnavailableError(`cannot read ${full}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    let data = initialData();
    if (text !== undefined && text.trim() !== '') {
      try {
        data = normalize(parseDocument(text));
      } catch (err) {
        throw new StoreUnavailableError(
          `${full} is not a bootstrap data document (${(err as Error).message}); refusing to overwrite it`,
          { cause: err },
        );
      }
    }
    let dir: FileStoreHandle;
    try {
      dir = await fs.open(dirname(full), 'r');
    } catch (err) {
      throw new StoreUnavailableError(
        `cannot open directory of ${full}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    const store = new FileStore(full, data, dir, opts.peerTtlMs ?? 0, fs);
    // A temporary file left by a crash mid-write holds an unacknowledged state: discard it.
    await fs.unlink(store.tmpPath).catch(() => {});
    if (text === undefined || text.trim() === '') {
      try {
        await store.writeDurably(data);
      } catch (err) {
        await dir.close();
        throw err;
      }
    }
    return store;
  }

  private submit(op: BootstrapOp, now: number): Promise<BootstrapData> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ op, now, resolve, reject });
      this.writer ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    // Yield first: operations arriving in this same tick join the batch, and `writer` is
    // assigned before drain can finish (it clears `writer` when done).
    await null;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      const leasesBefore = this.ttlMs > 0 ? new Map(this.leases) : this.leases;
      const results: BootstrapData[] = [];
      let state = this.committed;
      for (const p of batch) {
        state = step(state, this.leases, p.op, p.now, this.ttlMs);
        results.push(state);
      }
      if (state !== this.committed) {
        try {
          await this.writeDurably(state);
        } catch (err) {
          this.leases = leasesBefore;
          for (const p of batch) p.reject(err);
          continue;
        }
        this.committed = state;
      }
      for (let i = 0; i < batch.length; i++) batch[i].resolve(results[i]);
    }
    this.writer = undefined;
  }

  /**
   * Replaces the file so that a crash at any instant leaves the old or the new document, never a
   * torn one: write a temporary file, fsync it (its data is on disk), rename it over the file,
   * fsync the directory (the rename is on disk). Only then may the caller acknowledge.
   */
  private async writeDurably(data: BootstrapData): Promise<void> {
    let fh: FileStoreHandle | undefined;
    try {
      fh = await this.fs.open(this.tmpPath, 'w', 0o600);
      await fh.writeFile(`${formatDocument(data)}\n`);
      await fh.sync();
      await fh.close();
      fh = undefined;
      await this.fs.rename(this.tmpPath, this.path);
      await this.dir.sync();
    } catch (err) {
      await fh?.close().catch(() => {});
      throw new StoreUnavailableError(`cannot write ${this.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  join(peer: PeerRecord, now: number): Promise<BootstrapData> {
    return this.submit({ kind: 'join', peer }, now);
  }
  leave(id: string, now: number): Promise<BootstrapData> {
    return this.submit({ kind: 'leave', id }, now);
  }
  refill(peer: PeerRecord, now: number): Promise<BootstrapData> {
    return this.submit({ kind: 'refill', peer }, now);
  }
  /** The last committed state, with expired leases left out (they are dropped on disk by the next write). */
  list(now: number): Promise<BootstrapData> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('store is closed'));
    return Promise.resolve(expirePeers(this.committed, this.leases, now, this.ttlMs));
  }
  reset(now: number): Promise<BootstrapData> {
    return this.submit({ kind: 'reset' }, now);
  }
  config(maxpeers: number, minrefillcandidates: number, now: number): Promise<BootstrapData> {
    return this.submit({ kind: 'config', maxpeers, minrefillcandidates }, now);
  }

  /** Refuses new operations, finishes the queued ones, releases the directory handle. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writer) await this.writer;
    await this.dir.close();
  }
}

export function createFileStore(path: string, opts: FileStoreOptions = {}): Promise<Store> {
  return FileStore.open(path, opts);
}
